"""The campaign calendar means something: a form is submitted within its window, the contact is
told early when it opens or that it closed and whom to ask."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.offline import OfflineChat, texts
from domain import clock
from reminders import planner
from services import deadlines
from storage.models import AuditEntry, Enterprise, Submission
from tests.chat.conftest import World, official
from tests.chat.helpers import fill, sign
from tests.chat.test_journey import PRELOADED, bound
from tests.chat.test_review import submitted_form
from tests.conftest import CLEAN
from tests.factories import numbered_code

SHANGHAI = ZoneInfo("Asia/Shanghai")
OTHER = numbered_code(2, "MB")  # a second enterprise


def on(world: World, day: date) -> None:
    clock.pin(day, world.catalog.campaign.zone)


async def status(world: World, enterprise_id: int = 1) -> str:
    async with world.sessions() as session:
        return (
            await session.scalars(
                select(Submission.status).where(Submission.enterprise_id == enterprise_id)
            )
        ).one()


def labels(person: OfflineChat) -> list[str]:
    """The buttons of the newest message that has any."""
    _, markup = person.keyboards()[-1]
    return [button.text for row in markup.inline_keyboard for button in row]


async def test_a_submission_after_the_deadline_is_refused(world: World) -> None:
    _, person = await bound(world)
    await fill(world, person, CLEAN)
    on(world, date(2026, 6, 27))  # the day after the collection closed
    said = texts(await person.send("/start"))
    assert "信息征集已于6月26日截止，表单不能再提交" in said[0]
    assert "请联系大连市甘井子区科技局" in said[0]
    assert "已于6月26日截止" in said[-1] and "签署承诺书并提交" not in labels(person)
    on(world, date(2026, 6, 26))  # a screen from the last day, pressed a day late
    await person.send("/start")
    await person.press("签署承诺书并提交")
    await person.press("内容无误")
    on(world, date(2026, 6, 27))
    said = texts(await person.press("我已阅读并同意"))
    assert "已于6月26日截止" in said[-1] and await status(world) == "draft"


async def test_binding_after_the_deadline_says_so_at_once(world: World) -> None:
    on(world, date(2026, 12, 6))
    _, person = await bound(world)  # by the invitation link
    said = texts(person.session.sent_to(person.chat.id))  # type: ignore[attr-defined]
    assert any("信息征集已于6月26日截止，表单不能再提交" in text for text in said)


async def test_binding_to_a_submitted_form_shows_where_it_stands(world: World) -> None:
    await submitted_form(world)
    second = world.person(1002)
    await second.send("/start")
    await second.share_contact("13812345678")
    said = texts(second.session.sent_to(second.chat.id))  # type: ignore[attr-defined]
    assert not any("用 Excel 填写" in text or "约 " in text for text in said)
    assert "填报状态" in said[-1]


async def test_before_the_window_answers_are_kept_and_submission_waits(world: World) -> None:
    on(world, date(2026, 6, 1))
    _, person = await bound(world)
    await fill(world, person, CLEAN)
    said = texts(await person.send("/start"))
    assert "表单6月13日起可以提交，截止6月26日。现在填写的内容都会保存" in said[0]
    assert "全部就绪" not in said[-1] and "6月13日起可以提交" in said[-1]
    on(world, date(2026, 6, 13))
    said = texts(await person.send("/start"))
    assert "全部就绪，可以签署承诺书并提交" in said[-1] and "可以提交，截止" not in said[-1]


async def test_refused_after_the_deadline_then_accepted_after_extend(world: World) -> None:
    _, person = await bound(world)
    other, neighbour = await bound(world, {**PRELOADED, "credit_code": OTHER}, user_id=1002)
    await fill(world, person, CLEAN)
    on(world, date(2026, 6, 29))
    await person.send("/start")
    assert "签署承诺书并提交" not in labels(person)

    province = await official(world, "province", "210000", 701, "赵处长")
    county = await official(world, "county", "210211", 501, "王科长")
    assert "无权限" in texts(await county.send("/extend 甘井子区 2026-07-03"))[-1]
    said = texts(await province.send("/extend 甘井子区 2026-06-28"))
    assert "延期日期6月28日已经过去" in said[-1]
    said = texts(await province.send("/extend 2026-07-03 甘井子区"))
    assert "用法：/extend" in said[-1]
    said = texts(await province.send(f"/extend {CLEAN['credit_code']} 2026-07-03"))
    assert "大连海创智能装备有限公司的填报截止日期已延至7月3日（已记录）" in said[-1]
    assert "已通知 1 家尚未提交企业的 1 位联系人" in said[-1]
    told = texts(world.bot.session.sent_to(1001))  # type: ignore[attr-defined]
    assert "填报截止日期已延至<b>7月3日</b>。请在此前完成填报并提交" in told[-1]
    assert not [t for t in texts(world.bot.session.sent_to(1002)) if "延至" in t]  # type: ignore[attr-defined]

    said = texts(await person.send("/start"))
    assert "提交截止日期已延至<b>7月3日</b>" in said[-1] and "全部就绪" in said[-1]
    said = await sign(person)
    assert "已提交" in said[-1] and await status(world, other.id) == "draft"
    assert await status(world) == "submitted"
    async with world.sessions() as session:
        audit = (
            await session.scalars(
                select(AuditEntry).where(AuditEntry.action == "deadline.extended")
            )
        ).all()
    assert [(a.actor, a.detail["scope"], a.detail["until"]) for a in audit] == [
        (701, "enterprise", "2026-07-03")
    ]
    assert neighbour  # the other enterprise's contact, told nothing


async def test_the_countdown_follows_an_extended_deadline(world: World) -> None:
    _, person = await bound(world)
    await bound(world, {**PRELOADED, "credit_code": OTHER, "region_code": "210102"}, user_id=1002)
    province = await official(world, "province", "210000", 701, "赵处长")
    await province.send("/extend 大连 2026-07-03")
    assert person  # bound, not submitted: both get the countdown, each to their own deadline
    on_26 = dict(await planned(world, datetime(2026, 6, 26, 10, tzinfo=SHANGHAI)))
    assert "<b>今天</b>是填报截止日（6月26日）" in on_26[1002]
    assert "距填报截止还有 <b>7 天</b>（7月3日）" in on_26[1001]
    on_2 = await planned(world, datetime(2026, 7, 2, 10, tzinfo=SHANGHAI))
    assert [u for u, _ in on_2] == [1001] and "距填报截止还有 <b>1 天</b>（7月3日）" in on_2[0][1]


async def test_an_extension_says_whom_it_could_not_tell(world: World) -> None:
    """/extend takes a day as officials write it (7月3日: the campaign's year); enterprises in the
    place that nobody has bound yet are counted as not told, not passed over as if none."""
    await bound(world)
    catalog = world.catalog
    await world.enterprise(
        {k: v for k, v in PRELOADED.items() if catalog.by_name[k].prefill}
        | {"credit_code": OTHER, "enterprise_name": "大连未绑定科技有限公司"}
    )
    province = await official(world, "province", "210000", 701, "赵处长")
    said = texts(await province.send("/extend 大连 7月3日"))
    assert "大连市的填报截止日期已延至7月3日（已记录）" in said[-1]
    assert "已通知 1 家尚未提交企业的 1 位联系人" in said[-1]
    assert "另有 1 家尚未提交的企业还没有联系人绑定，无法通知" in said[-1]
    said = texts(await province.send("/extend 大连 7月32日"))
    assert "用法：/extend" in said[-1] and "7月3日" in said[-1]


async def planned(world: World, moment: datetime) -> list[tuple[int, str]]:
    """The countdown reminders the planner makes for that moment's day."""
    async with world.sessions() as session:
        day = planner.today(world.catalog, moment)
        assert day is not None
        messages = await planner.plan(session, world.catalog, day, "cxjf_bot")
    return sorted((m.chat_id, m.text) for m in messages if ":countdown:" in m.key)


async def test_a_review_waiting_past_its_window_is_overdue(world: World) -> None:
    county = await official(world, "county", "210211", 501, "王科长")
    await submitted_form(world)
    within = await digests(world, datetime(2026, 7, 3, 10, tzinfo=SHANGHAI))
    assert "1</b> 份表单等待审核。" in within[501] and "逾期" not in within[501]
    on(world, date(2026, 7, 7))  # the county's deadline was 5 July; reviews are not blocked
    after = await digests(world, datetime(2026, 7, 7, 10, tzinfo=SHANGHAI))
    assert "其中 <b>1</b> 份已<b>逾期</b>" in after[501]
    async with world.sessions() as session:
        forms = (
            await session.execute(
                select(Submission, Enterprise).join(
                    Enterprise, Enterprise.id == Submission.enterprise_id
                )
            )
        ).all()
        assert await deadlines.overdue_ids(session, world.catalog, forms) == {forms[0][0].id}
    assert county


async def digests(world: World, moment: datetime) -> dict[int, str]:
    async with world.sessions() as session:
        day = planner.today(world.catalog, moment)
        assert day is not None
        messages = await planner.plan(session, world.catalog, day, "cxjf_bot")
    return {m.chat_id: m.text for m in messages if ":local_digest:" in m.key}


async def test_the_board_shows_where_forms_wait_and_for_how_long(world: World) -> None:
    province = await official(world, "province", "210000", 701, "赵处长")
    await submitted_form(world)  # on 22 June, to the county
    on(world, date(2026, 7, 7))  # two days past the county's deadline
    board = texts(await province.send("/status"))[-1]
    assert "⏳ 等待审核：区县 1 · 市 0 · 省 0，最久已等 15 天，<b>逾期 1 份</b>" in board
    assert "大连市：1/0/0 · 15 天 · <b>逾期 1</b>" in board
    assert "沈阳市：" not in board.split("<b>审核</b>")[1]  # only the places where forms wait
    board = texts(await province.send("/status 甘井子区"))[-1]
    assert "最久已等 15 天，<b>逾期 1 份</b>" in board
