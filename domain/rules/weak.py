"""Weak rules (弱规则, 提醒项) W1–W16: unusual but possible data, to correct or confirm."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from operator import itemgetter

from domain import formatting, industry, sme
from domain.catalog import Catalog
from domain.rules.base import ZERO, Hit, Rule, Severity, Values, figure, label

WEAK = Severity.WEAK


def _w1(v: Values, c: Catalog) -> str | None:
    rd = v["rd_expense"]
    high = c.campaign.rules.W1_rd_expense_high
    if not rd:  # 0, without making a Decimal of the int 0 to compare
        return f"{label(c, 'rd_expense')}为 0。科技型企业通常有研发投入，请确认企业当年确无研发费用"
    if rd >= high:  # type: ignore[operator]
        return (
            f"{figure(v, c, 'rd_expense')}，达到 {formatting.amount(high)} 万元，"
            "请确认单位是万元、数值无误"
        )
    return None


def _is_new(v: Values, c: Catalog) -> bool:
    """Registered in the reporting year: its previous-year revenue must be 0 (S7)."""
    registered: date | None = v.get("registration_date")  # type: ignore[assignment]
    return registered is not None and registered >= c.campaign.rules.S7_new_since


def _w2(v: Values, c: Catalog) -> Hit | None:
    """Revenue ≤ 0, a negative figure included (the seed's "≤ 0": possible, so a warning). The
    previous year is not raised for an enterprise registered in the reporting year: S7 asks it
    to be 0."""
    if v["operating_revenue"] > ZERO and (v["operating_revenue_prev"] > ZERO or _is_new(v, c)):  # type: ignore[operator]
        return None  # as nearly every record: without building the lists below
    names = ["operating_revenue"]
    if not _is_new(v, c):
        names.append("operating_revenue_prev")
    low = [n for n in names if v[n] <= 0]  # type: ignore[operator]
    if not low:
        return None
    shown = "、".join(figure(v, c, n) for n in low)
    if any(v[n] < 0 for n in low):  # type: ignore[operator]
        return Hit(f"{shown}，小于 0。营业收入很少为负数，请确认数值和正负号", tuple(low))
    return Hit(f"{shown}，不大于 0。请确认企业当年确无营业收入", tuple(low))


def _apart(v: Values, c: Catalog, a: str, b: str, factor: Decimal) -> Hit | None:
    """W3 and W8: one figure at least `factor` times the other, in either direction."""
    x, y = v[a], v[b]
    if x >= y * factor:  # type: ignore[operator]
        big, small = a, b
    elif y >= x * factor:  # type: ignore[operator]
        big, small = b, a
    else:
        return None
    times = formatting.amount(factor)
    large, little = v[big], v[small]
    if little > 0:  # type: ignore[operator]
        ratio = formatting.times(large / little)  # type: ignore[operator]
        said = f"{figure(v, c, big)} 比 {figure(v, c, small)} 大{ratio}"
    else:
        said = f"{figure(v, c, big)}，{figure(v, c, small)}"
    return Hit(f"{said}，相差 {times} 倍及以上。请确认两项的单位和数值", (big, small))


def _w3(v: Values, c: Catalog) -> Hit | None:
    """Not raised for an enterprise registered in the reporting year: S7 governs its previous
    year's revenue, and a ratio to that 0 says nothing."""
    if _is_new(v, c):
        return None
    return _apart(
        v, c, "operating_revenue", "operating_revenue_prev", c.campaign.rules.W3_revenue_ratio
    )


def _w6(v: Values, c: Catalog) -> str | None:
    total = v["tech_contract_absorbed"] + v["tech_contract_output"]  # type: ignore[operator]
    threshold = c.campaign.rules.W6_tech_contract
    if total < threshold:
        return None
    return (
        f"技术合同成交额（吸纳 {formatting.amount(v['tech_contract_absorbed'])} 万元 + "  # type: ignore[arg-type]
        f"输出 {formatting.amount(v['tech_contract_output'])} 万元）合计 "  # type: ignore[arg-type]
        f"{formatting.amount(total)} 万元，达到 {formatting.amount(threshold)} 万元，请确认数值无误"
    )


def _w7(v: Values, c: Catalog) -> str | None:
    factor = c.campaign.rules.W7_revenue_profit_factor
    if v["operating_revenue"] < v["net_profit"] * factor:  # type: ignore[operator]
        return None
    share = formatting.amount(Decimal(100) / factor)
    return (
        f"{figure(v, c, 'net_profit')} 不足 {figure(v, c, 'operating_revenue')} 的 {share}%"
        f"（营业收入 ≥ 净利润 × {formatting.amount(factor)}），请确认两项的单位和数值"
    )


def _w8(v: Values, c: Catalog) -> Hit | None:
    return _apart(v, c, "equity_end", "equity_begin", c.campaign.rules.W8_equity_ratio)


def _reaches(
    rule_id: str, title: str, names: tuple[str, ...], threshold_of: str, what: str
) -> Rule:
    """W4, W5, W9–W12: a rule that fires when any of its figures reaches a configured threshold."""

    figures = itemgetter(*names)  # the one figure, or a tuple of them
    highest = figures if len(names) == 1 else lambda v: max(figures(v))

    def check(v: Values, c: Catalog) -> Hit | None:
        threshold = getattr(c.campaign.rules, threshold_of)
        if highest(v) < threshold:
            return None  # as nearly every record: without the list below
        over = [n for n in names if v[n] >= threshold]  # type: ignore[operator]
        if not over:
            return None
        high = tuple(over)
        limit = f"{formatting.amount(threshold)} {c.by_name[names[0]].unit}"
        if len(names) == 1:
            return Hit(f"{figure(v, c, names[0])}，达到 {limit}，{what}", high)
        shown = "、".join(figure(v, c, n) for n in high)
        return Hit(f"以下数据达到 {limit}及以上，{what}：{shown}", high)

    return Rule(rule_id, WEAK, title, names, check)


_CHECK_FIGURE = "请确认数值无误、不是笔误"
_CHECK_UNIT = "请确认单位是万元、数值无误"


def _w13(v: Values, c: Catalog) -> str | None:
    name: str = v["enterprise_name"]  # type: ignore[assignment]
    rules = c.campaign.rules
    if rules.W13_pattern.search(name) is None:
        return None
    found = [k for k in rules.W13_keywords if k in name]
    words = "、".join(f"“{k}”" for k in found)
    return f"企业名称含{words}，该领域一般不属于科技型企业，请确认企业以科技研发为主营业务"


def _w14(v: Values, c: Catalog) -> str | None:
    suffix = c.campaign.rules.W14_credit_code_suffix
    if not str(v["credit_code"]).endswith(suffix):
        return None
    return f"统一社会信用代码最后三位为“{suffix}”，请对照营业执照逐位核对"


def _w15(v: Values, c: Catalog) -> Hit | None:
    key = sme.category_of(str(v["industry_code"]), c.campaign.sme)
    category = c.campaign.sme.categories[key]
    size = sme.classify(
        category,
        v["employees"],  # type: ignore[arg-type]
        v["operating_revenue"],  # type: ignore[arg-type]
        v["total_assets"],  # type: ignore[arg-type]
    )
    declared = v["enterprise_scale"]
    if size != "大型" and size == declared:
        return None
    used = {b for part in (category.upper, category.medium, category.small) for b in part}
    names = [
        n
        for b, n in (
            ("employees", "employees"),
            ("revenue", "operating_revenue"),
            ("assets", "total_assets"),
        )
        if b in used
    ]
    figures = "、".join(figure(v, c, n) for n in names)
    basis = f"按《中小企业划型标准规定》，{category.name}企业{figures}"
    if size == "大型":
        text = f"{basis}属于大型企业，不在中小企业范围内，请核对这些数据"
    else:
        text = f"{basis}应为{size}企业，填写的企业规模是“{declared}”，请核对"
    return Hit(text, ("enterprise_scale", *names))


def _w16(v: Values, c: Catalog) -> Hit | None:
    fields = c.campaign.tech_fields
    chosen, code = str(v["tech_field"]), str(v["industry_code"])
    if chosen == fields.discouraged:
        return Hit(
            f"企业所属科技创新领域选择了“{chosen}”，会影响指标权重匹配，请尽量从八大领域中选择",
            ("tech_field",),
        )
    if code.startswith(fields.prefixes.get(chosen, fields.any_field)):
        return None
    return Hit(
        f"所属科技创新领域“{chosen}”与行业代码 {code}（{industry.division_name(code)}）"
        "不太相符，请确认领域选择无误",
        ("tech_field", "industry_code"),
    )


WEAK_RULES: tuple[Rule, ...] = (
    Rule("W1", WEAK, "研发费用为 0 或达到 3000 万元", ("rd_expense",), _w1),
    Rule("W2", WEAK, "营业收入不大于 0", ("operating_revenue", "operating_revenue_prev"), _w2),
    Rule("W3", WEAK, "两年营业收入相差千倍", ("operating_revenue", "operating_revenue_prev"), _w3),
    _reaches(
        "W4", "发明专利达到 50 件", ("invention_patents",), "W4_invention_patents", _CHECK_FIGURE
    ),
    _reaches("W5", "知识产权达到 200 件", ("ip_count",), "W5_ip_count", _CHECK_FIGURE),
    Rule(
        "W6",
        WEAK,
        "技术合同成交额达到 1000 万元",
        ("tech_contract_absorbed", "tech_contract_output"),
        _w6,
    ),
    Rule("W7", WEAK, "营业收入达到净利润的 100 倍", ("operating_revenue", "net_profit"), _w7),
    Rule("W8", WEAK, "期初期末所有者权益相差千倍", ("equity_end", "equity_begin"), _w8),
    _reaches(
        "W9",
        "主要财务数据达到 1 亿元",
        (
            "main_business_revenue",
            "operating_revenue",
            "operating_revenue_prev",
            "net_profit",
            "equity_begin",
            "equity_end",
        ),
        "W9_large_figure",
        _CHECK_UNIT,
    ),
    _reaches(
        "W10",
        "科技项目或奖励达到 30 项",
        ("municipal_projects", "provincial_projects", "municipal_awards", "provincial_awards"),
        "W10_projects_awards",
        _CHECK_FIGURE,
    ),
    _reaches("W11", "参与制定标准达到 20 项", ("standards_count",), "W11_standards", _CHECK_FIGURE),
    _reaches("W12", "融资金额达到 1 亿元", ("financing_amount",), "W12_financing", _CHECK_UNIT),
    Rule("W13", WEAK, "企业名称含非科技领域关键词", ("enterprise_name",), _w13),
    Rule("W14", WEAK, "信用代码最后三位为 000", ("credit_code",), _w14),
    Rule(
        "W15",
        WEAK,
        "企业规模与中小企业划型标准不符",
        ("enterprise_scale", "industry_code", "employees", "operating_revenue", "total_assets"),
        _w15,
    ),
    Rule("W16", WEAK, "科技创新领域可能选择有误", ("tech_field", "industry_code"), _w16),
)
