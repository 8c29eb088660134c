"""Who may do what: every staff command and the review card's buttons, for every role. Allowed
exactly where it should be, "无权限" (or nothing found) elsewhere, and nothing changed by a
refused action."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.offline import OfflineChat, texts
from storage.models import (
    AuditEntry,
    Broadcast,
    Delivery,
    Invitation,
    ReviewCard,
    StoredScore,
    Submission,
)
from tests.chat.conftest import World, group_code, official
from tests.chat.test_binding import OTHER_CODE
from tests.chat.test_broadcast import ADMIN, coordinator
from tests.chat.test_journey import PRELOADED, bound
from tests.chat.test_review import GROUP, submitted_form
from tests.conftest import CLEAN

ROLES = (
    "stranger", "contact_a", "contact_b", "county_in", "county_out", "city", "province",
    "coordinator", "admin",
)  # fmt: skip
OFFICIALS = {"county_in", "county_out", "city", "province"}
STAFF = OFFICIALS | {"admin"}
# command → the roles that may use it (everyone else: 无权限)
ALLOWED: dict[str, set[str]] = {
    "/find 海创": STAFF,
    "/export 已上报": STAFF,
    "/chart": STAFF,
    "/score": STAFF,
    "/score run": {"province", "admin"},
    "/queue": OFFICIALS,
    "/import": {"admin"},
    "/invite admin": {"admin"},
    "/invite official county 210211": {"admin"},
    "/broadcasts": {"coordinator", "admin"},
    "/broadcast": {"coordinator", "admin"},
}
CHANGES = (AuditEntry, Broadcast, Delivery, Invitation, ReviewCard, StoredScore)


async def cast(world: World) -> dict[str, OfflineChat]:
    """The enterprise A (甘井子区) has a submitted form; B (沈阳市浑南区) a draft."""
    contact_a = await submitted_form(world)
    _, contact_b = await bound(
        world,
        {
            **PRELOADED,
            "credit_code": OTHER_CODE,
            "region_code": "210112",
            "enterprise_name": "沈阳浑南海创新材料有限公司",
        },
        user_id=1002,
    )
    people = {
        "stranger": world.person(9001, "路人"),
        "contact_a": contact_a,
        "contact_b": contact_b,
        "county_in": await official(world, "county", "210211", 501, "王科长"),
        "county_out": await official(world, "county", "210112", 502, "孙科长"),
        "city": await official(world, "city", "210200", 601, "李处长"),
        "province": await official(world, "province", "210000", 701, "赵处长"),
        "coordinator": await coordinator(world, 7001),  # restarts with ADMIN as the admin
    }
    people["admin"] = world.person(ADMIN, "管理员")
    return people


async def counts(world: World) -> dict[str, int]:
    async with world.sessions() as session:
        return {
            m.__name__: int(await session.scalar(select(func.count()).select_from(m)) or 0)
            for m in CHANGES
        }


async def test_every_command_for_every_role(world: World) -> None:
    people = await cast(world)
    for command, allowed in ALLOWED.items():
        for role in ROLES:
            before = await counts(world)
            said = texts(await people[role].send(command))
            refused = bool(said) and said[0].startswith("无权限")
            assert refused is (role not in allowed), (command, role, said[:1])
            if refused:
                assert await counts(world) == before, (command, role)
            await people[role].send("/cancel")  # leave any flow the command opened
    # within the jurisdiction only: A's enterprise is found by its county, city and province
    for role, sees in (("county_in", True), ("city", True), ("province", True),
                       ("county_out", False), ("admin", True)):  # fmt: skip
        said = texts(await people[role].send("/find 海创"))[0]
        assert ("大连海创智能装备有限公司" in said) is sees, (role, said)
        assert ("沈阳浑南海创新材料有限公司" in said) is (
            role in ("county_out", "province", "admin")
        )


async def test_the_review_card_answers_only_its_bureau(world: World) -> None:
    people = await cast(world)
    said = texts(await people["county_in"].send(f"/form {CLEAN['credit_code']}"))
    assert "大连海创智能装备有限公司" in said[-1]
    keyboard = people["county_in"].keyboards()[-1]
    data = next(
        b.callback_data
        for row in keyboard[1].inline_keyboard
        for b in row
        if "通过" in b.text and b.callback_data
    )
    for role in ROLES:
        if role == "county_in":
            continue
        before = await counts(world)
        calls = await people[role].press_data(keyboard[0], data)
        said = texts(calls)
        assert said and said[0].startswith("无权限"), (role, said)
        assert await counts(world) == before, role
    async with world.sessions() as session:
        assert (await session.scalars(select(Submission.status))).all().count("submitted") == 1
    await people["county_in"].press_data(keyboard[0], data)
    async with world.sessions() as session:
        statuses = (await session.scalars(select(Submission.status))).all()
    assert "city_review" in statuses  # the county's own official moved it on


async def test_forms_show_only_in_private_or_the_officials_own_bureau_group(
    world: World,
) -> None:
    """/queue, /form and the queue's buttons list forms in private or in the official's bound
    bureau group; in any other group (never bound, or another bureau's) they show nothing."""
    await submitted_form(world)
    await official(world, "county", "210211", 501, "王科长")
    await official(world, "city", "210200", 601, "李处长")
    own = world.person(501, "王科长", group=GROUP)
    await own.send(f"/bindgroup {await group_code(world, 'county', '210211')}")
    elsewhere = world.person(501, "王科长", group=-100999)  # a group never bound
    city_in_county_group = world.person(601, "李处长", group=GROUP)
    refusal = "表单只在与我的私聊或本局已绑定的审核群中显示，请私聊我使用这个命令。"
    for person in (elsewhere, city_in_county_group):
        for command in ("/queue", f"/form {CLEAN['credit_code']}"):
            assert texts(await person.send(command)) == [refusal], command
    said = texts(await own.send("/queue"))
    assert "大连海创智能装备有限公司" in said[0]
    opening = next(
        b.callback_data
        for _, markup in own.keyboards()
        for row in markup.inline_keyboard
        for b in row
        if b.callback_data and b.callback_data.startswith("q:")
    )
    calls = await elsewhere.press_data(1, opening)  # the button, forged into the other group
    assert texts(calls) == [refusal]
    assert "大连海创智能装备有限公司" in texts(await own.press_data(1, opening))[-1]
    assert "大连海创" in texts(await own.send(f"/form {CLEAN['credit_code']}"))[-1]
