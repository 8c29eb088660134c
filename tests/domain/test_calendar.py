"""The campaign calendar: which reminders are due when, holidays and sending hours."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.calendar import due_on, is_working_day, sending_now
from domain.campaign import Campaign

SHANGHAI = ZoneInfo("Asia/Shanghai")


def days_of(campaign: Campaign, kind: str, start: date, end: date) -> list[date]:
    found, day = [], start
    while day <= end:
        if kind in due_on(campaign, day):
            found.append(day)
        day += timedelta(days=1)
    return found


def test_public_holidays_and_make_up_days_come_from_chinese_calendar() -> None:
    assert not is_working_day(date(2026, 6, 19))  # 端午节
    assert is_working_day(date(2026, 6, 22))
    assert not is_working_day(date(2026, 10, 1))
    assert is_working_day(date(2026, 10, 10))  # a Saturday worked in its place


def test_the_collection_countdown_moves_off_the_dragon_boat_holiday(campaign: Campaign) -> None:
    # 7, 3, 1 and 0 days before 26 June: the 19th is 端午节, so the working day before it
    assert days_of(campaign, "countdown", date(2026, 6, 1), date(2026, 7, 31)) == [
        date(2026, 6, 18),
        date(2026, 6, 23),
        date(2026, 6, 25),
        date(2026, 6, 26),
    ]


def test_the_opening_notice_on_the_first_working_day_of_collection(campaign: Campaign) -> None:
    # collection opens Saturday 13 June
    assert days_of(campaign, "opening", date(2026, 6, 1), date(2026, 9, 30)) == [date(2026, 6, 15)]


def test_daily_reminders_only_on_working_days_of_their_window(campaign: Campaign) -> None:
    digest = days_of(campaign, "local_digest", date(2026, 6, 1), date(2026, 9, 30))
    assert digest[0] == date(2026, 6, 29) and date(2026, 7, 3) in digest
    assert date(2026, 7, 4) not in digest  # a Saturday
    assert digest[-1] == date(2026, 7, 31)  # on past the window while forms wait (逾期)
    returned = days_of(campaign, "returned", date(2026, 6, 1), date(2026, 9, 30))
    assert returned[0] == date(2026, 6, 15) and returned[-1] == date(2026, 7, 13)
    recheck = days_of(campaign, "recheck", date(2026, 6, 1), date(2026, 9, 30))
    assert recheck[0] == date(2026, 7, 13) and recheck[-1] == date(2026, 7, 31)


def test_officials_countdowns_and_results(campaign: Campaign) -> None:
    assert days_of(campaign, "local_countdown", date(2026, 6, 1), date(2026, 9, 30)) == [
        date(2026, 7, 3)
    ]  # 2 days before 5 July and the 5th itself (a Sunday) → Friday
    assert days_of(campaign, "province_countdown", date(2026, 6, 1), date(2026, 9, 30)) == [
        date(2026, 7, 10),
        date(2026, 7, 13),
    ]
    assert days_of(campaign, "results", date(2026, 6, 1), date(2026, 9, 30)) == [date(2026, 8, 3)]


@pytest.mark.parametrize(
    ("moment", "allowed"),
    [
        (datetime(2026, 6, 18, 8, 59, tzinfo=SHANGHAI), False),
        (datetime(2026, 6, 18, 9, 0, tzinfo=SHANGHAI), True),
        (datetime(2026, 6, 18, 17, 59, tzinfo=SHANGHAI), True),
        (datetime(2026, 6, 18, 18, 0, tzinfo=SHANGHAI), False),
        (datetime(2026, 6, 19, 10, 0, tzinfo=SHANGHAI), False),  # holiday
        (datetime(2026, 6, 18, 2, 0, tzinfo=ZoneInfo("UTC")), True),  # 10:00 in Shanghai
    ],
)
def test_sending_hours(campaign: Campaign, moment: datetime, allowed: bool) -> None:
    assert sending_now(campaign, moment) is allowed


def test_a_switched_off_reminder_never_fires(campaign: Campaign) -> None:
    kinds = dict(campaign.reminders.kinds)
    kinds["countdown"] = kinds["countdown"].model_copy(update={"enabled": False})
    reminders = campaign.reminders.model_copy(update={"kinds": kinds})
    off = campaign.model_copy(update={"reminders": reminders})
    assert days_of(off, "countdown", date(2026, 6, 1), date(2026, 7, 31)) == []
