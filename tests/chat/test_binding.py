"""Binding: invitation links, shared phone numbers, requests the county bureau confirms."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from bot.offline import texts
from services import officials
from services.binding import EnterpriseLink, invite_enterprises
from storage.models import AuditEntry, Contact, Enterprise, Invitation, ReviewCard, now
from storage.repositories import Store
from tests.chat.conftest import World, official
from tests.chat.helpers import screen
from tests.chat.test_journey import PRELOADED, bound
from tests.factories import uscc_of

OTHER_CODE = uscc_of("91210211", "MA0Y4LKY")


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
    said = texts(await person.send("91210211MA0Y4LKX4K"))
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


async def request(world: World, code: str, name: str, user_id: int = 1001) -> list[str]:
    """A binding request by typing: the credit code, a company name and the county."""
    person = world.person(user_id, "周敏")
    await person.send(code)
    await person.send(name)
    return texts(await person.send("大连市甘井子区"))


async def test_a_stranger_sees_only_what_they_typed_and_the_county_compares(
    world: World,
) -> None:
    """Anyone may type any credit code: the registered name is shown to the county, next to
    the typed one, never to the one who typed it."""
    county = await official(world, "county", "210211", 501, "王科长")
    enterprise = await preloaded(world)
    said = await request(world, enterprise.credit_code, "随便\u200b写的公司")
    assert said[0].startswith("📨 已提交绑定申请：<b>随便写的公司</b>（91210211MA0Y4LKX4K）")
    card = texts(world.bot.session.sent_to(501))[-1]  # type: ignore[attr-defined]
    assert "企业：<b>大连海创智能装备有限公司</b> 91210211MA0Y4LKX4K" in card
    assert "申请人填写的企业名称：<b>随便写的公司</b>（与平台登记的名称不一致，请核对）" in card
    person = world.person(1001)
    for said in (await person.send("/start"), await person.send("你好")):
        assert "统一社会信用代码 91210211MA0Y4LKX4K）正在等待" in texts(said)[0]
    await county.press("拒绝")
    await county.send("名称\u2060不符")
    notice = texts(world.bot.session.sent_to(1001))[-1]  # type: ignore[attr-defined]
    assert "未通过您的绑定申请（统一社会信用代码 91210211MA0Y4LKX4K），原因：名称不符" in notice
    everything = "\n".join(texts(world.bot.session.sent_to(1001)))  # type: ignore[attr-defined]
    assert "<b>大连海创" not in everything  # (the example of a name is 大连海创…, not in bold)
    # the registered name typed with other brackets and spaces is the same name
    await request(world, enterprise.credit_code, "大连海创智能装备 有限公司", user_id=1002)
    card = texts(world.bot.session.sent_to(501))[-1]  # type: ignore[attr-defined]
    assert "企业绑定申请" in card and "申请人填写的企业名称" not in card


async def test_a_request_waiting_yields_to_the_invitation_link(world: World) -> None:
    county = await official(world, "county", "210211", 501, "王科长")
    enterprise = await preloaded(world)
    await request(world, enterprise.credit_code, enterprise.name)
    person = world.person(1001, "周敏")
    said = texts(await person.send(f"/start {await world.invitation(enterprise)}"))
    assert "已绑定：<b>大连海创智能装备有限公司</b>" in said[0]
    async with world.sessions() as session:
        contact = (await session.scalars(select(Contact))).one()
    assert (contact.status, contact.bound_via) == ("active", "invitation")
    said = texts(await county.press("确认"))  # the request is settled already
    assert said[0].startswith("该申请已由 周敏 于 ") and said[0].endswith(" 处理。")


async def test_a_request_waiting_and_a_shared_phone_number(world: World) -> None:
    """A number of no enterprise leaves the request waiting (and shows no form); the number of
    one binds to it at once."""
    enterprise = await preloaded(world, mobile="13812345678")
    await request(world, enterprise.credit_code, "随便写的公司")
    person = world.person(1001)
    said = texts(await person.share_contact("13900000000"))
    assert len(said) == 1 and "正在等待区县科技局确认" in said[0]
    said = texts(await person.share_contact("13812345678"))
    assert "已绑定：<b>大连海创智能装备有限公司</b>" in said[0]
    async with world.sessions() as session:
        contact = (await session.scalars(select(Contact))).one()
    assert (contact.status, contact.bound_via) == ("active", "phone")


async def test_the_form_answers_only_to_contacts(world: World) -> None:
    _, person = await bound(world)
    stranger = world.person(777)
    number, markup = person.keyboards()[-1]
    data = markup.inline_keyboard[0][0].callback_data or ""
    said = texts(await stranger.press_data(number, data))  # someone else's button
    assert said == ["这个按钮已过期，请使用最新一条消息中的按钮。"]  # and nothing else happens
    assert (await screen(world, person))["kind"] == "preloaded"
