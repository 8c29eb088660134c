"""Importing the pre-loaded enterprises: rows created, updated, unchanged or rejected with the
reason; idempotent; a re-import never overwrites what a contact checked or typed."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

from aiogram.methods import SendDocument
from sqlalchemy import func, select

from bot.offline import texts
from services import form
from services.imports import ImportReport, import_records
from services.record_files import stream_records
from storage.models import Answer, AuditEntry, Enterprise
from storage.repositories import Store
from tests.chat.conftest import World
from tests.chat.test_journey import bound

HEADER = ["统一社会信用代码", "企业名称", "所属区县", "2025年度研发费用（万元）", "联系人手机号"]
GOOD = [
    ["91210211MA0Y4LKX4K", "大连海创智能装备有限公司", "大连市甘井子区", "350", "13812345678"],
    ["91210102MA0XKQ1R4H", "沈阳新松测试有限公司", "210102", "1,200", ""],
]
BAD = [
    ["91210211MA0Y4LKX4X", "校验位错误有限公司", "210211", "10", ""],  # check digit
    ["91210211MA0Y4LKX4K", "重复的代码有限公司", "210211", "10", ""],  # a second time
    ["91110000MA0AAAAA3D", "北京某公司", "110101", "10", ""],  # not a Liaoning county
    ["91210211MA0Y4LK55X", "", "210211", "10", ""],  # no name
    ["91210211MA0Y4LK71K", "研发费用写错有限公司", "210211", "三百五十", ""],  # kept, without it
]


def write(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([HEADER, *rows])
    return path


async def run_import(world: World, path: Path, dry_run: bool = False) -> ImportReport:
    records = list(stream_records(path, world.catalog).records)
    async with world.sessions() as session:
        return await import_records(Store(session), world.catalog, records, 42_000, dry_run=dry_run)


async def count(world: World, model: type) -> int:
    async with world.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_rows_are_created_rejected_with_reasons_and_a_second_run_changes_nothing(
    world: World, tmp_path: Path
) -> None:
    path = write(tmp_path / "e.csv", GOOD + BAD)
    report = await run_import(world, path)
    by_row = {r.row: r for r in report.rows}
    assert [by_row[n].outcome for n in range(2, 9)] == [
        "created", "created", "rejected", "rejected", "rejected", "rejected", "created",
    ]  # fmt: skip
    assert "校验" in by_row[4].reason
    assert by_row[5].reason == "与第 2 行的统一社会信用代码重复"
    assert "所属区县" in by_row[6].reason
    assert by_row[7].reason == "缺少企业名称"
    assert by_row[8].dropped and "2025年度研发费用" in by_row[8].dropped[0]
    async with world.sessions() as session:
        enterprise = await session.scalar(
            select(Enterprise).where(Enterprise.credit_code == "91210211MA0Y4LKX4K")
        )
    assert enterprise is not None and enterprise.contact_mobile == "13812345678"
    assert enterprise.preloaded["rd_expense"] == "350" and enterprise.region_code == "210211"
    audit = await count(world, AuditEntry)
    again = await run_import(world, path)
    assert again.counts == {"unchanged": 3, "rejected": 4}
    assert await count(world, Enterprise) == 3 and await count(world, AuditEntry) == audit


async def test_a_dry_run_writes_nothing(world: World, tmp_path: Path) -> None:
    report = await run_import(world, write(tmp_path / "e.csv", GOOD), dry_run=True)
    assert report.counts == {"created": 2}
    assert await count(world, Enterprise) == 0


async def test_a_reimport_refreshes_only_what_the_contact_has_not_checked(
    world: World, tmp_path: Path
) -> None:
    enterprise, person = await bound(world)  # the draft holds the pre-loaded values, unchecked
    await person.press("全部正确")  # the basic information (name, code, county …) checked
    rows = [["91210211MA0Y4LKX4K", "大连海创智能装备股份有限公司", "210211", "360", ""]]
    report = await run_import(world, write(tmp_path / "again.csv", rows))
    [row] = report.rows
    assert row.outcome == "updated" and row.fields == ["enterprise_name", "rd_expense"]
    assert row.kept == ["enterprise_name"]  # the contact confirmed the old name
    async with world.sessions() as session:
        answers = {
            a.field: a
            for a in (await session.scalars(select(Answer))).all()
            if a.field in ("enterprise_name", "rd_expense")
        }
        stored = await session.get(Enterprise, enterprise.id)
    assert answers["enterprise_name"].value == "大连海创智能装备有限公司"
    assert answers["rd_expense"].value == "360" and not answers["rd_expense"].confirmed
    assert stored is not None and stored.name == "大连海创智能装备股份有限公司"
    assert stored.contact_mobile == "13812345678"  # an empty cell changes nothing
    assert (await run_import(world, write(tmp_path / "again.csv", rows))).counts == {"unchanged": 1}
    # the contact types the figure; the platform's next file does not replace it
    async with world.sessions() as session:
        store = Store(session)
        contact = await store.contacts.by_user(1001)
        assert contact is not None
        draft = await form.open_draft(store, contact, world.catalog)
        await form.put(store, draft, "rd_expense", Decimal("370"), "typed", 1001)
        await store.commit()
    rows[0][3] = "380"
    [row] = (await run_import(world, write(tmp_path / "third.csv", rows))).rows
    assert row.outcome == "updated" and row.kept == ["rd_expense"]
    async with world.sessions() as session:
        typed = await session.get(Answer, (draft.submission.id, "rd_expense"))
    assert typed is not None and typed.value == "370" and typed.source == "corrected"


def csv_bytes(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows([HEADER, *rows])
    return out.getvalue().encode("utf-8")


async def test_an_admin_imports_a_file_in_chat(world: World) -> None:
    world.restart(admins=frozenset({42_000}))
    admin = world.person(42_000, "管理员")
    said = texts(await admin.send("/import"))
    assert "请发送要导入的企业名单" in said[0]
    said = texts(await admin.send("好的"))
    assert "请发送 CSV 或 XLSX 文件" in said[0]
    calls = await admin.send_document("名单.csv", csv_bytes(GOOD + BAD))
    said = texts(calls)
    assert "已读取 7 行" in said[0]
    assert "共 7 行：新建 3，更新 0，未变 0，拒绝 4" in said[1]
    assert "· 第 5 行 91210211MA0Y4LKX4K：与第 2 行的统一社会信用代码重复" in said[1]
    [report] = [c for c in calls if isinstance(c, SendDocument)]
    text = report.document.data.decode("utf-8-sig")  # type: ignore[union-attr]
    assert text.count("\n") == 6 and "缺少企业名称" in text  # the header and five rows
    assert await count(world, Enterprise) == 3
    # a file sent with /import as its caption, the second time: nothing changes
    said = texts(await admin.send_document("名单.csv", csv_bytes(GOOD), caption="/import"))
    assert "共 2 行：新建 0，更新 0，未变 2，拒绝 0" in said[-1]


async def test_only_admins_import_and_bad_files_are_explained(world: World) -> None:
    world.restart(admins=frozenset({42_000}))
    stranger = world.person(9001, "路人")
    said = texts(await stranger.send_document("名单.csv", csv_bytes(GOOD), caption="/import"))
    assert said == ["无权限：只有管理员可以使用这个命令。"]
    assert await count(world, Enterprise) == 0
    admin = world.person(42_000, "管理员")
    await admin.send("/import")
    said = texts(await admin.send_document("名单.pdf", b"%PDF-1.4"))
    assert "请发送 CSV 或 XLSX 文件" in said[0]
    await admin.send("/import")
    said = texts(await admin.send_document("名单.xlsx", b"not a workbook"))
    assert "名单.xlsx：不是有效的 Excel 文件" in said[0]
    await admin.send("/import")
    assert texts(await admin.send("/cancel")) == ["已取消导入。"]
