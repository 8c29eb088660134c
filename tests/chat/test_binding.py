"""Binding: invitation links, shared phone numbers, requests the county bureau confirms."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update
from stdnum.cn import uscc

from bot.offline import texts
from services import officials
from services.binding import EnterpriseLink, invite_enterprises
from storage.models import AuditEntry, Contact, Enterprise, Invitation, ReviewCard, now
from storage.repositories import Store
from tests.chat.conftest import World
from tests.chat.helpers import screen
from tests.chat.test_journey import PRELOADED, bound

OTHER_CODE = "91210211MA0Y4LKX" + "4" + uscc.calc_check_digit("91210211MA0Y4LKX4")


async def preloaded(world: World, mobile: str = "13812345678") -> Enterprise:
    answers = {k: v for k, v in PRELOADED.items() if world.catalog.by_name[k].prefill}
    return await world.enterprise(answers | {"contact_mobile": mobile})


async def test_a_stranger_is_welcomed_with_the_three_ways(world: World) -> None:
    said = texts(await world.person().send("/start"))
    assert "专属链接" in said[0] and "分享手机号" in said[0] and "统一社会信用代码" in said[0]
    said = texts(await world.person().send("你好"))
    assert "专属链接" in said[-1]


async def test_an_invitation_works_once_and_is_stored_hashed(world: World) -> None:
    enterprise = await preloaded(world)
    token = await world.invitation(enterprise)
    said = texts(await world.person(1).send(f"/start {token}"))
    assert "已绑定：<b>大连海创智能装备有限公司</b>" in said[0]
    said = texts(await world.person(2).send(f"/start {token}"))
    assert "已经使用过了" in said[0]
    async with world.sessions() as session:
        stored = (await session.scalars(select(Invitation))).one()
    assert token not in stored.token_sha256 and len(stored.token_sha256) == 64


async def test_an_expired_or_unknown_invitation(world: World) -> None:
    enterprise = await preloaded(world)
    token = await world.invitation(enterprise)
    async with world.sessions() as session:
        await session.execute(update(Invitation).values(expires_at=now() - timedelta(seconds=1)))
        await session.commit()
    assert "已过期" in texts(await world.person().send(f"/start {token}"))[0]
    assert "链接无效" in texts(await world.person().send("/start not-a-real-code"))[0]
    assert "链接无效" in texts(await world.person().send("/start " + "x" * 500))[0]


async def links(world: World, code: str, unbound_only: bool = False) -> list[EnterpriseLink]:
    async with world.sessions() as session:
        store = Store(session)
        where = officials.jurisdiction_of(world.catalog.campaign.regions, code)
        found = await invite_enterprises(store, where, timedelta(days=14), unbound_only)
        await store.commit()
        return found


async def test_the_bureaus_links_file_binds_each_enterprise_once(world: World) -> None:
    ours = await preloaded(world)
    other = {"credit_code": OTHER_CODE, "enterprise_name": "沈阳某科技有限公司"}
    await world.enterprise(other | {"region_code": "210112"})  # 沈阳市浑南区
    issued = await links(world, "210200")  # the city of 大连
    assert [link.enterprise.id for link in issued] == [ours.id] and issued[0].contacts == 0
    assert len(await links(world, "210000")) == 2  # the province
    said = texts(await world.person(1).send(f"/start {issued[0].token}"))
    assert "已绑定：<b>大连海创智能装备有限公司</b>" in said[0]
    assert "已经使用过了" in texts(await world.person(2).send(f"/start {issued[0].token}"))[0]
    assert await links(world, "210211", unbound_only=True) == []
    again = await links(world, "210211")
    assert again[0].contacts == 1  # a second contact may still be invited
    assert "已绑定" in texts(await world.person(2).send(f"/start {again[0].token}"))[0]


async def test_one_account_one_enterprise(world: World) -> None:
    first = await preloaded(world)
    other = await world.enterprise(
        {"credit_code": OTHER_CODE, "enterprise_name": "别家科技有限公司"}
    )
    person = world.person()
    await person.send(f"/start {await world.invitation(first)}")
    said = texts(await person.send(f"/start {await world.invitation(other)}"))
    assert "您已绑定 <b>大连海创智能装备有限公司</b>" in said[0]


async def test_binding_by_the_shared_phone_number(world: World) -> None:
    await preloaded(world, mobile="13812345678")
    person = world.person()
    said = texts(await person.share_contact("+86 138 1234 5678"))
    assert "已绑定" in said[0] and "以下 9 项由省平台带入" in said[-1]


async def test_a_phone_number_that_matches_nothing(world: World) -> None:
    await preloaded(world, mobile="13812345678")
    said = texts(await world.person().share_contact("13900000000"))
    assert "没有找到联系人手机号为该号码的企业" in said[0]


async def test_someone_elses_contact_card_does_not_bind(world: World) -> None:
    await preloaded(world, mobile="13812345678")
    person = world.person()
    said = texts(await person.share_contact("13812345678", user_id=999))
    assert "请用下方按钮分享您本人的手机号" in said[0]
    async with world.sessions() as session:
        assert not (await session.scalars(select(Contact))).all()


async def test_a_request_the_county_bureau_confirms(world: World) -> None:
    person = world.person()
    said = texts(await person.send("9121021100000000X"))
    assert "统一社会信用代码应为 18 位" in said[0]
    said = texts(await person.send("91210211MA0Y4LKX3G"))
    assert "请发送企业全称" in said[0]
    said = texts(await person.send("大连海创智能装备有限公司"))
    assert "请选择企业所在的区县" in said[0]
    await person.press("大连市")
    said = texts(await person.press("甘井子区"))
    assert "已提交绑定申请" in said[0] and "大连市甘井子区" in said[0]
    async with world.sessions() as session:
        enterprise = (await session.scalars(select(Enterprise))).one()
        contact = (await session.scalars(select(Contact))).one()
        audit = (await session.scalars(select(AuditEntry))).one()
    assert (enterprise.status, enterprise.region_code) == ("pending", "210211")
    assert contact.status == "pending" and audit.action == "contact.requested"
    async with world.sessions() as session:
        card = (await session.scalars(select(ReviewCard))).one()
    assert (card.kind, card.contact_id) == ("registration", contact.id)
    # until the bureau confirms, the form stays closed
    said = texts(await person.send("/start"))
    assert "正在等待区县科技局确认" in said[0]


async def test_a_request_for_a_known_enterprise_still_waits(world: World) -> None:
    enterprise = await preloaded(world)
    person = world.person()
    await person.send(enterprise.credit_code)
    await person.send(enterprise.name)
    said = texts(await person.send("大连市甘井子区"))
    assert "已提交绑定申请" in said[0]
    async with world.sessions() as session:
        contact = (await session.scalars(select(Contact))).one()
    assert contact.status == "pending" and contact.enterprise_id == enterprise.id


async def test_the_form_answers_only_to_contacts(world: World) -> None:
    _, person = await bound(world)
    stranger = world.person(777)
    number, markup = person.keyboards()[-1]
    data = markup.inline_keyboard[0][0].callback_data or ""
    said = texts(await stranger.press_data(number, data))  # someone else's button
    assert said == ["这个按钮已过期，请使用最新一条消息中的按钮。"]  # and nothing else happens
    assert (await screen(world, person))["kind"] == "preloaded"
