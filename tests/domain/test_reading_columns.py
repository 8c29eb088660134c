"""A file read column by column says exactly what reading it answer by answer says.

`validate` reads a file's answers many at a time (`readers_for`) and a whole run of records per
field (`check_records`); both are shortcuts, so each is held equal to the one-by-one reading on
answers written every way people write them, plain and not.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain import validation
from domain.catalog import Catalog, Kind
from domain.parsing import InputError, reader_for, readers_for
from domain.validation import check_record, check_records
from tests.factories import as_row, typed_record, uscc_of

# Answers as they come in files: plain, and each way a plain one can be off by a little.
_SAMPLES = {
    Kind.MONEY: [
        "0",
        "12",
        "-3.5",
        "4500.1234",
        "1.23456",
        "1e3",
        "1_000",
        " 12",
        "１２",
        "12万",
        "35000000元",
        "99999999999999",
        "-0",
        "abc",
        "",
        None,
        12,
        "12.0",
    ],
    Kind.DATE: [
        "2019-03-01",
        "2025-02-30",
        "1899-12-31",
        "2030-01-01",
        "2019年3月1日",
        "2019-3-1",
        "",
        "x",
    ],
    Kind.TEXT: ["精密减速器", " 前后有空格 ", "隐\u200b藏", "行\u2028分", "", "a" * 2001, "短", 7],
    Kind.USCC: [
        uscc_of("91210211", "MA0Y4LKX"),
        "91210211MA0Y4LKX4H",
        "91210211ma0y4lkx4h",
        "9121 0211 MA0Y 4LKX 4H",
        "91210211MA0Y4LKX4",
        "",
        91210211,
    ],
    Kind.MOBILE: [
        "13812345678",
        "1381234567",
        "+8613812345678",
        "138 1234 5678",
        "02412345678",
        "12345678901",
        "",
        13812345678,
    ],
    Kind.EMAIL: [
        "zhangwei@example.com",
        "Zhang.Wei@Example.COM",
        "a@b",
        "no-at.example.com",
        "张伟@example.com",
        " a@example.com",
        "a b@example.com",
        "x" * 65 + "@a.com",
        "a@exa_mple.com",
        "",
    ],
    Kind.PERSON: ["张伟", "张", "欧阳娜娜·买买提", "Zhang Wei", "张 伟", "张" * 21, "", "张1"],
}


def _outcome(read: object, raw: object) -> object:
    try:
        return read(raw)  # type: ignore[operator]
    except InputError as exc:
        return exc


@pytest.mark.parametrize("kind", sorted(_SAMPLES, key=lambda k: k.value))
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_many_answers_read_at_once_as_one_by_one(
    catalog: Catalog, kind: Kind, data: st.DataObject
) -> None:
    field = next(f for f in catalog.fields if f.kind is kind)
    many = readers_for(field, catalog)
    assert many is not None
    raws = data.draw(st.lists(st.sampled_from(_SAMPLES[kind]), min_size=1, max_size=6))
    read = reader_for(field, catalog)
    together = many(list(raws))
    one_by_one = [_outcome(read, raw) for raw in raws]
    # None: not all plain, so the caller reads them one by one; else the very same values.
    assert together is None or (
        together == one_by_one and list(map(type, together)) == list(map(type, one_by_one))
    )
    plain = _SAMPLES[kind][0]
    assert many([plain, plain]) == [read(plain), read(plain)]  # the shortcut is taken


@pytest.mark.parametrize("remembered", [validation._REMEMBERED, 8])
def test_a_file_checked_in_runs_reports_as_record_by_record(
    catalog: Catalog, remembered: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Records with other keys, blanks, refusals, conversions to confirm and repeated answers,
    in one file: the same report for each as when each is checked alone; also where a field's
    memory fills at once and its answers are then read without being looked up."""
    monkeypatch.setattr(validation, "_REMEMBERED", remembered)
    validation._plan.cache_clear()  # every field's memory empty
    rng = random.Random(16)
    records: list[dict[str, object]] = [
        {catalog.by_key[k].name: v for k, v in as_row(typed_record(rng, catalog), catalog).items()}
        for _ in range(600)
    ]
    records[5]["rd_expense"] = "35000000元"  # a conversion to confirm
    records[6]["operating_revenue"] = "很多"  # refused
    records[7]["contact_mobile"] = ""  # blank
    del records[300]["net_profit"]  # another run of keys
    records[301] = dict(reversed(list(records[301].items())))
    records[400]["credit_code"] = "91210211MA0Y4LKX4H"  # a wrong check digit
    records[450]["contact_mobile"] = records[451]["enterprise_name"] = ""  # past the first runs
    records[452]["net_profit"] = "三百"
    records[453]["rd_expense"] = "35000000元"
    records.append({})
    together = check_records(records, catalog)
    alone = [check_record(r, catalog) for r in records]
    assert [(r.values, r.findings, r.notes) for r in together] == [
        (r.values, r.findings, r.notes) for r in alone
    ]
    assert together[5].notes and together[6].strong == ["E-input"]
    assert together[400].strong == ["E-uscc"] and together[-1].strong == ["E-required"]
    assert together[452].strong == ["E-input"] and together[453].notes
    validation._plan.cache_clear()  # no field's memory of another size left to other tests


def test_nothing_to_report_on_a_question_that_may_be_left_empty(
    catalog: Catalog, clean: dict[str, object]
) -> None:
    """无 or 0 typed for 榜单名称 or 技术需求 is no answer, not a list called "无" (which S8 would
    then ask the rank of); on a required text it is the text; read many at once, the same."""
    listed = catalog.by_name["ranking_list_name"]
    read, many = reader_for(listed, catalog), readers_for(listed, catalog)
    assert many is not None
    for typed in ("无", "0", "０", " 没有 ", "/"):
        assert read(typed) is None, typed
    assert read("辽宁省瞪羚企业名单") == "辽宁省瞪羚企业名单"
    assert many(["辽宁省瞪羚企业名单", "无"]) is None  # one by one, then
    assert many(["辽宁省瞪羚企业名单"]) == ["辽宁省瞪羚企业名单"]
    assert reader_for(catalog.by_name["main_products"], catalog)("无") == "无"
    ranked = ("ranking_list_name", "ranking_list_rank", "ranking_list_level")
    unlisted = {k: v for k, v in clean.items() if k not in ranked}
    report = check_record({**unlisted, "ranking_list_name": "无"}, catalog)
    assert "ranking_list_name" not in report.values and "S8" not in report.strong
