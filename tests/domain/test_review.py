"""The review state machine and jurisdictions."""

from __future__ import annotations

from datetime import date

import pytest

from domain.campaign import Campaign
from domain.review import (
    Jurisdiction,
    ReviewError,
    after_approval,
    after_resubmission,
    may_return,
    waiting_level,
)


def test_approval_moves_a_form_up_one_level() -> None:
    assert after_approval("submitted", "county") == "city_review"
    assert after_approval("city_review", "city") == "province_review"
    assert after_approval("province_review", "province") == "reported"


@pytest.mark.parametrize(
    ("status", "level"),
    [
        ("submitted", "city"),
        ("city_review", "county"),
        ("draft", "county"),
        ("reported", "province"),
        ("returned", "county"),
    ],
)
def test_approval_only_at_the_level_the_form_waits_for(status: str, level: str) -> None:
    with pytest.raises(ReviewError):
        after_approval(status, level)  # type: ignore[arg-type]


def test_returns_and_resubmission(campaign: Campaign) -> None:
    in_collection = date(2026, 6, 20)
    assert may_return("submitted", "county", campaign, in_collection)
    assert not may_return("submitted", "city", campaign, in_collection)
    assert after_resubmission("county") == "submitted"
    assert after_resubmission("city") == "city_review"
    assert after_resubmission("province") == "province_review"
    assert waiting_level("province_review") == "province" and waiting_level("draft") is None


@pytest.mark.parametrize(
    ("day", "allowed"),
    [
        (date(2026, 7, 12), False),
        (date(2026, 7, 13), True),
        (date(2026, 7, 31), True),
        (date(2026, 8, 1), False),
    ],
)
def test_the_province_returns_a_reported_form_during_the_recheck(
    campaign: Campaign, day: date, allowed: bool
) -> None:
    assert may_return("reported", "province", campaign, day) is allowed
    assert not may_return("reported", "city", campaign, day)


@pytest.mark.parametrize(
    ("level", "code", "region", "covered"),
    [
        ("county", "210211", "210211", True),
        ("county", "210211", "210212", False),
        ("city", "210200", "210211", True),
        ("city", "210200", "210102", False),
        ("province", "210000", "211481", True),
        ("province", "210000", "110108", False),
        ("county", "210211", None, False),
    ],
)
def test_jurisdictions(level: str, code: str, region: str | None, covered: bool) -> None:
    assert Jurisdiction(level, code).covers(region) is covered  # type: ignore[arg-type]
