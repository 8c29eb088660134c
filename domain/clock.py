"""The product's one clock: what "now" and "today" are for services, reminders and handlers.

`CXJF_TODAY` (and `chat --demo` outside the collection window) pins the calendar day a process
starts on, for demos and trials. The time of day stays real and runs on from there, so stored
times keep their order and a bot running past midnight moves to the next day as a real one would.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, tzinfo

_shift = timedelta(0)


def pin(day: date | None, zone: tzinfo) -> None:
    """From now on, `day` is today in `zone` (None: the real calendar again)."""
    global _shift
    real = datetime.now(UTC).astimezone(zone).date()
    _shift = timedelta(days=(day - real).days) if day else timedelta(0)


def pinned() -> bool:
    return bool(_shift)


def now() -> datetime:
    """The current moment, in UTC, on the product's calendar."""
    return datetime.now(UTC) + _shift


def today(zone: tzinfo) -> date:
    """The calendar day in `zone` (the campaign's local day)."""
    return now().astimezone(zone).date()
