"""When a form may be submitted and when each review level is due: the campaign's stages,
moved by the province's extensions.

A first submission is taken within the collection stage; a returned form's resubmission from
then through the review stages (the Ministry's re-check included). An extension names the whole
province, a city, a county or one enterprise; for each of those the latest word holds, and an
enterprise's deadline is the latest of the campaign's and of every extension covering it. The
review levels get the same days more for that enterprise's form, so an extension does not make
its reviewers late.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from domain.campaign import Campaign
from domain.review import Jurisdiction, Level
from domain.text import folded

Scope = Literal["province", "city", "county", "enterprise"]
SCOPES: tuple[Scope, ...] = ("province", "city", "county", "enterprise")
Where = Literal["open", "not_yet", "closed"]

# The stage whose last day is each review level's deadline.
REVIEW_STAGE: dict[Level, str] = {
    "county": "local_review",
    "city": "local_review",
    "province": "province_review",
}


@dataclass(frozen=True, slots=True)
class Extension:
    scope: Scope
    code: str  # a region code (province, city, county) or the enterprise's credit code
    until: date

    def covers(self, region_code: str | None, credit_code: str) -> bool:
        if self.scope == "enterprise":
            return self.code == credit_code
        return Jurisdiction(self.scope, self.code).covers(region_code)


def extended_until(
    extensions: list[Extension], region_code: str | None, credit_code: str
) -> date | None:
    """The latest extension covering the enterprise (each place's latest word is passed)."""
    dates = [e.until for e in extensions if e.covers(region_code, credit_code)]
    return max(dates, default=None)


def _last_day(campaign: Campaign, key: str) -> date:
    stage = campaign.stage(key)
    return stage.end or stage.start


@dataclass(frozen=True, slots=True)
class Window:
    """The days a form may be submitted: `opens` through `closes`."""

    opens: date
    closes: date
    extended: bool = False  # `closes` is an extension's, not the campaign's

    def where(self, day: date) -> Where:
        if day < self.opens:
            return "not_yet"
        return "closed" if day > self.closes else "open"


def submission_window(campaign: Campaign, returned: bool, extension: date | None) -> Window:
    """A first submission's window (collection), or a returned form's (through the re-check)."""
    opens = campaign.stage("collection").start
    closes = _last_day(campaign, "ministry_recheck" if returned else "collection")
    if extension is not None and extension > closes:
        return Window(opens, extension, extended=True)
    return Window(opens, closes)


def review_deadline(campaign: Campaign, level: Level, extension: date | None) -> date:
    """The last day `level` has for a form, moved by the days its enterprise was given."""
    collection = _last_day(campaign, "collection")
    more = max(timedelta(0), extension - collection) if extension else timedelta(0)
    return _last_day(campaign, REVIEW_STAGE[level]) + more


def overdue(campaign: Campaign, level: Level, extension: date | None, today: date) -> bool:
    """逾期: a form still waiting at `level` after that level's deadline."""
    return today > review_deadline(campaign, level, extension)


_DAY = re.compile(r"(?:(\d{4})\s*[-/.年]\s*)?(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")


def read_day(text: str, year: int) -> date | None:
    """A deadline as an official types it: 2026-07-03, 2026年7月3日, 7月3日 (the campaign's
    year) or 7.3; None when it is not a day."""
    match = _DAY.fullmatch(folded(text))
    if match is None:
        return None
    given, month, day = match.groups()
    try:
        return date(int(given) if given else year, int(month), int(day))
    except ValueError:
        return None
