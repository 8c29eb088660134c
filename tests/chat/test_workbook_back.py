"""The filled workbook back: read by the same parsers as typed answers, applied in one
transaction, reported; the chat asks only what is left. Hostile files change nothing."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime
from decimal import Decimal

from aiogram.methods import GetFile
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from bot.offline import OfflineChat, texts
from domain.validation import check_values
from services.workbook import FILL, HEADER_ROW, KEY, SHEET
from storage.codec import decode
from storage.models import Answer, AuditEntry, Enterprise, Submission
from tests.chat.conftest import World
from tests.chat.helpers import fill, screen, sign
from tests.chat.test_journey import PRELOADED, bound
from tests.chat.test_review import bureaus, send_back, submitted_form
from tests.chat.test_workbook import download, sent_workbook

OTHER = {
    **PRELOADED,
    "credit_code": "91210102MA0XKQ1R4H",
    "enterprise_name": "沈阳新松测试有限公司",
}


def filled(data: bytes, cells: dict[str, object]) -> bytes:
    """The workbook with cells of the fill column written, by field key, as a person types."""
    book = load_workbook(io.BytesIO(data))
    sheet = book[SHEET]
    rows = {sheet.cell(r, KEY).value: r for r in range(HEADER_ROW + 1, sheet.max_row + 1)}
    for key, value in cells.items():
        sheet.cell(rows[key], FILL).value = value
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# What the finance colleague typed: full-width digits, 亿, 元 written out, a number Excel made
# of a phone, "无误" beside pre-loaded values, a wrong choice, an empty required cell, a figure
# in 元 without saying so (800,000 for 80 万元), a count with its unit.
TYPED_IN_EXCEL: dict[str, object] = {
    "enterprise_name": "无误",
    "credit_code": "无误",
    "registration_date": datetime(2018, 5, 20),
    "region_code": "无误",
    "operating_status": "无误",
    "qualifications": "高新技术企业、科技型中小企业",
    "contact_name": "张伟",
    "contact_mobile": 13812345678,
    "contact_email": "zhangwei@example.com",
    "enterprise_scale": "小型",
    "tech_field": "先进制造与自动化",
    "industry_code": "C3421",
    "is_private": "是",
    "has_party_org": "否",
    "rd_institution": "区级",  # not a choice: refused, asked in chat
    "main_products": "数控机床主轴、精密减速器",
    # key_technologies: left empty, required
    "rd_expense_2025": 350,
    "employees_2025": 120,
    "rd_staff_2025": "30人",
    "high_edu_staff_2025": 45,
    "invention_patents": 5,
    "ip_count": 28,
    "tech_contract_absorbed_2025": 800000,  # 元, without saying so
    "tech_contract_output_2025": "0.012亿",
    "standards_count": 25,  # W11
    "municipal_projects": 2,
    "provincial_projects": 1.0,
    "municipal_awards": 0,
    "provincial_awards": "０",
    "financing_amount": "5000000元",
    "financing_history": "银行贷款",
}
IN_CHAT = {  # then typed in chat: the refused choice, the empty required cell
    "rd_institution": "企业自建",
    "key_technologies": "高速电主轴热变形补偿技术",
}
SAME_TYPED = {  # the same values as the chat reads them (80 after the unit question)
    **PRELOADED,
    "contact_mobile": "13812345678",
    "tech_contract_absorbed": Decimal("80"),
    "standards_count": 25,
}


async def values_of(world: World, credit_code: str) -> dict[str, object]:
    async with world.sessions() as session:
        rows = await session.execute(
            select(Answer.field, Answer.value)
            .join(Submission, Submission.id == Answer.submission_id)
            .join(Enterprise, Enterprise.id == Submission.enterprise_id)
            .where(Enterprise.credit_code == credit_code)
        )
        catalog = world.catalog
        return {f: decode(catalog.by_name[f], v) for f, v in rows if v is not None}


async def to_summary(world: World, person: OfflineChat) -> list[str]:
    """Through what the chat asks after a workbook: fields, pre-loaded checks, unit questions."""
    said: list[str] = []
    for _ in range(40):
        at = await screen(world, person)
        if at.get("kind") == "summary":
            return said
        if at.get("kind") == "unit":
            said += texts(await person.press("改为"))
        elif at.get("kind") == "field" and at["field"] in IN_CHAT:
            value = IN_CHAT[at["field"]]
            chosen = at["field"] == "rd_institution"
            said += texts(await (person.press(value) if chosen else person.send(value)))
        elif at.get("kind") == "preloaded":
            said += texts(await person.press("全部正确"))
        elif at.get("kind") == "problems":
            said += texts(await person.press("数据无误"))
        else:
            raise AssertionError(f"asked {at} after the workbook")
    raise AssertionError("no summary")


async def test_round_trip_stores_what_typing_the_same_values_stores(world: World) -> None:
    enterprise, person = await bound(world)
    data = filled(await download(person), TYPED_IN_EXCEL)
    report = texts(await person.send_document("财务填好的.xlsx", data))
    text = report[0]
    assert "已读取表格" in text and "财务填好的.xlsx" in text
    # taken: what differs from the stored values; checked: 无误 and pre-loaded values retyped
    assert "采用 <b>14</b> 项，核对无误 16 项" in text and "选填项留空 10 项" in text
    assert "您填写的是 5,000,000 元，已换算为 500 万元" in text
    assert "未采用 1 项" in text and "研发机构：“区级”不是可选的选项" in text
    assert "W11" in text and "确认 1 个金额的单位" in text
    assert "还缺的 2 项" in text  # the refused choice, the empty required cell
    assert "核对省平台带入的 9 项" in text  # 创新发展: left empty, still to check
    # then only what is left, one at a time: the refused choice first
    assert (await screen(world, person)) == {"kind": "field", "field": "rd_institution"}
    said = await to_summary(world, person)
    assert any("您填的是<b>元</b>吗" in t for t in said)  # the 800,000 asked about
    summary = texts(await person.send("/start"))[-1]
    assert "提交前请核对" in summary and "参与制定国家或行业标准数量" in summary

    _, other = await bound(world, OTHER, user_id=1002)
    await fill(world, other, SAME_TYPED)
    by_excel = await values_of(world, enterprise.credit_code)
    by_chat = await values_of(world, OTHER["credit_code"])  # type: ignore[arg-type]
    catalog = world.catalog
    fired = {f.rule for f in check_values(by_excel, catalog)}
    assert fired == {f.rule for f in check_values(by_chat, catalog)} == {"W11"}
    for name in ("credit_code", "enterprise_name"):  # the two enterprises' own
        assert by_excel.pop(name) != by_chat.pop(name)
    assert by_excel == by_chat
    async with world.sessions() as session:
        sources = dict(
            (
                await session.execute(
                    select(Answer.field, Answer.source).where(Answer.submission_id == 1)
                )
            ).all()
        )
        excel_entries = await session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(
                AuditEntry.action == "answer", AuditEntry.detail["source"].as_string() == "excel"
            )
        )
    assert sources["financing_amount"] == "excel" and sources["rd_institution"] == "typed"
    assert sources["tech_contract_absorbed"] == "corrected"  # the unit question's fix
    assert sources["tech_needs"] == "skipped"  # an optional cell left empty
    assert excel_entries == 14  # one entry per value taken (the 10 skipped: source skipped)


async def test_nothing_to_report_in_a_cell_that_may_be_left_empty(world: World) -> None:
    """无 in 企业技术需求's cell, 0 in 榜单名称's: each skipped, as 跳过 would be."""
    _, person = await bound(world)
    data = filled(await download(person), {"tech_needs": "无", "ranking_list_name": "0"})
    await person.send_document("填好的.xlsx", data)
    async with world.sessions() as session:
        sources = dict(
            (
                await session.execute(
                    select(Answer.field, Answer.source).where(Answer.submission_id == 1)
                )
            ).all()
        )
    assert sources["tech_needs"] == sources["ranking_list_name"] == "skipped"


async def audit_count(world: World) -> int:
    async with world.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(AuditEntry)) or 0)


async def unchanged_after(world: World, person: OfflineChat, name: str, data: bytes) -> str:
    """Send a file; assert nothing was written; what the bot said."""
    before = (await audit_count(world), await values_of(world, "91210211MA0Y4LKX4K"))
    said = texts(await person.send_document(name, data))
    assert before == (await audit_count(world), await values_of(world, "91210211MA0Y4LKX4K"))
    assert "表单没有任何改动" in said[-1]
    return said[-1]


def zipped(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return out.getvalue()


async def test_hostile_files_get_reasons_and_change_nothing(world: World) -> None:
    _, person = await bound(world)
    _, other = await bound(world, OTHER, user_id=1002)
    theirs = filled(await download(other), {"contact_name": "李娜"})
    said = await unchanged_after(world, person, "x.xlsx", theirs)
    assert "另一家企业（统一社会信用代码 91210102MA0XKQ1R4H）" in said
    csv = "统一社会信用代码,企业名称\n91210211MA0Y4LKX4K,大连海创\n".encode()
    assert "改了扩展名的 CSV" in await unchanged_after(world, person, "form.xlsx", csv)
    old = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512)
    assert "旧版 Excel（.xls）" in await unchanged_after(world, person, "form.xls", old)
    bomb = zipped({"xl/worksheets/sheet1.xml": bytes(40 * 2**20)})  # 40 MiB of zeros, ~40 KiB
    assert len(bomb) < 100_000
    assert "解压后过大" in await unchanged_after(world, person, "bomb.xlsx", bomb)
    junk = zipped({"[Content_Types].xml": b"<not xml"})
    assert "已损坏" in await unchanged_after(world, person, "junk.xlsx", junk)
    plain = io.BytesIO()
    Workbook().save(plain)
    assert "不是我生成的填报表格" in await unchanged_after(
        world, person, "p.xlsx", plain.getvalue()
    )
    downloads = sum(isinstance(c, GetFile) for c in person.session.calls)
    huge = b"PK" + bytes(3 * 2**20)
    assert "填报表格不会超过 2 MB" in await unchanged_after(world, person, "big.xlsx", huge)
    assert sum(isinstance(c, GetFile) for c in person.session.calls) == downloads  # by its size


async def test_an_older_file_never_overwrites_what_was_typed_in_chat_since(world: World) -> None:
    _, person = await bound(world)
    data = await download(person)
    await person.send("/menu")
    await person.press("基本信息")
    await person.press("联系人姓名")
    await person.send("李娜")  # typed in chat after the file was made
    later = filled(data, {"contact_name": "张伟", "contact_email": "zhangwei@example.com"})
    said = texts(await person.send_document("旧的.xlsx", later))[0]
    assert "以下 1 项又改过，以现在的为准" in said
    assert "联系人姓名：现在为 李娜，表格中为 张伟" in said
    values = await values_of(world, "91210211MA0Y4LKX4K")
    assert values["contact_name"] == "李娜"  # kept
    assert values["contact_email"] == "zhangwei@example.com"  # unchanged since: taken


async def test_a_submitted_form_never_changes_by_file(world: World) -> None:
    _, person = await bound(world)
    data = await download(person)
    await fill(world, person, SAME_TYPED)
    await sign(person)
    said = await unchanged_after(world, person, "f.xlsx", filled(data, {"employees_2025": 999}))
    assert "表单已提交" in said and "不能再用表格修改" in said
    readonly = sent_workbook(await person.send("/excel"))  # now a read-only copy
    said = await unchanged_after(world, person, "r.xlsx", readonly)
    assert "只读副本" in said


async def test_a_file_wrong_everywhere_is_reported_in_one_message(world: World) -> None:
    _, person = await bound(world)
    data = await download(person)
    wrong = {f.key: "看财务报表" + "很长的说明" * 120 for f in world.catalog.fields}
    said = texts(await person.send_document("乱填.xlsx", filled(data, wrong)))
    count = len(world.catalog.fields)
    assert f"未采用 {count} 项" in said[0] and said[0].count("\n· ") == count
    assert len(said[0]) <= 4096 and "采用 <b>0</b> 项" in said[0]
    values = await values_of(world, "91210211MA0Y4LKX4K")
    assert values == {k: v for k, v in PRELOADED.items() if world.catalog.by_name[k].prefill}


async def test_a_returned_form_takes_only_the_returned_fields(world: World) -> None:
    _, group, _, _ = await bureaus(world)
    person = await submitted_form(world)
    await send_back(group, [("创新投入", "2025年度研发费用")], ["请按审计报告核对"])
    data = await download(person)
    sheet = load_workbook(io.BytesIO(data))[SHEET]
    by_key = {sheet.cell(r, KEY).value: r for r in range(HEADER_ROW + 1, sheet.max_row + 1)}
    assert sheet.cell(by_key["rd_expense_2025"], FILL).protection.locked is False
    assert sheet.cell(by_key["employees_2025"], FILL).protection.locked  # not returned
    assert "审核意见：请按审计报告核对" in sheet.cell(by_key["rd_expense_2025"], 5).value
    said = texts(
        await person.send_document(
            "改.xlsx", filled(data, {"rd_expense_2025": 400, "employees_2025": 999})
        )
    )
    assert "采用 <b>1</b> 项" in said[0] and "未被退回的 1 项不能修改" in said[0]
    values = await values_of(world, "91210211MA0Y4LKX4K")
    assert values["rd_expense"] == Decimal("400") and values["employees"] == 120
    assert "提交前请核对" in said[-1]  # nothing else is left


async def test_the_same_file_twice_changes_nothing_the_second_time(world: World) -> None:
    _, person = await bound(world)
    data = filled(await download(person), {"contact_name": "张伟", "employees_2025": 130})
    await person.send_document("a.xlsx", data)
    entries = await audit_count(world)
    said = texts(await person.send_document("a.xlsx", data))[0]
    assert "采用 <b>0</b> 项，与已保存的相同 2 项" in said and "又改过" not in said
    assert await audit_count(world) == entries


async def test_the_audit_trail_says_which_answers_came_by_workbook(world: World) -> None:
    _, person = await bound(world)
    await person.send_document("a.xlsx", filled(await download(person), {"contact_name": "张伟"}))
    world.restart(admins=frozenset({42_000}))
    calls = await world.person(42_000, "管理员").send("/export")
    trail = load_workbook(io.BytesIO(sent_workbook(calls)))["审计记录"]
    details = [row[5] for row in trail.iter_rows(min_row=2, values_only=True)]
    assert "联系人姓名：（空） → 张伟（Excel 表格）" in details
