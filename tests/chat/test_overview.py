"""/status and /find for admins and officials: counts per place, only their jurisdiction."""

from __future__ import annotations

import random

from bot.offline import texts
from storage.models import Answer, Enterprise, Submission, now
from tests.chat.conftest import World, official
from tests.chat.test_journey import bound
from tests.factories import credit_code

ADMIN = 42_000
YEAR = 2026

# (county, form status or None for no form, started) → the bucket it should land in
PLACES = [
    ("210211", None, False),  # 大连 甘井子: not started
    ("210211", "draft", True),  # in progress
    ("210211", "submitted", False),  # at the county
    ("210202", "reported", False),  # 大连 中山
    ("210112", "returned", False),  # 沈阳 浑南
    ("210112", "city_review", False),
]


async def campaign_under_way(world: World) -> None:
    rng = random.Random(7)
    async with world.sessions() as session:
        for i, (county, status, started) in enumerate(PLACES):
            enterprise = Enterprise(
                credit_code=credit_code(rng, county),
                name=f"测试企业{i}号科技有限公司",
                region_code=county,
                status="active",
            )
            session.add(enterprise)
            await session.flush()
            if status is None:
                continue
            submission = Submission(enterprise_id=enterprise.id, campaign=YEAR, status=status)
            session.add(submission)
            await session.flush()
            session.add(
                Answer(
                    submission_id=submission.id,
                    field="main_products",
                    value="数控机床",
                    source="typed" if started else "preloaded",
                    answered_by=1 if started else None,
                    answered_at=now(),
                )
            )
        pending = Enterprise(
            credit_code=credit_code(rng, "210211"), name="待确认公司", region_code="210211"
        )
        pending.status = "pending"
        session.add(pending)
        await session.commit()


async def test_the_province_by_city_then_one_city_by_county(world: World) -> None:
    await campaign_under_way(world)
    world.restart(admins=frozenset({ADMIN}))
    admin = world.person(ADMIN, "管理员")
    said = texts(await admin.send("/status"))[0]
    assert "辽宁省 · 2026 年填报进度" in said
    assert "企业 6 家，已提交 4 家（66.7%）" in said
    assert (
        "未开始 1 · 填报中 1 · 区县审核 1 · 市级审核 1 · 省级审核 0 · 已退回 1 · 已上报 1" in said
    )
    assert "大连市：4 · 50.0% · 1/1/1/0/1" in said
    assert "沈阳市：2 · 100.0% · 0/0/1/1/0" in said
    assert "鞍山市：0 · — · 0/0/0/0/0" in said  # every city; one with no enterprise, no rate
    said = texts(await admin.send("/status 大连"))[0]
    assert "大连市 · 2026 年填报进度" in said and "企业 4 家" in said
    assert "甘井子区：3 · 33.3% · 1/1/1/0/0" in said and "中山区：1 · 100.0%" in said
    said = texts(await admin.send("/status 210112"))[0]
    assert "沈阳市浑南区 · 2026 年填报进度" in said and "企业 2 家" in said
    assert "没有找到地区“火星”" in texts(await admin.send("/status 火星"))[0]


async def test_an_official_sees_only_their_jurisdiction(world: World) -> None:
    await campaign_under_way(world)
    county = await official(world, "county", "210211", 501, "王科长")
    said = texts(await county.send("/status"))[0]
    assert "大连市甘井子区 · 2026 年填报进度" in said and "企业 3 家，已提交 1 家" in said
    assert "沈阳" not in said
    assert texts(await county.send("/status 沈阳"))[0].startswith("无权限")
    assert texts(await county.send("/status 大连"))[0].startswith("无权限")
    city = await official(world, "city", "210100", 502, "李处长")
    said = texts(await city.send("/status"))[0]
    assert "沈阳市 · 2026 年填报进度" in said and "浑南区：2 · 100.0%" in said
    said = texts(await city.send("/find 测试企业"))[0]
    assert "找到 2 家" in said and "测试企业4号" in said and "测试企业0号" not in said


async def test_find_by_code_or_name(world: World) -> None:
    enterprise, _ = await bound(world, user_id=1001)
    world.restart(admins=frozenset({ADMIN}))
    admin = world.person(ADMIN, "管理员")
    said = texts(await admin.send(f"/find {enterprise.credit_code[:10].lower()}"))[0]
    assert "找到 1 家" in said and enterprise.name in said and enterprise.credit_code in said
    assert "大连市甘井子区 · 未开始" in said and "机器人上的联系人：张伟" in said
    said = texts(await admin.send("/find 海创"))[0]
    assert enterprise.name in said and "13812345678" in said
    assert "没有找到" in texts(await admin.send("/find 100%_"))[0]  # LIKE wildcards are text
    assert "请在 /find 后写" in texts(await admin.send("/find"))[0]


async def test_contacts_and_strangers_get_no_overview(world: World) -> None:
    await campaign_under_way(world)
    _, contact = await bound(world, user_id=1001)
    said = texts(await contact.send("/status"))[0]
    assert "填报状态：填报中" in said and "年填报进度" not in said  # their own form's status
    for person in (contact, world.person(9001, "路人")):
        said = texts(await person.send("/find 测试企业"))
        assert said[0].startswith("无权限"), said


async def test_bad_places_and_searches_get_a_clear_reply(world: World) -> None:
    world.restart(admins=frozenset({ADMIN}))
    admin = world.person(ADMIN, "管理员")
    said = texts(await admin.send("/status <b>大连</b>🙂"))[0]
    assert "没有找到地区“&lt;b&gt;大连&lt;/b&gt;🙂”" in said and "<b>大连" not in said
    assert "请在 /find 后写" in texts(await admin.send("/find " + "海" * 5000))[0]
    assert "请在 /find 后写" in texts(await admin.send("/find 🙂"))[0]
    said = texts(await admin.send("/export 火星 已上报"))[0]
    assert "没有找到地区“火星”" in said and "/export 大连" in said
    assert "没有找到地区" in texts(await admin.send("/chart 100万元"))[0]


async def test_an_admins_start_lists_their_commands(world: World) -> None:
    world.restart(admins=frozenset({ADMIN}))
    said = texts(await world.person(ADMIN, "管理员").send("/start"))
    assert "/status" in said[0] and "分享手机号" not in said[0]
