"""Admins: configured ones invite others; every admin command refuses everyone else."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.offline import OfflineChat, texts
from storage.models import Admin, Broadcast, Enterprise, Invitation, StoredScore
from tests.chat.conftest import World, official
from tests.chat.test_broadcast import coordinator
from tests.chat.test_journey import bound

ADMIN = 42_000


def link_token(said: str) -> str:
    return said.split("start=")[1].split()[0]


async def test_an_admin_makes_another_admin(world: World) -> None:
    world.restart(admins=frozenset({ADMIN}))
    said = texts(await world.person(ADMIN, "管理员").send("/invite admin"))
    assert "管理员邀请链接（一次有效，14 天内使用）" in said[0]
    token = link_token(said[0])
    newcomer = world.person(8001, "赵主任")
    assert "您已成为<b>管理员</b>" in texts(await newcomer.send(f"/start {token}"))[0]
    assert "请发送要导入的企业名单" in texts(await newcomer.send("/import"))[0]
    said = texts(await world.person(8002, "钱某").send(f"/start {token}"))
    assert said == ["这个管理员链接已经使用过了。"]
    async with world.sessions() as session:
        admins = (await session.scalars(select(Admin.telegram_user_id))).all()
    assert admins == [8001]


async def count(world: World, model: type) -> int:
    async with world.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_admin_commands_refuse_everyone_else(world: World) -> None:
    _, contact = await bound(world, user_id=1001)
    reviewer = await official(world, "county", "210211", 501, "王科长")
    helper = await coordinator(world, 7001)  # restarts the bot with ADMIN as its admin
    people: list[OfflineChat] = [world.person(9001, "路人"), contact, reviewer, helper]
    before = {m: await count(world, m) for m in (Invitation, Enterprise, Broadcast, StoredScore)}
    for person in people:
        for command in ("/import", "/invite admin", "/invite official county 210211"):
            said = texts(await person.send(command))
            assert said and said[0].startswith("无权限"), (person.user.id, command, said)
    for person in (people[0], people[1], people[3]):  # the official may look, in their county
        for command in ("/find 海创", "/export", "/chart", "/score", "/score run"):
            said = texts(await person.send(command))
            assert said and said[0].startswith("无权限"), (person.user.id, command, said)
    assert texts(await reviewer.send("/score run"))[0].startswith("无权限")
    for person in people[:3]:
        for command in ("/broadcast", "/broadcasts"):
            said = texts(await person.send(command))
            assert said and said[0].startswith("无权限"), (person.user.id, command, said)
    assert {m: await count(world, m) for m in before} == before


async def test_help_lists_what_each_role_may_do(world: World) -> None:
    reviewer = await official(world, "county", "210211", 501, "王科长")
    said = texts(await reviewer.send("/help"))[0]
    assert "审核人员可用的命令" in said and "范围：大连市甘井子区" in said and "/queue" in said
    assert "/score run" not in said and "/import" not in said
    world.restart(admins=frozenset({ADMIN}))
    said = texts(await world.person(ADMIN, "管理员").send("/help"))[0]
    assert "管理员可用的命令" in said and "/score run" in said and "/import" in said
    _, contact = await bound(world, user_id=1001)
    assert "金额单位一律为<b>万元</b>" in texts(await contact.send("/help"))[0]
