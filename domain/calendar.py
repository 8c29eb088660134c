"""The campaign calendar: which reminders are due on a day, and when they may go out.

Working days come from chinese-calendar (public holidays and the weekend days worked in their
place), not from a hand-typed list.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar

from domain.campaign import Campaign, ReminderKind, Stage


def is_working_day(day: date) -> bool:
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:  # a year the package does not know yet: Monday to Friday
        return day.weekday() < 5


def local(campaign: Campaign, moment: datetime) -> datetime:
    return moment.astimezone(ZoneInfo(campaign.timezone))


def sending_now(campaign: Campaign, moment: datetime) -> bool:
    """Within the configured hours of a day reminders may go out."""
    rules = campaign.reminders
    at = local(campaign, moment)
    if rules.working_days_only and not is_working_day(at.date()):
        return False
    return rules.send_from <= at.time() < rules.send_until


def _working(campaign: Campaign, day: date) -> bool:
    return not campaign.reminders.working_days_only or is_working_day(day)


def _earlier_working(campaign: Campaign, day: date, not_before: date) -> date:
    """`day`, or the working day before it; if that falls before `not_before`, the next one."""
    shifted = day
    while not _working(campaign, shifted) and shifted > not_before:
        shifted -= timedelta(days=1)
    while not _working(campaign, shifted):
        shifted += timedelta(days=1)
    return shifted


def _end(campaign: Campaign, kind: ReminderKind) -> date | None:
    last: Stage = campaign.stage(kind.until_stage or kind.stage)
    return last.end


def due_days(campaign: Campaign, name: str, end: date | None = None) -> set[date] | None:
    """The days a `start` or `before_end` reminder is due; None for a daily one. `end`: the
    stage's last day as extended for the recipient (the countdown to an extended deadline)."""
    kind = campaign.reminders.kinds[name]
    stage = campaign.stage(kind.stage)
    if kind.on == "daily":
        return None
    if kind.on == "start":
        return {_earlier_working(campaign, stage.start, stage.start)}
    end = end or stage.end or stage.start
    return {_earlier_working(campaign, end - timedelta(days=d), stage.start) for d in kind.days}


def due_on(campaign: Campaign, day: date) -> list[str]:
    """The reminder kinds due on `day` (a local calendar day)."""
    due = []
    for name, kind in campaign.reminders.kinds.items():
        if not kind.enabled:
            continue
        days = due_days(campaign, name)
        if days is None:
            start, end = campaign.stage(kind.stage).start, _end(campaign, kind)
            if start <= day and (end is None or day <= end) and _working(campaign, day):
                due.append(name)
        elif day in days:
            due.append(name)
    return due


def days_left(campaign: Campaign, stage_key: str, day: date, end: date | None = None) -> int:
    """Whole days from `day` to the stage's last day, or `end` (0 on the day itself)."""
    stage = campaign.stage(stage_key)
    return ((end or stage.end or stage.start) - day).days
