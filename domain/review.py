"""The three-level review: who may act on a form, and where each decision sends it.

draft → submitted (at the county) → city_review → province_review → reported. At each level the
official approves (up one level) or returns it with comments on named fields (status
`returned`, remembering the level); the enterprise fixes those fields and resubmits to that level.
The province may also return a reported form while the Ministry's re-check is open.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from domain.campaign import Campaign

Level = Literal["county", "city", "province"]
LEVELS: tuple[Level, ...] = ("county", "city", "province")
LEVEL_NAMES: dict[str, str] = {"county": "区县", "city": "市", "province": "省"}

# The status of a form waiting at each level.
WAITING: dict[Level, str] = {
    "county": "submitted",
    "city": "city_review",
    "province": "province_review",
}
REPORTED = "reported"
RETURNED = "returned"
UNDER_REVIEW = frozenset(WAITING.values())
EDITABLE = ("draft", RETURNED)  # a contact may change the form


class ReviewError(Exception):
    """The decision does not apply to the form as it stands now."""


def waiting_level(status: str) -> Level | None:
    """The level a form in this status waits for, if any."""
    return next((level for level, waiting in WAITING.items() if waiting == status), None)


def after_approval(status: str, level: Level) -> str:
    """通过 at `level`: the next level's queue, or reported after the province."""
    if waiting_level(status) != level:
        raise ReviewError(f"not waiting at {level}")
    index = LEVELS.index(level)
    return WAITING[LEVELS[index + 1]] if index + 1 < len(LEVELS) else REPORTED


def may_return(status: str, level: Level, campaign: Campaign, today: date) -> bool:
    """退回 at `level`: a form waiting there, or a reported one while the re-check is open."""
    if waiting_level(status) == level:
        return True
    recheck = campaign.stage("ministry_recheck")
    return (
        level == "province"
        and status == REPORTED
        and recheck.start <= today <= (recheck.end or recheck.start)
    )


def after_resubmission(returned_by: Level) -> str:
    """A returned form, fixed, goes back to the level that returned it."""
    return WAITING[returned_by]


@dataclass(frozen=True, slots=True)
class Jurisdiction:
    """Where an official acts: a county-level code, a city code, or the province's code."""

    level: Level
    code: str

    def covers(self, region_code: str | None) -> bool:
        if not region_code:
            return False
        if self.level == "county":
            return region_code == self.code
        if self.level == "city":
            return region_code[:4] == self.code[:4]
        return region_code[:2] == self.code[:2]
