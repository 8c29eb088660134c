"""The estimated innovation score (预估积分) of "创新积分制 2.0" (spec: scoring.md).

Nine indicators, normalised within the cohort of the same development stage and weighted by
stage, make the core (0–100); three capped bonus items make up to 30 more. The official
raw-value → points method is not published, so every figure here is an estimate whose method
(normaliser, cohort minimum, weights) is campaign configuration, and every score carries its
breakdown.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

import numpy as np

from domain.campaign import Campaign
from domain.rules.base import Values


def raw_values(v: Values) -> tuple[float | None, ...]:
    """The nine indicators of one enterprise, in `INDICATORS` order; None where undefined.

    One function rather than nine: scoring a 100,000-enterprise cohort calls it per record.
    """
    g = v.get
    rd, revenue, prev = g("rd_expense"), g("operating_revenue"), g("operating_revenue_prev")
    employees, rd_staff, ip = g("employees"), g("rd_staff"), g("ip_count")
    absorbed, output = g("tech_contract_absorbed"), g("tech_contract_output")
    profit, begin, end = g("net_profit"), g("equity_begin"), g("equity_end")
    patents, main = g("invention_patents"), g("main_business_revenue")
    equity = None if begin is None or end is None else (begin + end) / 2  # type: ignore[operator]
    loss_without_equity = equity is not None and equity <= 0 and profit is not None and profit <= 0  # type: ignore[operator]
    return (
        None if rd is None else float(rd),  # type: ignore[arg-type]
        _per_hundred(rd, revenue),
        _per_hundred(rd_staff, employees),
        None if patents is None else float(patents),  # type: ignore[arg-type]
        _per_hundred(ip, rd_staff),
        None if absorbed is None or output is None else float(absorbed + output),  # type: ignore[operator, arg-type]
        None if main is None else float(main),  # type: ignore[arg-type]
        _per_hundred(None if revenue is None or prev is None else revenue - prev, prev),  # type: ignore[operator]
        LOSS_WITHOUT_EQUITY if loss_without_equity else _per_hundred(profit, equity),
    )


LOSS_WITHOUT_EQUITY = -1e300
"""净资产利润率 of a loss on average equity ≤ 0: below every real ratio, so ranked lowest, and
0 points with its weight kept. A loss over negative equity would otherwise be undefined (its
weight spread over the rest) or, divided out, a positive ratio; either hides the loss. Finite,
unlike -inf, so the stored indicators stay JSON."""


def _per_hundred(top: object, bottom: object) -> float | None:
    """top / bottom × 100; undefined when either is missing or the bottom is not positive."""
    if top is None or bottom is None or bottom <= 0:  # type: ignore[operator]
        return None
    return float(top) * 100 / float(bottom)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class Indicator:
    id: str
    name: str
    category: str
    unit: str
    undefined_when: str = ""  # why the value can be undefined, for the breakdown
    signed: bool = False  # a rate that may fall below 0, where 0 is a middle value

    def earns_nothing(self, raw: float) -> bool:
        """0 points whatever the cohort: none of a quantity (scoring.md: zero earns nothing),
        or a loss on no equity."""
        return raw == LOSS_WITHOUT_EQUITY or (not self.signed and raw <= 0)


INDICATORS: tuple[Indicator, ...] = (
    Indicator("rd_expense", "研发费用金额", "创新投入", "万元"),
    Indicator("rd_intensity", "研发费用占营业收入比例", "创新投入", "%", "营业收入不大于 0"),
    Indicator("rd_staff_share", "研发人员占比", "创新投入", "%", "从业人员为 0"),
    Indicator("invention_patents", "发明专利授权量", "创新产出", "件"),
    Indicator(
        "ip_per_100_rd_staff", "每百名研发人员知识产权数量", "创新产出", "件", "研发人员为 0"
    ),
    Indicator("tech_contract_value", "企业技术合同成交额", "创新产出", "万元"),
    Indicator("main_business_revenue", "主营业务收入", "创新发展", "万元"),
    Indicator(
        "revenue_growth", "营业收入增长率", "创新发展", "%", "上年营业收入不大于 0", signed=True
    ),
    Indicator(
        "return_on_equity", "净资产利润率", "创新发展", "%", "平均所有者权益不大于 0", signed=True
    ),
)
INDICATORS_BY_ID = {ind.id: ind for ind in INDICATORS}
BONUS_PARTS = {
    "projects": "科技项目、奖励与标准",
    "financing": "融资金额",
    "rankings": "榜单与科技资质",
}


def development_stage(registered: date, campaign: Campaign) -> str:
    """初创期, 成长期 or 稳定期 by full years from registration to the configured date."""
    rule = campaign.development_stage
    end = rule.as_of
    years = end.year - registered.year - ((end.month, end.day) < (registered.month, registered.day))
    if years >= rule.mature_from_years:
        return "稳定期"
    if years >= rule.growth_from_years:
        return "成长期"
    return "初创期"


def bonus(v: Values, campaign: Campaign) -> dict[str, Decimal]:
    """The three bonus items, each within its cap (the seed's table)."""
    rules, g = campaign.bonus, v.get
    p = rules.projects
    projects = (
        p.provincial_each * ((g("provincial_projects") or 0) + (g("provincial_awards") or 0))  # type: ignore[operator]
        + p.municipal_each * ((g("municipal_projects") or 0) + (g("municipal_awards") or 0))  # type: ignore[operator]
        + p.standard_each * (g("standards_count") or 0)  # type: ignore[operator]
    )
    amount = g("financing_amount")
    financing = Decimal(0)
    if amount is not None:
        financing = next((b.points for b in rules.financing.bands if b.admits(amount)), financing)  # type: ignore[arg-type]
    rankings = Decimal(0)
    level = g("ranking_list_level")
    if level in rules.rankings.levels and "ranking_list_name" in v:
        rankings += rules.rankings.levels[level]  # type: ignore[index]
    if any(q != "无" for q in g("qualifications") or ()):  # type: ignore[attr-defined]
        rankings += rules.rankings.qualification
    return {
        "projects": min(projects, p.cap),
        "financing": min(financing, rules.financing.cap),
        "rankings": min(rankings, rules.rankings.cap),
    }


@dataclass(frozen=True, slots=True)
class IndicatorScore:
    id: str
    name: str
    unit: str
    raw: float | None  # None: undefined for this enterprise (see `note`)
    normalised: float | None
    weight: int
    effective_weight: float  # the weight after spreading those of undefined indicators
    points: float | None
    note: str = ""


@dataclass(frozen=True, slots=True)
class Score:
    stage: str | None
    core: float | None  # None: stage unknown or cohort too small (see `note`)
    bonus: Decimal
    bonus_parts: dict[str, Decimal]
    total: float | None
    cohort_size: int
    note: str
    raws: tuple[float | None, ...]
    normalised: tuple[float | None, ...] | None
    weights: tuple[int, ...]

    @property
    def indicators(self) -> tuple[IndicatorScore, ...]:
        """The breakdown: each indicator's raw value, normalised value, weight and points."""
        defined = sum(w for w, raw in zip(self.weights, self.raws, strict=True) if raw is not None)
        rows = []
        for k, (ind, raw, weight) in enumerate(
            zip(INDICATORS, self.raws, self.weights, strict=True)
        ):
            share = weight * 100 / defined if raw is not None and defined else 0.0
            normalised = None if self.normalised is None else self.normalised[k]
            points = None if normalised is None else share * normalised
            if raw is None:
                note = f"{ind.undefined_when or '数据缺失'}，不计算，权重分摊到其他指标"
            elif raw == LOSS_WITHOUT_EQUITY:
                raw, note = None, "净利润不大于 0 且平均所有者权益不大于 0，计 0 分"
            elif ind.earns_nothing(raw):
                note = "为 0，不得分"
            else:
                note = ""
            rows.append(
                IndicatorScore(
                    ind.id, ind.name, ind.unit, raw, normalised, weight, share, points, note
                )
            )
        return tuple(rows)


def score_cohort(
    records: Sequence[Values], campaign: Campaign, unscored: Mapping[int, str] | None = None
) -> list[Score]:
    """Scores of every record, normalising each indicator within its stage's cohort.

    `unscored`: records (by index) that may not be scored, with the reason (a strong rule
    broken, not an enterprise…): neither scored nor counted in anyone's cohort.
    """
    unscored = unscored or {}
    stages = [stage_of(v, campaign) for v in records]
    raws = [raw_values(v) for v in records]
    members: dict[str | None, list[int]] = defaultdict(list)
    for i, stage in enumerate(stages):
        if i not in unscored:
            members[stage].append(i)
    normalised: list[tuple[float | None, ...] | None] = [None] * len(records)
    for stage, idx in members.items():
        if stage is None or len(idx) < campaign.scoring.min_cohort:
            continue
        columns = zip(*(raws[i] for i in idx), strict=True)  # one per indicator
        scaled = [
            _normalise(campaign, ind.id, list(c))
            for ind, c in zip(INDICATORS, columns, strict=True)
        ]
        for i, row in zip(idx, zip(*scaled, strict=True), strict=True):
            normalised[i] = row
    scores = [
        _score(records[i], stages[i], raws[i], normalised[i], len(members[stages[i]]), campaign)
        for i in range(len(records))
    ]
    for i, reason in unscored.items():
        scores[i] = replace(scores[i], core=None, total=None, note=f"未计分：{reason}")
    return scores


def score_against(
    values: Values, others: Sequence[Sequence[float | None]], campaign: Campaign
) -> Score:
    """One enterprise's estimate within the others of its stage, given their raw indicators.

    What the chat shows before submitting: the cohort is the stage's submitted enterprises.
    """
    stage = stage_of(values, campaign)
    raws = raw_values(values)
    cohort = len(others) + 1
    normalised = None
    if stage is not None and cohort >= campaign.scoring.min_cohort:
        columns = zip(*others, raws, strict=True)
        normalised = tuple(
            _normalise(campaign, ind.id, list(c))[-1]
            for ind, c in zip(INDICATORS, columns, strict=True)
        )
    return _score(values, stage, raws, normalised, cohort, campaign)


def stage_of(values: Values, campaign: Campaign) -> str | None:
    registered = values.get("registration_date")
    return None if registered is None else development_stage(registered, campaign)  # type: ignore[arg-type]


def _score(
    v: Values,
    stage: str | None,
    raws: tuple[float | None, ...],
    normalised: tuple[float | None, ...] | None,
    cohort: int,
    campaign: Campaign,
) -> Score:
    table = campaign.scoring.weights.get(stage or "")
    weights = tuple(table[ind.id] for ind in INDICATORS) if table else (0,) * len(INDICATORS)
    parts = bonus(v, campaign)
    extra = parts["projects"] + parts["financing"] + parts["rankings"]
    defined = 0  # the weight of the indicators this enterprise has a value for
    weighted = 0.0
    for k, raw in enumerate(raws):
        if raw is not None:
            defined += weights[k]
            if normalised is not None:
                weighted += weights[k] * normalised[k]  # type: ignore[operator]
    core = None
    if stage is None:
        note = "缺少注册日期，无法确定发展阶段，不计算核心积分"
    elif normalised is None:
        note = f"本阶段（{stage}）已提交企业不足 {campaign.scoring.min_cohort} 家，暂只计加分项"
    elif not defined:
        note = "九项指标均无法计算，不计算核心积分"
    else:
        note = ""
        core = weighted * 100 / defined
    total = None if core is None else core + float(extra)
    return Score(stage, core, extra, parts, total, cohort, note, raws, normalised, weights)


def _normalise(
    campaign: Campaign, indicator: str, values: list[float | None]
) -> list[float | None]:
    """Each value mapped to [0, 1] within the cohort by the configured method (None stays);
    a value that earns nothing is 0, the others placed among the whole cohort."""
    ind = INDICATORS_BY_ID[indicator]
    scaled = _scaled(campaign, indicator, values)
    return [
        0.0 if x is not None and ind.earns_nothing(x) else n
        for x, n in zip(values, scaled, strict=True)
    ]


def _scaled(campaign: Campaign, indicator: str, values: list[float | None]) -> list[float | None]:
    method = campaign.scoring.normaliser
    if method == "bands":
        bands = sorted(campaign.scoring.bands[indicator], key=lambda b: b.at_least, reverse=True)
        return [
            None if x is None else next((b.value for b in bands if x >= b.at_least), 0.0)
            for x in values
        ]
    if method == "percentile":
        return _percentile(values)
    known = [x for x in values if x is not None and x != LOSS_WITHOUT_EQUITY]  # not a figure
    if not known:
        return [None if x is None else 0.0 for x in values]
    low, span = min(known), max(known) - min(known)
    scaled = [
        None if x is None else 0.5 if span == 0 else max(0.0, (x - low) / span) for x in values
    ]
    if method == "min_max":
        return scaled
    return [None if t is None else 0.6 + 0.4 * t for t in scaled]  # 功效系数法 (60 + 40·t) / 100


def _percentile(values: list[float | None]) -> list[float | None]:
    """Percentile rank in [0, 1] of each defined value; ties share their mean rank.

    The average-rank method of scipy.stats.rankdata, in numpy: importing scipy.stats costs
    about a second at start-up, and ranking in pure Python is what made scoring slow.
    """
    known = np.fromiter((x for x in values if x is not None), dtype=float)
    n = len(known)
    if n <= 1:
        return [None if x is None else 0.5 for x in values]
    order = np.argsort(known, kind="stable")
    ordered = known[order]
    new_run = np.r_[True, ordered[1:] != ordered[:-1]]  # where a run of tied values starts
    starts = np.flatnonzero(new_run)
    ends = np.r_[starts[1:], n] - 1
    ranks = np.empty(n)
    ranks[order] = ((starts + ends) / 2 / (n - 1))[np.cumsum(new_run) - 1]
    ranked = iter(ranks.tolist())
    return [None if x is None else next(ranked) for x in values]
