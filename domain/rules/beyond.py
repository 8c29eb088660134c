"""Checks "beyond the table" (数据填报存在的常见问题): wrong units, filler zeros, a code
registered outside the province, accounts that do not add up, an enterprise the campaign does
not admit (企业资质). Absurd figures are input errors, caught by the parser."""

from __future__ import annotations

import statistics
from decimal import Decimal
from itertools import repeat
from operator import is_not

from domain import formatting, industry
from domain.catalog import Catalog
from domain.rules.base import ZERO, Hit, Rule, Severity, Values, figure

WEAK = Severity.WEAK

# The financial-statement figures of one enterprise, which share an order of magnitude.
STATEMENT_FIGURES = (
    "rd_expense",
    "main_business_revenue",
    "operating_revenue",
    "operating_revenue_prev",
    "net_profit",
    "equity_begin",
    "equity_end",
    "total_assets",
    "total_liabilities",
    "taxes_paid",
    "rd_super_deduction",
)
_YUAN, _THOUSAND = Decimal(10000), Decimal(1000)
_BETWEEN = Decimal(3162)  # √(1000 × 10000): nearer 10⁴ means 元 typed for 万元


def _unit(v: Values, c: Catalog) -> list[Hit] | None:
    """A figure ≥ N × the median of the enterprise's other figures was likely typed in 元."""
    figures = list(filter(None, map(v.get, STATEMENT_FIGURES)))  # answered, not 0
    # A median of fewer than two others says nothing; nothing 1000× the smallest, nothing to see.
    if len(figures) < 3:
        return None
    smallest = min(figures)  # type: ignore[type-var]
    if smallest < ZERO:  # type: ignore[operator]
        figures = [x for x in figures if x > ZERO]  # type: ignore[operator]
        if len(figures) < 3:
            return None
        smallest = min(figures)  # type: ignore[type-var]
    ratio = c.campaign.checks.unit_suspect_ratio
    if max(figures) < smallest * ratio:  # type: ignore[type-var, operator]
        return None
    ordered = sorted(figures)  # type: ignore[type-var]
    # Leaving one figure out lowers the median of the rest to this at most.
    floor = ordered[(len(ordered) - 2) // 2] * ratio
    if ordered[-1] < floor:
        return None
    positive = {n: v[n] for n in STATEMENT_FIGURES if n in v and v[n] > 0}  # type: ignore[operator]
    hits = []
    for name, value in positive.items():
        if value < floor:  # type: ignore[operator]
            continue
        median = statistics.median(x for n, x in positive.items() if n != name)
        if value < median * ratio:  # type: ignore[operator]
            continue
        times = value / median  # type: ignore[operator]
        factor = _YUAN if times >= _BETWEEN else _THOUSAND
        corrected = (value / factor).quantize(Decimal("0.0001"))  # type: ignore[operator]
        guess = (
            "是不是按“元”填写的？按元换算" if factor == _YUAN else "是不是多写了三位数？去掉三位"
        )
        hits.append(
            Hit(
                f"{figure(v, c, name)}，远高于本企业其他财务数据"
                f"（多为{formatting.magnitude(median)}）。"  # type: ignore[arg-type]
                f"{guess}为 {formatting.amount(corrected)} 万元",
                (name,),
                suggestion=corrected,
            )
        )
    return hits or None


def _zeros(v: Values, c: Catalog) -> Hit | None:
    checks = c.campaign.checks
    # Counted without a Python loop (every record runs this): the answered figures, and of
    # them the zeros, the answered less those that are true (not None, not 0).
    numbers = list(map(v.get, c.numeric_names))
    true = len(list(filter(None, numbers)))  # neither blank nor 0
    if true > (1 - checks.zeros_share) * len(numbers):  # too many even were every blank a 0
        return None
    answered = sum(map(is_not, numbers, repeat(None)))  # count(None) compares, slowly
    count = answered - true
    if answered < checks.zeros_min_numeric or count < checks.zeros_share * answered:
        return None
    zeros = tuple(name for name in c.numeric_names if name in v and v[name] == 0)
    return Hit(
        f"已填写的 {answered} 项数字中有 {count} 项为 0。请勿随意补 0："
        "确实没有的填 0，有数据的请按实际填写",
        zeros,
    )


def _region(v: Values, c: Catalog) -> str | None:
    code = str(v["credit_code"])
    province = c.campaign.regions
    if code[2:4] == province.code[:2]:
        return None
    return (
        f"统一社会信用代码第 3–8 位（{code[2:8]}）显示登记机关不在{province.name}，"
        f"请确认企业已在{province.name}登记经营"
    )


def _balance(v: Values, c: Catalog) -> str | None:
    """资产 = 负债 + 所有者权益, to a rounding: a reviewer's first look at a balance sheet."""
    assets, liabilities, equity = v["total_assets"], v["total_liabilities"], v["equity_end"]
    gap = abs(assets - liabilities - equity)  # type: ignore[operator]
    checks = c.campaign.checks
    if gap <= checks.balance_gap_min or gap <= checks.balance_gap_share * abs(assets):  # type: ignore[arg-type, operator]
        return None
    total = liabilities + equity  # type: ignore[operator]
    return (
        f"{figure(v, c, 'total_assets')}，而 {figure(v, c, 'total_liabilities')} 加 "
        f"{figure(v, c, 'equity_end')} 共 {formatting.amount(total)} 万元，"
        f"相差 {formatting.amount(gap)} 万元。资产总额应等于负债与所有者权益之和，"  # type: ignore[arg-type]
        "请对照资产负债表核对这三项"
    )


def _intensity(v: Values, c: Catalog) -> Hit | None:
    rd, revenue = v["rd_expense"], v["operating_revenue"]
    if not rd > revenue > 0:  # type: ignore[operator]
        return None
    return Hit(
        f"{figure(v, c, 'rd_expense')} 高于 {figure(v, c, 'operating_revenue')}，"
        "研发投入超过了全年收入。请确认两项的单位和数值",
        ("rd_expense", "operating_revenue"),
    )


def _qualify(v: Values, c: Catalog) -> list[Hit] | None:
    """企业资质 in the seed: 领域不合适 (金融、保理、酒店、物业…) and 主体不符合要求 (众创空间…).
    W13 keeps the seed's own keyword list; these are the 资质 page's, by industry and name."""
    checks, code, name = c.campaign.checks, str(v["industry_code"]), str(v["enterprise_name"])
    hits = []
    if code.startswith(checks.qualify_industries):
        hits.append(
            Hit(
                f"国民经济行业代码 {code}（{industry.division_name(code)}）属于金融、房地产、"
                "住宿等不适合申报的领域，请确认行业代码与企业主营业务",
                ("industry_code",),
            )
        )
    if any(map(name.__contains__, checks.qualify_name_words)):
        words = [w for w in checks.qualify_name_words if w in name]
        said = "、".join(f"“{w}”" for w in words)
        hits.append(
            Hit(
                f"企业名称含{said}，保理公司、众创空间等主体一般不符合申报条件，"
                "请确认企业从事科技研发与生产",
                ("enterprise_name",),
            )
        )
    return hits or None


BEYOND_RULES: tuple[Rule, ...] = (
    Rule("W-unit", WEAK, "金额疑似单位填错（差距千倍）", STATEMENT_FIGURES, _unit, partial=True),
    Rule("W-zeros", WEAK, "大部分数字为 0（随意补 0）", (), _zeros, partial=True),
    Rule("W-region", WEAK, "信用代码登记地不在本省", ("credit_code",), _region),
    Rule(
        "W-balance",
        WEAK,
        "资产总额不等于负债与所有者权益之和",
        ("total_assets", "total_liabilities", "equity_end"),
        _balance,
    ),
    Rule(
        "W-intensity",
        WEAK,
        "研发费用高于营业收入",
        ("rd_expense", "operating_revenue"),
        _intensity,
    ),
    Rule(
        "W-qualify",
        WEAK,
        "行业或主体不符合申报资质",
        ("industry_code", "enterprise_name"),
        _qualify,
    ),
)
