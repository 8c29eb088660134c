"""The estimated score (scoring.md): stage, indicators, normalisers, bonus, invariants."""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal as D
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.campaign import Campaign, NormalisedBand
from domain.catalog import LISTED, Catalog
from domain.scoring import INDICATORS, _normalise, bonus, development_stage, score_cohort
from tests.factories import typed_record

Record = dict[str, object]


def cohort(catalog: Catalog, size: int, seed: int = 1) -> list[Record]:
    """`size` enterprises all in 成长期 (registered 2016–2022)."""
    rng = random.Random(seed)
    records = [typed_record(rng, catalog) for _ in range(size)]
    for r in records:
        r["registration_date"] = date(rng.randint(2016, 2022), rng.randint(1, 12), 1)
    return records


def with_normaliser(campaign: Campaign, name: str, **extra: object) -> Campaign:
    scoring = campaign.scoring.model_copy(update={"normaliser": name, **extra})
    return campaign.model_copy(update={"scoring": scoring})


@pytest.mark.parametrize(
    ("registered", "stage"),
    [
        (date(2023, 1, 1), "初创期"),
        (date(2025, 6, 1), "初创期"),
        (date(2022, 12, 31), "成长期"),
        (date(2016, 1, 1), "成长期"),
        (date(2015, 12, 31), "稳定期"),
        (date(1990, 1, 1), "稳定期"),
    ],
)
def test_development_stage_by_full_years(campaign: Campaign, registered: date, stage: str) -> None:
    assert development_stage(registered, campaign) == stage


@pytest.mark.parametrize(
    ("counts", "points"),
    [
        ({}, 0),
        ({"provincial_projects": 1}, 4),
        ({"provincial_awards": 2}, 8),
        ({"municipal_projects": 1, "municipal_awards": 1}, 4),
        ({"standards_count": 1}, 5),
        ({"standards_count": 1, "provincial_projects": 1}, 9),
        ({"standards_count": 2}, 10),
        ({"provincial_projects": 3}, 10),  # capped at 10
    ],
)
def test_bonus_projects_awards_standards(
    campaign: Campaign, counts: dict[str, int], points: int
) -> None:
    assert bonus(counts, campaign)["projects"] == points


@pytest.mark.parametrize(
    ("amount", "points"),
    [
        ("0", 0),
        ("0.01", 1),
        ("499.99", 1),
        ("500", 4),
        ("999.99", 4),
        ("1000", 7),
        ("1999.99", 7),
        ("2000", 10),
        ("50000", 10),
    ],
)
def test_bonus_financing_bands(campaign: Campaign, amount: str, points: int) -> None:
    assert bonus({"financing_amount": D(amount)}, campaign)["financing"] == points


@pytest.mark.parametrize(
    ("answers", "points"),
    [
        ({"qualifications": ("无",)}, 0),
        ({"qualifications": ("高新技术企业",)}, 5),
        ({"ranking_list_name": "榜", "ranking_list_level": "省级"}, 3),
        ({"ranking_list_name": "榜", "ranking_list_level": "国家"}, 5),
        (
            {
                "ranking_list_name": "榜",
                "ranking_list_level": "国家",
                "qualifications": ("瞪羚企业",),
            },
            10,
        ),
        (
            {
                "ranking_list_name": "榜",
                "ranking_list_level": "国际",
                "qualifications": ("瞪羚企业",),
            },
            10,
        ),
        ({"ranking_list_level": "国际"}, 0),  # a level without a list is no ranking
        ({"ranking_list_name": "榜", "ranking_list_level": "市级"}, 0),  # accepted, earns 0
        (
            {
                "ranking_list_name": "瞪羚企业名单",
                "ranking_list_rank": LISTED,  # a list without positions counts as a list
                "ranking_list_level": "省级",
            },
            3,
        ),
    ],
)
def test_bonus_rankings_and_qualifications(
    campaign: Campaign, answers: Record, points: int
) -> None:
    assert bonus(answers, campaign)["rankings"] == points


def test_core_needs_the_minimum_cohort(catalog: Catalog) -> None:
    small = score_cohort(cohort(catalog, 29), catalog.campaign)
    assert all(s.core is None and s.total is None for s in small)
    assert "不足 30 家" in small[0].note and small[0].bonus > 0
    assert all(s.core is not None for s in score_cohort(cohort(catalog, 30), catalog.campaign))


def test_invariants_over_a_cohort(catalog: Catalog) -> None:
    scores = score_cohort(cohort(catalog, 300), catalog.campaign)
    for s in scores:
        assert s.core is not None and 0 <= s.core <= 100
        assert 0 <= s.bonus <= 30 and s.total == pytest.approx(s.core + float(s.bonus))
        assert sum(i.effective_weight for i in s.indicators) == pytest.approx(100)
        assert s.core == pytest.approx(sum(i.points or 0 for i in s.indicators))
    assert min(s.core for s in scores) < 30 < 70 < max(s.core for s in scores)  # type: ignore[operator]


def test_reproducible_and_independent_of_order(catalog: Catalog) -> None:
    records = cohort(catalog, 120)
    first = score_cohort(records, catalog.campaign)
    order = list(range(len(records)))
    random.Random(5).shuffle(order)
    shuffled = score_cohort([records[i] for i in order], catalog.campaign)
    assert [first[i] for i in order] == shuffled


def test_an_undefined_indicator_spreads_its_weight(catalog: Catalog) -> None:
    records = cohort(catalog, 40)
    records[0] = {**records[0], "rd_staff": 0}
    score = score_cohort(records, catalog.campaign)[0]
    ip = next(i for i in score.indicators if i.id == "ip_per_100_rd_staff")
    assert ip.raw is None and ip.points is None and "研发人员为 0" in ip.note
    share = next(i for i in score.indicators if i.id == "rd_staff_share")
    assert share.raw == 0 and share.effective_weight == pytest.approx(20 * 100 / 90)


def test_ties_share_their_mean_rank(catalog: Catalog) -> None:
    records = cohort(catalog, 40)
    for r in records:
        r["invention_patents"] = 3
    scores = score_cohort(records, catalog.campaign)
    assert {s.indicators[3].normalised for s in scores} == {0.5}


@given(
    values=st.lists(st.one_of(st.none(), st.floats(-1e6, 1e6)), min_size=2, max_size=60),
    method=st.sampled_from(["percentile", "min_max", "efficacy"]),
)
def test_normalisers_are_monotone_and_bounded(
    campaign: Campaign, values: list[float | None], method: str
) -> None:
    scaled = _normalise(with_normaliser(campaign, method), "rd_expense", values)
    pairs = sorted((x, n) for x, n in zip(values, scaled, strict=True) if x is not None)
    assert all(n is not None and 0 <= n <= 1 for _, n in pairs)
    assert all(a[1] <= b[1] for a, b in pairwise(pairs))  # type: ignore[operator]
    assert all(n is None for x, n in zip(values, scaled, strict=True) if x is None)


@settings(max_examples=25, deadline=None)
@given(
    who=st.integers(0, 39),
    field=st.sampled_from(["rd_expense", "invention_patents", "tech_contract_output", "ip_count"]),
    extra=st.integers(1, 5000),
)
def test_more_of_an_indicator_never_lowers_the_core(
    catalog: Catalog, who: int, field: str, extra: int
) -> None:
    records = cohort(catalog, 40)
    before = score_cohort(records, catalog.campaign)[who].core
    raised = dict(records[who])
    raised[field] = raised[field] + (D(extra) if isinstance(raised[field], D) else extra)  # type: ignore[operator]
    records[who] = raised
    after = score_cohort(records, catalog.campaign)[who].core
    assert after is not None and before is not None and after >= before - 1e-9


def test_other_normalisers_are_selectable(catalog: Catalog) -> None:
    records = cohort(catalog, 40)
    for method in ("min_max", "efficacy"):
        scores = score_cohort(records, with_normaliser(catalog.campaign, method))
        assert all(s.core is not None and 0 <= s.core <= 100 for s in scores)
    efficacy = score_cohort(records, with_normaliser(catalog.campaign, "efficacy"))
    assert min(s.core for s in efficacy) >= 60  # type: ignore[type-var]
    bands = {
        ind.id: [
            NormalisedBand(at_least=D(-(10**9)), value=0.5),
            NormalisedBand(at_least=D(10**9), value=1),
        ]
        for ind in INDICATORS
    }
    banded = score_cohort(records, with_normaliser(catalog.campaign, "bands", bands=bands))
    assert {round(s.core, 6) for s in banded if s.core is not None} == {50.0}


def test_one_enterprise_against_the_others_matches_the_whole_cohort(catalog: Catalog) -> None:
    from domain.scoring import raw_values, score_against

    records = cohort(catalog, 50)
    whole = score_cohort(records, catalog.campaign)[-1]
    alone = score_against(records[-1], [raw_values(r) for r in records[:-1]], catalog.campaign)
    assert alone == whole
    small = score_against(records[-1], [raw_values(r) for r in records[:5]], catalog.campaign)
    assert small.core is None and small.cohort_size == 6
