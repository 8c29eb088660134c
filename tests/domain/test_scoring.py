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
from domain.scoring import (
    INDICATORS,
    Score,
    _normalise,
    bonus,
    development_stage,
    raw_values,
    score_cohort,
)
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
    assert min(s.core for s in efficacy if s.indicators[3].raw) >= 60  # type: ignore[type-var]
    bands = {
        ind.id: [
            NormalisedBand(at_least=D(-(10**9)), value=0.5),
            NormalisedBand(at_least=D(10**9), value=1),
        ]
        for ind in INDICATORS
    }
    banded = score_cohort(records, with_normaliser(catalog.campaign, "bands", bands=bands))
    without_zeros = [all(x != 0 for x in raw_values(r)) for r in records]
    assert {round(s.core, 6) for s, ok in zip(banded, without_zeros, strict=True) if ok} == {50.0}
    assert not all(without_zeros)  # … an indicator at 0 earns nothing in a band either
    assert all(s.core < 50 for s, ok in zip(banded, without_zeros, strict=True) if not ok)  # type: ignore[operator]


def test_one_enterprise_against_the_others_matches_the_whole_cohort(catalog: Catalog) -> None:
    from domain.scoring import score_against

    records = cohort(catalog, 50)
    whole = score_cohort(records, catalog.campaign)[-1]
    alone = score_against(records[-1], [raw_values(r) for r in records[:-1]], catalog.campaign)
    assert alone == whole
    small = score_against(records[-1], [raw_values(r) for r in records[:5]], catalog.campaign)
    assert small.core is None and small.cohort_size == 6


def test_zero_earns_nothing_and_the_rest_rank_among_the_whole_cohort(catalog: Catalog) -> None:
    records = cohort(catalog, 30)
    for i, r in enumerate(records):
        r["invention_patents"] = 0 if i < 20 else i  # 20 at 0, then 20 … 29
        r["ip_count"] = 100
    scores = score_cohort(records, catalog.campaign)
    patents = [s.indicators[3] for s in scores]
    assert all(p.normalised == p.points == 0 and p.note == "为 0，不得分" for p in patents[:20])
    # the non-zero ones keep their place in the whole cohort: 20/29 … 29/29, not 0 … 9/9
    assert [p.normalised for p in patents[20:]] == pytest.approx([k / 29 for k in range(20, 30)])
    assert patents[20].points == pytest.approx(11 * 20 / 29)  # 成长期 weight 11
    assert all(p.effective_weight == 11 for p in patents)  # a zero keeps its weight


def test_a_loss_on_negative_equity_earns_nothing_and_keeps_its_weight(catalog: Catalog) -> None:
    def scored(equity: int) -> Score:
        records = cohort(catalog, 40)
        records[0] = {
            **records[0],
            "net_profit": D("-5"),
            "equity_begin": D(equity),
            "equity_end": D(equity),
        }
        return score_cohort(records, catalog.campaign)[0]

    negative, positive = scored(-15), scored(15)
    roe = negative.indicators[8]
    assert roe.raw is None and roe.normalised == 0 and roe.points == 0
    assert roe.effective_weight == 5  # 成长期: kept, not spread over the others
    assert roe.note == "净利润不大于 0 且平均所有者权益不大于 0，计 0 分"
    assert sum(i.effective_weight for i in negative.indicators) == pytest.approx(100)
    # the loss on negative equity no longer scores above the same loss on positive equity
    assert negative.core is not None and positive.core is not None
    assert negative.core <= positive.core
    assert positive.indicators[8].raw == pytest.approx(-5 * 100 / 15)


def test_a_profit_on_negative_equity_stays_undefined(catalog: Catalog) -> None:
    records = cohort(catalog, 40)
    records[0] = {**records[0], "equity_begin": D("-10"), "equity_end": D("-20")}
    roe = score_cohort(records, catalog.campaign)[0].indicators[8]
    assert roe.raw is None and roe.points is None and "权重分摊到其他指标" in roe.note


def test_an_unscorable_record_is_neither_scored_nor_counted(catalog: Catalog) -> None:
    records = cohort(catalog, 30)
    reason = "未通过 S1（营业收入不小于主营业务收入）"
    scores = score_cohort(records, catalog.campaign, {0: reason})
    assert scores[0].core is None and scores[0].total is None
    assert scores[0].note == f"未计分：{reason}"
    assert all(s.core is None and s.cohort_size == 29 for s in scores[1:])  # 29 < 30
    counted = score_cohort(records[1:], catalog.campaign)
    with_one_more = score_cohort([*records, records[1]], catalog.campaign, {0: reason})
    assert all(s.core is not None for s in with_one_more[1:])
    assert counted[0].core != with_one_more[1].core  # the 30th counts; the unscorable never
