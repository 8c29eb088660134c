"""/export: the workbook read back with openpyxl and checked cell by cell against the database;
one form as a page with its commitment; only the asker's jurisdiction."""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from aiogram.methods import SendDocument
from openpyxl import load_workbook
from sqlalchemy import select

from bot.offline import OfflineChat, texts
from domain.catalog import Catalog, Field, Kind
from domain.validation import parse_answers
from services.record_files import stream_records
from storage.codec import decode
from storage.models import Answer, Enterprise, now
from tests.chat.conftest import World
from tests.chat.helpers import fill, sign
from tests.chat.test_journey import PRELOADED, bound
from tests.chat.test_review import bureaus, send_back
from tests.conftest import CLEAN
from tests.factories import uscc_of

ADMIN = 42_000
WARNED = {"invention_patents": 55, "ip_count": 60}  # W4: 50 or more invention patents
SHENYANG = uscc_of("91210112", "MA0Y4LKX")


async def submitted_with_a_confirmed_warning(world: World) -> OfflineChat:
    _, person = await bound(world, {**PRELOADED, **WARNED})
    await fill(world, person, {**CLEAN, **WARNED})
    await person.send("/start")
    await person.press("第 1 项无误")
    await sign(person)
    return person


def document(calls: list) -> SendDocument:  # type: ignore[type-arg]
    [sent] = [c for c in calls if isinstance(c, SendDocument)]
    return sent


def expected_cell(catalog: Catalog, f: Field, stored: object, cell: object) -> bool:
    """The cell says what the database holds, read the way a person reads the sheet."""
    if stored is None:
        return cell is None
    if f.kind is Kind.MONEY:
        return Decimal(str(cell)) == Decimal(str(stored))
    if f.kind is Kind.DATE:
        return isinstance(cell, datetime) and cell.date() == date.fromisoformat(str(stored))
    if f.kind is Kind.MULTI:
        return str(cell).split("、") == list(stored)  # type: ignore[call-overload]
    if f.kind is Kind.YES_NO:
        return cell == ("是" if stored else "否")
    if f.kind is Kind.REGION:
        return cell == catalog.campaign.regions.counties[str(stored)].full_name
    return cell == stored


async def test_the_workbook_matches_the_database_cell_by_cell(world: World, tmp_path: Path) -> None:
    catalog = world.catalog
    _, group, _, _ = await bureaus(world)
    await submitted_with_a_confirmed_warning(world)
    await send_back(group, [("创新投入", "2025年度研发费用")], ["与加计扣除额不符"])
    await world.enterprise(
        {"credit_code": SHENYANG, "enterprise_name": "=1+1科技有限公司", "region_code": "210112"}
    )
    world.restart(admins=frozenset({ADMIN}))
    sent = document(await world.person(ADMIN, "管理员").send("/export"))
    assert sent.caption and "辽宁省 · 全部 · 2 家企业" in sent.caption
    data: bytes = sent.document.data  # type: ignore[union-attr]
    assert sent.document.filename.startswith("创新积分制-辽宁省-全部-")  # type: ignore[union-attr]
    book = load_workbook(io.BytesIO(data))
    sheet = book["表单"]
    header = [c.value for c in sheet[1]]
    n = len(catalog.fields)
    assert header[:n] == [f.label_with_unit for f in catalog.fields]
    assert header[n:] == ["填报状态", "首次提交时间", "提示规则（确认情况）", "审核意见"]
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    assert len(rows) == 2
    code_column = header.index(catalog.by_name["credit_code"].label_with_unit)
    ours = next(r for r in rows if r[code_column] != SHENYANG)
    async with world.sessions() as session:
        stored = {a.field: a.value for a in (await session.scalars(select(Answer))).all()}
    for i, f in enumerate(catalog.fields):
        assert expected_cell(catalog, f, stored.get(f.name), ours[i]), (f.name, ours[i])
    status, submitted_at, warnings, comments = ours[n:]
    assert status == "已退回" and isinstance(submitted_at, datetime)
    assert warnings.startswith("W4 ") and "企业已确认无误" in warnings
    today = f"{now().astimezone(world.catalog.campaign.zone):%m月%d日}"
    assert comments == f"{today} 区县级 【2025年度研发费用】与加计扣除额不符"
    # a name that looks like a formula stays text
    theirs = next(r for r in sheet.iter_rows(min_row=2) if r[code_column].value == SHENYANG)
    name = theirs[header.index(catalog.by_name["enterprise_name"].label_with_unit)]
    assert name.value == "=1+1科技有限公司" and name.data_type == "s"
    assert theirs[n].value == "未开始"
    # the audit sheet tells the story; the first sheet reads back as the same answers
    trail = [row[4:] for row in book["审计记录"].iter_rows(min_row=2, values_only=True)]
    actions = [action for action, _ in trail]
    for action in ("联系人绑定", "填写", "确认提示无误", "签署承诺书并提交", "审核退回"):
        assert action in actions
    details = dict(trail)
    assert details["联系人绑定"] == "专属链接" and details["签署承诺书并提交"] == "提交至区县审核"
    assert details["确认提示无误"].startswith("W4 ")
    assert all("=" not in (d or "") and "_" not in (d or "") for _, d in trail)  # no stored keys
    assert all("." not in action for action, _ in trail)  # every action in words
    filled = [d for action, d in trail if action == "填写"]
    assert "是否为民营企业：（空） → 是" in filled and not any("True" in d for d in filled)
    path = tmp_path / "export.xlsx"
    path.write_bytes(data)
    read = stream_records(path, catalog)
    records = list(read.records)  # the columns ignored are known once they are read
    assert set(read.ignored_columns) == set(header[n:])
    [record] = [r for r in records if r.answers["credit_code"] != SHENYANG]
    values = parse_answers(record.answers, catalog).values
    in_db = {k: decode(catalog.by_name[k], v) for k, v in stored.items() if v is not None}
    assert values == in_db


async def test_one_form_as_a_page_with_its_commitment(world: World) -> None:
    await submitted_with_a_confirmed_warning(world)
    world.restart(admins=frozenset({ADMIN}))
    async with world.sessions() as session:
        code = (await session.scalars(select(Enterprise.credit_code))).one()
    calls = await world.person(ADMIN, "管理员").send(f"/export {code}")
    sent, beside = [c for c in calls if isinstance(c, SendDocument)]
    page = sent.document.data.decode()  # type: ignore[union-attr]
    # beside the page, the workbook the contact fills, read-only: nothing open, no fill column
    book = load_workbook(io.BytesIO(beside.document.data))  # type: ignore[union-attr]
    sheet = book["填报表"]
    assert sheet.protection.sheet and sheet.column_dimensions["H"].hidden
    assert not sheet.data_validations.dataValidation
    assert all(c.protection.locked for row in sheet.iter_rows() for c in row)
    assert beside.caption and "Excel 只读副本" in beside.caption and "区县审核" in beside.caption
    rows = {r[8]: r for r in sheet.iter_rows(min_row=4, values_only=True)}
    assert rows["rd_expense_2025"][5] == 350 and rows["contact_name"][5] == "张伟"
    assert sent.document.filename == f"{code}-表单.html"  # type: ignore[union-attr]
    assert "<h1>大连海创智能装备有限公司</h1>" in page and "状态：区县审核" in page
    assert "3. 创新投入" in page and "350 万元" in page
    assert "《信息确认承诺书》" in page and "本单位 大连海创智能装备有限公司" in page
    assert "当前数据与签署时一致" in page and "W4 " in page
    assert "签署：张伟（Telegram 账号 张伟，id 1001）" in page


async def test_officials_export_their_jurisdiction_only(world: World) -> None:
    county, _, _, _ = await bureaus(world)
    await submitted_with_a_confirmed_warning(world)
    await world.enterprise(
        {"credit_code": SHENYANG, "enterprise_name": "沈阳某公司", "region_code": "210112"}
    )
    sent = document(await county.send("/export"))
    assert sent.caption and "大连市甘井子区 · 全部 · 1 家企业" in sent.caption
    assert texts(await county.send("/export 沈阳"))[0].startswith("无权限")
    said = texts(await county.send(f"/export {SHENYANG}"))[0]
    assert "不是您辖区内的企业" in said
    said = texts(await county.send("/export 已上报"))[0]
    assert said == "大连市甘井子区没有可导出的企业（范围：已上报）。"
    for person in (world.person(9001, "路人"),):
        assert texts(await person.send("/export"))[0].startswith("无权限")
