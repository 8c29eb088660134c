"""The scoring run: estimates stored per scoring.md, each enterprise told its score, each bureau
its ranking with the XLSX behind a button; a second run with the same data sends nothing."""

from __future__ import annotations

import io
import random
from datetime import date

from aiogram.methods import AnswerCallbackQuery, SendDocument
from openpyxl import load_workbook
from sqlalchemy import func, select, update

from bot.offline import texts
from domain.review import Jurisdiction
from domain.scoring import score_cohort
from services import exports
from storage.codec import encode
from storage.models import Answer, Delivery, Enterprise, StoredScore, Submission, now
from storage.repositories import Store
from tests.chat.conftest import World, official
from tests.chat.test_review import GROUP, bureaus, last_text, submitted_form
from tests.factories import typed_record

ADMIN = 42_000
COUNTY = "210211"  # 甘井子区, where the contact's enterprise is


async def cohort(world: World, n: int) -> None:
    """n submitted forms of 成长期 enterprises (registered like the contact's), most in 甘井子区."""
    rng = random.Random(11)
    catalog = world.catalog
    async with world.sessions() as session:
        for i in range(n):
            record = typed_record(rng, catalog)
            record["registration_date"] = date(2018, 5, 20)
            county = COUNTY if i % 3 else "210112"  # a third in 沈阳市浑南区
            record["region_code"] = county
            record["credit_code"] = (
                str(record["credit_code"])[:2] + county + str(record["credit_code"])[8:]
            )
            enterprise = Enterprise(
                credit_code=f"91{county}{i:09d}X"[:18],
                name=f"{record['enterprise_name']}{i}",
                region_code=county,
                status="active",
            )
            session.add(enterprise)
            await session.flush()
            submission = Submission(
                enterprise_id=enterprise.id,
                campaign=2026,
                status="city_review" if i % 2 else "submitted",
                submitted_at=now(),
                status_at=now(),
            )
            session.add(submission)
            await session.flush()
            session.add_all(
                Answer(
                    submission_id=submission.id,
                    field=name,
                    value=encode(catalog.by_name[name], value),
                    source="typed",
                    answered_by=1,
                    answered_at=now(),
                )
                for name, value in record.items()
                if name not in ("credit_code", "region_code")
            )
        await session.commit()


async def deliveries(world: World) -> int:
    async with world.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Delivery)) or 0)


async def test_the_run_stores_tells_and_does_not_repeat_itself(world: World) -> None:
    county, group, _, province = await bureaus(world)
    outsider = await official(world, "county", "210112", 502, "孙科长")  # 沈阳市浑南区
    contact = await submitted_form(world)  # the contact's own enterprise, 成长期 too
    await cohort(world, 40)
    world.restart(admins=frozenset({ADMIN}))
    admin = world.person(ADMIN, "管理员")

    said = texts(await admin.send("/score run"))[0]
    assert "积分计算完成：41 份已提交的表单，其中 41 份结果有变化" in said
    assert "成长期 41 家" in said and "已排队通知 1 家企业、4 个审核单位" in said
    news = last_text(world, contact.user.id)
    assert "🏅 <b>大连海创智能装备有限公司</b> · 2026 年创新积分计算结果" in news
    assert "与同阶段已提交的 41 家企业比较" in news and "研发费用金额：" in news

    # stored as scoring.md computes them from the same answers
    async with world.sessions() as session:
        stored = {s.submission_id: s for s in (await session.scalars(select(StoredScore))).all()}
        province_wide = Jurisdiction("province", "210000")
        records = await exports.forms(Store(session), world.catalog, province_wide, "submitted")
    expected = score_cohort([r.values for r in records], world.catalog.campaign)
    for record, score in zip(records, expected, strict=True):
        got = stored[record.submission.id]  # type: ignore[union-attr]
        assert got.total is not None and abs(got.total - (score.total or 0)) < 1e-9
        assert got.stage == "成长期" and got.cohort_size == 41

    # the county's group: its ranking, and the whole table behind the button
    summary = last_text(world, GROUP)
    assert "🏅 <b>大连市甘井子区科技局</b> · 2026 年预估积分" in summary
    assert "辖区内已计算 27 家企业" in summary and "1. " in summary
    calls = await group.press("下载排名表（XLSX）")
    [sheet_sent] = [c for c in calls if isinstance(c, SendDocument)]
    sheet = load_workbook(io.BytesIO(sheet_sent.document.data)).active  # type: ignore[union-attr]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert len(rows) == 27 and rows[0][0] == 1
    totals = [r[6] for r in rows]
    assert totals == sorted(totals, reverse=True)
    by_code = {e.credit_code: s for s, e in await _scored(world)}
    for row in rows:
        assert abs(row[6] - round(by_code[row[1]].total, 2)) < 1e-9  # type: ignore[operator]

    # the province may run it; a county official may not, nor press another bureau's button
    assert "没有重复发送通知" in texts(await province.send("/score run"))[0]
    assert texts(await county.send("/score run"))[0].startswith("无权限")
    # the county's button, pressed by 浑南区's official
    markup_data = group.keyboards()[-1][1].inline_keyboard[0][0].callback_data
    calls = await outsider.press_data(1, markup_data or "")
    refused = [c for c in calls if isinstance(c, AnswerCallbackQuery)]
    assert refused and (refused[0].text or "").startswith("无权限")
    assert not [c for c in calls if isinstance(c, SendDocument)]

    # the same data again: nothing new queued; a changed figure: only what changed is told
    before = await deliveries(world)
    said = texts(await admin.send("/score run"))[0]
    assert "41 份结果有变化" not in said and "没有重复发送通知" in said
    assert await deliveries(world) == before
    async with world.sessions() as session:
        await session.execute(
            update(Answer)
            .where(Answer.field == "rd_expense", Answer.submission_id == 1)
            .values(value="5000")
        )
        await session.commit()
    said = texts(await admin.send("/score run"))[0]
    assert "已排队通知 1 家企业" in said
    assert "积分计算结果" in last_text(world, contact.user.id)


async def _scored(world: World) -> list[tuple[StoredScore, Enterprise]]:
    async with world.sessions() as session:
        rows = await session.execute(
            select(StoredScore, Enterprise)
            .join(Submission, Submission.id == StoredScore.submission_id)
            .join(Enterprise, Enterprise.id == Submission.enterprise_id)
        )
        return [(s, e) for s, e in rows.all()]


async def test_the_ranking_on_request_and_who_may_ask(world: World) -> None:
    county = await official(world, "county", COUNTY, 501, "王科长")
    assert "还没有计算过积分" in texts(await county.send("/score"))[0]
    await cohort(world, 35)
    world.restart(admins=frozenset({ADMIN}))
    await world.person(ADMIN, "管理员").send("/score run")
    said = texts(await county.send("/score"))[0]
    assert "大连市甘井子区科技局" in said and "辖区内已计算 23 家企业" in said
    assert texts(await county.send("/score 沈阳"))[0].startswith("无权限")
    assert texts(await world.person(9001, "路人").send("/score run"))[0].startswith("无权限")
