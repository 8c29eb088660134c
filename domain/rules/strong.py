"""Strong rules (强规则, 否决项) S1–S8 and our eligibility checks E-…: each blocks submission."""

from __future__ import annotations

from datetime import date

from domain import formatting, identifiers
from domain.catalog import Catalog
from domain.rules.base import ZERO, Hit, Rule, Severity, Values, figure, label

STRONG = Severity.STRONG


def _s1(v: Values, c: Catalog) -> Hit | None:
    if v["operating_revenue"] >= v["main_business_revenue"]:  # type: ignore[operator]
        return None
    return Hit(
        f"{figure(v, c, 'main_business_revenue')} 大于 {figure(v, c, 'operating_revenue')}。"
        "主营业务收入包含在营业收入之内，不能更大",
        ("main_business_revenue", "operating_revenue"),
    )


def _s2(v: Values, c: Catalog) -> str | None:
    factor = c.campaign.rules.S2_profit_revenue_factor
    profit, revenue = v["net_profit"], v["operating_revenue"]
    if profit < revenue * factor:  # type: ignore[operator]
        return None
    return (
        f"{figure(v, c, 'net_profit')} 达到 {figure(v, c, 'operating_revenue')} 的 "
        f"{formatting.amount(factor)} 倍及以上"
        f"（净利润须小于营业收入 × {formatting.amount(factor)}），请检查两项的单位和数值"
    )


def _s3(v: Values, c: Catalog) -> Hit | None:
    employees, rd_staff = v["employees"], v["rd_staff"]
    if employees <= 0:  # type: ignore[operator]
        return Hit(f"{label(c, 'employees')} 为 0。申报企业须有从业人员", ("employees",))
    if rd_staff > employees:  # type: ignore[operator]
        return Hit(
            f"{figure(v, c, 'rd_staff')} 多于 {figure(v, c, 'employees')}。"
            "研发人员包含在从业人员之内",
            ("rd_staff", "employees"),
        )
    return None


def _s4(v: Values, c: Catalog) -> Hit | None:
    """Both counts ≥ 0 (a negative count is this rule's, not an unreadable answer), and the
    patents among the IP."""
    negative = tuple(n for n in ("invention_patents", "ip_count") if v[n] < 0)  # type: ignore[operator]
    if negative:
        shown = "、".join(figure(v, c, n) for n in negative)
        return Hit(f"{shown}，数量不能为负数，没有请填 0", negative)
    if v["invention_patents"] <= v["ip_count"]:  # type: ignore[operator]
        return None
    return Hit(
        f"{figure(v, c, 'invention_patents')} 多于 {figure(v, c, 'ip_count')}。"
        "发明专利属于知识产权，知识产权数量应包含发明专利",
        ("invention_patents", "ip_count"),
    )


def _s6(v: Values, c: Catalog) -> str | None:
    rd, patents, ip = v["rd_expense"], v["invention_patents"], v["ip_count"]
    if rd >= ZERO and patents >= 0 and ip >= 0 and (rd or patents or ip):  # type: ignore[operator]
        return None  # none negative, one not 0: the sum is above 0 (without Decimal sums)
    if rd + patents + ip > 0:  # type: ignore[operator]
        return None
    return (
        f"{label(c, 'rd_expense')}、{label(c, 'invention_patents')}、{label(c, 'ip_count')} "
        "均为 0，不满足科创属性门槛（三项之和须大于 0）"
    )


def _s7(v: Values, c: Catalog) -> Hit | None:
    since: date = c.campaign.rules.S7_new_since
    registered: date = v["registration_date"]  # type: ignore[assignment]
    if registered < since or v["operating_revenue_prev"] == 0:
        return None
    return Hit(
        f"企业注册于{formatting.day(registered)}（{formatting.day(since)}及以后），"
        f"{label(c, 'operating_revenue_prev')}应为 0，目前填写 "
        f"{formatting.amount(v['operating_revenue_prev'])} 万元",  # type: ignore[arg-type]
        ("operating_revenue_prev", "registration_date"),
    )


def _s8(v: Values, c: Catalog) -> Hit | None:
    has_name, has_rank = "ranking_list_name" in v, "ranking_list_rank" in v
    if has_name == has_rank:
        return None
    filled, empty = (
        ("ranking_list_name", "ranking_list_rank")
        if has_name
        else ("ranking_list_rank", "ranking_list_name")
    )
    return Hit(
        f"只填写了{label(c, filled)}，没有填写{label(c, empty)}。两项须同时填写或都不填",
        (empty, filled),
    )


def _status(v: Values, c: Catalog) -> str | None:
    eligible = c.campaign.eligibility.statuses
    if v["operating_status"] in eligible:
        return None
    return (
        f"经营状态为“{v['operating_status']}”，不符合申报条件"
        f"（仅{'、'.join(eligible)}的企业可以申报）"
    )


def _entity(v: Values, c: Catalog) -> str | None:
    code: str = v["credit_code"]  # type: ignore[assignment]
    if code[:2] in c.campaign.eligibility.entity_types:
        return None
    return (
        f"统一社会信用代码前两位“{code[:2]}”表示{identifiers.entity_type(code)}，"
        "不是企业，不符合申报条件"
    )


def _high_edu(v: Values, c: Catalog) -> Hit | None:
    if v["high_edu_staff"] <= v["employees"]:  # type: ignore[operator]
        return None
    return Hit(
        f"{figure(v, c, 'high_edu_staff')} 多于 {figure(v, c, 'employees')}。"
        "高学历人员包含在从业人员之内",
        ("high_edu_staff", "employees"),
    )


STRONG_RULES: tuple[Rule, ...] = (
    Rule(
        "S1",
        STRONG,
        "营业收入不小于主营业务收入",
        ("operating_revenue", "main_business_revenue"),
        _s1,
    ),
    Rule("S2", STRONG, "净利润小于营业收入的 100 倍", ("net_profit", "operating_revenue"), _s2),
    Rule("S3", STRONG, "从业人员大于 0，研发人员不多于从业人员", ("employees", "rd_staff"), _s3),
    Rule(
        "S4",
        STRONG,
        "发明专利、知识产权不为负数，发明专利不多于知识产权",
        ("invention_patents", "ip_count"),
        _s4,
    ),
    Rule(
        "S5",
        STRONG,
        "联系人姓名、手机号、邮箱格式正确",
        ("contact_name", "contact_mobile", "contact_email"),
    ),
    Rule(
        "S6",
        STRONG,
        "研发费用、发明专利、知识产权之和大于 0（科创属性门槛）",
        ("rd_expense", "invention_patents", "ip_count"),
        _s6,
    ),
    Rule(
        "S7",
        STRONG,
        "当年新注册企业上年营业收入为 0",
        ("registration_date", "operating_revenue_prev"),
        _s7,
    ),
    Rule(
        "S8",
        STRONG,
        "榜单名称与排名同时填写或都不填",
        ("ranking_list_name", "ranking_list_rank"),
        _s8,
        partial=True,
    ),
    Rule("E-required", STRONG, "必填项不能为空"),
    Rule("E-input", STRONG, "填写内容可识别且在合理范围内"),
    Rule("E-uscc", STRONG, "统一社会信用代码有效（含校验位）", ("credit_code",)),
    Rule("E-entity", STRONG, "申报主体为企业", ("credit_code",), _entity),
    Rule("E-status", STRONG, "经营状态为存续或在业", ("operating_status",), _status),
    Rule(
        "E-high-edu", STRONG, "高学历人员不多于从业人员", ("high_edu_staff", "employees"), _high_edu
    ),
)
