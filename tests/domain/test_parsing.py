"""Reading what people type (fields.md, "Number input people actually type")."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.catalog import LISTED, Catalog
from domain.parsing import InputError, Parsed, parse_value


def read(catalog: Catalog, name: str, raw: object) -> Parsed | None:
    return parse_value(catalog.by_name[name], raw, catalog)


def value(catalog: Catalog, name: str, raw: object) -> object:
    parsed = read(catalog, name, raw)
    assert parsed is not None
    return parsed.value


def refused(catalog: Catalog, name: str, raw: object) -> str:
    with pytest.raises(InputError) as caught:
        read(catalog, name, raw)
    message = str(caught.value)
    assert message.startswith(catalog.by_name[name].label + "：")  # it names the field
    return message


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("3500", "3500"),
        ("3,500.5", "3500.5"),
        ("３５００", "3500"),
        ("3500万", "3500"),
        ("0.35亿", "3500"),
        ("3500万元", "3500"),
        (" 3500 ", "3500"),
        ("¥3,500", "3500"),
        ("1.23456", "1.2346"),
        (3500, "3500"),
        (3500.5, "3500.5"),
        (Decimal("3500.25"), "3500.25"),
        ("无", "0"),
        ("暂无", "0"),
        ("没有", "0"),
    ],
)
def test_money_as_people_type_it(catalog: Catalog, typed: object, expected: str) -> None:
    parsed = read(catalog, "rd_expense", typed)
    assert parsed == Parsed(Decimal(expected))


def test_yuan_is_converted_and_the_conversion_reported(catalog: Catalog) -> None:
    parsed = read(catalog, "operating_revenue", "35000000元")
    assert parsed is not None
    assert parsed.value == Decimal("3500")
    assert parsed.note == "您填写的是 35,000,000 元，已换算为 3,500 万元"


def test_thousand_yuan_is_converted(catalog: Catalog) -> None:
    parsed = read(catalog, "operating_revenue", "35,000千元")
    assert parsed is not None and parsed.value == Decimal("3500") and "千元" in parsed.note


@pytest.mark.parametrize(
    "typed",
    [
        "abc",
        "1e309",
        "NaN",
        "Infinity",
        "3,50",
        "约3500",
        "3500美元",
        "--5",
        "12..5",
        "💰",
        "<b>3500</b>",
    ],
)
def test_money_garbage_is_refused_with_a_valid_example(catalog: Catalog, typed: str) -> None:
    message = refused(catalog, "rd_expense", typed)
    assert "请填写数字（单位：万元）" in message and "例如" in message


@pytest.mark.parametrize("typed", [None, "", "   ", [], ()])
def test_nothing_given_is_no_answer(catalog: Catalog, typed: object) -> None:
    assert read(catalog, "rd_expense", typed) is None


def test_money_beyond_any_real_enterprise_is_an_input_error(catalog: Catalog) -> None:
    message = refused(catalog, "operating_revenue", "20000000000")
    assert "远超实际可能" in message and "单位" in message
    assert value(catalog, "operating_revenue", "1000000000") == Decimal("1000000000")


def test_negative_money_only_where_the_field_allows_it(catalog: Catalog) -> None:
    assert value(catalog, "net_profit", "-50") == Decimal("-50")
    assert value(catalog, "equity_end", "－120.5") == Decimal("-120.5")
    assert "不能为负数" in refused(catalog, "rd_expense", "-1")
    assert value(catalog, "operating_revenue", "-50") == Decimal("-50")  # W2 says it
    assert value(catalog, "invention_patents", "-1") == -1  # S4 says it
    assert "超出实际可能" in refused(catalog, "ip_count", "-20000000")


def test_an_enormous_answer_is_refused_before_reading(catalog: Catalog) -> None:
    assert "内容过长" in refused(catalog, "main_products", "字" * 100_000)
    assert "内容过长" in refused(catalog, "rd_expense", "9" * 100_000)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("120", 120),
        ("120人", 120),
        ("1,200", 1200),
        ("１２０", 120),
        (12.0, 12),
        ("1.2万", 12000),
        (Decimal("7"), 7),
        (" 3 人 ", 3),
        ("无", 0),
        ("暂无", 0),
        ("没有", 0),
        ("零", 0),
        ("〇个", 0),
        ("一人", 1),
        ("两个", 2),
        ("三项", 3),
        ("九位", 9),
        ("十", 10),
        ("十二家", 12),
        ("二十", 20),
        ("九十九名", 99),
    ],
)
def test_counts(catalog: Catalog, typed: object, expected: int) -> None:
    assert value(catalog, "employees", typed) == expected


@pytest.mark.parametrize("typed", ["十几个", "几个", "一两个", "两十", "一百二十", "二二", "无数"])
def test_counts_in_words_only_where_unambiguous(catalog: Catalog, typed: str) -> None:
    assert "不是数字" in refused(catalog, "standards_count", typed)


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ("12.5", "应为整数"),
        ("-1", "不能为负数"),
        ("abc", "不是数字"),
        (True, "不是数字"),
        ("20000000", "超出实际可能"),
    ],
)
def test_counts_refused(catalog: Catalog, typed: object, problem: str) -> None:
    assert problem in refused(catalog, "employees", typed)


def test_rank_is_a_positive_integer(catalog: Catalog) -> None:
    assert value(catalog, "ranking_list_rank", "12") == 12
    assert "应为正整数" in refused(catalog, "ranking_list_rank", "0")
    assert "榜单没有排名的填“入选”" in refused(catalog, "ranking_list_rank", "无")


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("第15名", 15),
        ("第 3 位", 3),
        ("第十二名", 12),
        ("15名", 15),
        ("第１５", 15),
        ("入选", LISTED),
        (" 入选 ", LISTED),
        ("入围", LISTED),
        ("无排名", LISTED),
        (LISTED, LISTED),
    ],
)
def test_rank_as_people_say_it(catalog: Catalog, typed: str, expected: object) -> None:
    assert value(catalog, "ranking_list_rank", typed) == expected


@pytest.mark.parametrize(
    "typed",
    [
        "2025-03-01",
        "2025/3/1",
        "2025年3月1日",
        "2025.3.1",
        "20250301",
        "２０２５年３月１日",
        date(2025, 3, 1),
        datetime(2025, 3, 1, 0, 0),
    ],
)
def test_dates_in_the_common_chinese_forms(catalog: Catalog, typed: object) -> None:
    assert value(catalog, "registration_date", typed) == date(2025, 3, 1)


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ("2025-02-30", "2025年2月30日不存在"),
        ("昨天", "不是日期"),
        ("2027-01-01", "不在合理范围内"),
        (20250301, "不是日期"),
    ],
)
def test_dates_refused(catalog: Catalog, typed: object, problem: str) -> None:
    assert problem in refused(catalog, "registration_date", typed)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("是", True),
        ("否", False),
        ("有", True),
        ("无", False),
        ("Y", True),
        ("no", False),
        (True, True),
    ],
)
def test_yes_no(catalog: Catalog, typed: object, expected: bool) -> None:
    assert value(catalog, "is_private", typed) is expected


def test_yes_no_refused(catalog: Catalog) -> None:
    assert "请回答“是”或“否”" in refused(catalog, "has_party_org", "也许")


def test_choices_exact_or_by_unique_start(catalog: Catalog) -> None:
    assert value(catalog, "tech_field", "新能源与节能") == "新能源与节能"
    assert value(catalog, "tech_field", "新能源") == "新能源与节能"
    message = refused(catalog, "tech_field", "人工智能")
    assert "可选：电子信息、" in message


def test_multi_choice_with_chinese_separators_and_quotes(catalog: Catalog) -> None:
    assert value(catalog, "qualifications", "高新技术企业、专精特新“小巨人”企业") == (
        "高新技术企业",
        '专精特新"小巨人"企业',
    )
    assert value(catalog, "qualifications", ["瞪羚企业", "瞪羚企业"]) == ("瞪羚企业",)
    assert value(catalog, "financing_history", "政府补助/基金，银行贷款") == (
        "政府补助/基金",
        "银行贷款",
    )


def test_none_excludes_the_other_options(catalog: Catalog) -> None:
    assert "“无”不能与其他选项同时选择" in refused(catalog, "qualifications", "无、高新技术企业")


def test_banks_come_from_the_campaign(catalog: Catalog) -> None:
    assert len(catalog.by_name["intended_banks"].choices) == 26
    assert value(catalog, "intended_banks", "盛京银行") == ("盛京银行",)


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("210211", "210211"),
        ("甘井子区", "210211"),
        ("大连市甘井子区", "210211"),
        ("辽宁省大连市甘井子区", "210211"),
        ("沈阳市铁西区", "210106"),
    ],
)
def test_region_by_code_or_name(catalog: Catalog, typed: str, code: str) -> None:
    assert value(catalog, "region_code", typed) == code


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ("铁西区", "有重名：沈阳市铁西区、鞍山市铁西区"),
        ("210200", "大连市是地级市，请具体到区县"),
        ("110108", "不是辽宁省的区县代码"),
        ("海淀区", "不是辽宁省的区县"),
    ],
)
def test_region_refused(catalog: Catalog, typed: str, problem: str) -> None:
    assert problem in refused(catalog, "region_code", typed)


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("C3421", "C3421"),
        ("c3421", "C3421"),
        ("3421", "C3421"),
        ("Ｃ３４２１", "C3421"),
        ("I65", "I65"),
        ("M7320", "M7320"),
    ],
)
def test_industry_codes(catalog: Catalog, typed: str, code: str) -> None:
    assert value(catalog, "industry_code", typed) == code


@pytest.mark.parametrize("typed", ["C", "C99", "A27", "X12", "C34215", "制造业"])
def test_industry_codes_refused(catalog: Catalog, typed: str) -> None:
    assert "不是有效的国民经济行业代码" in refused(catalog, "industry_code", typed)


def test_text_keeps_what_was_written_but_not_control_characters(catalog: Catalog) -> None:
    assert value(catalog, "main_products", "<b>主轴</b> & 减速器 🚀") == "<b>主轴</b> & 减速器 🚀"
    assert value(catalog, "main_products", "主轴\x00\u200b减速器") == "主轴减速器"
    assert "超过 500 字上限" in refused(catalog, "main_products", "字" * 501)
    assert "内容为空" in refused(catalog, "main_products", "\x00\x01")


@pytest.mark.parametrize(
    ("name", "typed", "expected"),
    [
        (
            "main_products",
            "数控机床\u2060主轴\u00ad、精密\u202e减速器\U000e0041",
            "数控机床主轴、精密减速器",
        ),
        ("enterprise_name", "\u3164大连海创智能装备有限公司\u200b", "大连海创智能装备有限公司"),
        ("employees", "1\u2060200", 1200),
        ("rd_expense", "３５０\u200b万", Decimal(350)),
        ("credit_code", "91210211\u200bMA0Y4LKX4K", "91210211MA0Y4LKX4K"),
        ("contact_mobile", "138\u20601234\u20605678", "13812345678"),
        ("contact_name", "张\u200d伟", "张伟"),
        ("contact_email", "zhangwei\u200b@example.com", "zhangwei@example.com"),
    ],
)
def test_invisible_characters_never_reach_a_value(
    catalog: Catalog, name: str, typed: str, expected: object
) -> None:
    assert value(catalog, name, typed) == expected


@pytest.mark.parametrize(
    "typed",
    [
        "91210211MA0Y4LKX4K",
        "91210211ma0y4lkx4k",
        "９１２１０２１１ＭＡ０Ｙ４ＬＫＸ４Ｋ",
        "9121 0211 MA0Y 4LKX 4K",
    ],
)
def test_credit_code_forms(catalog: Catalog, typed: str) -> None:
    assert value(catalog, "credit_code", typed) == "91210211MA0Y4LKX4K"


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ("91210211MA0Y4LKX3", "应为 18 位，您填写的是 17 位"),
        ("91210211MA0Y4LKXIG", "含有不允许的字符“I”"),
        ("91210211MA0Y4LKX4H", "校验位不符"),
        ("9121AB11MA0Y4LKX3G", "第 3–8 位"),
    ],
)
def test_credit_code_refused(catalog: Catalog, typed: str, problem: str) -> None:
    assert problem in refused(catalog, "credit_code", typed)


@pytest.mark.parametrize(
    "typed",
    [
        "13812345678",
        "138 1234 5678",
        "138-1234-5678",
        "+86 138 1234 5678",
        "8613812345678",
        13812345678,
    ],
)
def test_mobile_forms(catalog: Catalog, typed: object) -> None:
    assert value(catalog, "contact_mobile", typed) == "13812345678"


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ("1381234567", "应为 11 位"),
        ("12345678901", "不是有效的大陆手机号码段"),
        ("024-88886666", "这是固定电话号码"),
        ("138一二三", "只能包含数字"),
    ],
)
def test_mobile_refused(catalog: Catalog, typed: str, problem: str) -> None:
    assert problem in refused(catalog, "contact_mobile", typed)


def test_email(catalog: Catalog) -> None:
    assert value(catalog, "contact_email", "zhang.wei@Example.COM") == "zhang.wei@example.com"
    assert value(catalog, "contact_email", "张伟@例子.中国") == "张伟@例子.中国"
    assert "缺少“@”" in refused(catalog, "contact_email", "zhangwei.example.com")
    assert "域名不完整" in refused(catalog, "contact_email", "zhangwei@example")
    assert "格式不正确" in refused(catalog, "contact_email", "zhang..wei@example.com")


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("张伟", "张伟"),
        ("买买提·艾力", "买买提·艾力"),
        ("买买提•艾力", "买买提·艾力"),
        ("张 伟", "张伟"),
        ("John Smith", "John Smith"),
    ],
)
def test_person_names(catalog: Catalog, typed: str, expected: str) -> None:
    assert value(catalog, "contact_name", typed) == expected


@pytest.mark.parametrize("typed", ["张", "张伟123", "<script>", "张" * 21, "😀😀"])
def test_person_names_refused(catalog: Catalog, typed: str) -> None:
    assert "2–20 个汉字" in refused(catalog, "contact_name", typed) or "2–20" in refused(
        catalog, "contact_name", typed
    )


ANSWERS = st.one_of(
    st.none(),
    st.text(max_size=60),
    st.integers(),
    st.floats(allow_nan=True),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.dates(),
    st.lists(st.text(max_size=10), max_size=4),
    st.dictionaries(st.text(max_size=3), st.integers()),
    st.from_regex(r"[０-９0-9,，.万亿元千 -]{0,16}", fullmatch=True),
)


@given(data=st.data())
def test_no_answer_crashes_a_reader(catalog: Catalog, data: st.DataObject) -> None:
    """Whatever arrives, a reader gives a value, None, or an InputError naming the field."""
    field = data.draw(st.sampled_from(catalog.fields))
    raw = data.draw(ANSWERS)
    try:
        parse_value(field, raw, catalog)
    except InputError as exc:
        assert str(exc).startswith(field.label)
