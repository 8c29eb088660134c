"""Bad input of every kind gets a clear reply and changes nothing it should not."""

from __future__ import annotations

from sqlalchemy import select

from bot.offline import texts
from storage.models import Answer
from tests.chat.conftest import World
from tests.chat.helpers import from_menu, screen
from tests.chat.test_journey import bound, stored


async def at_question(world: World, field: str):  # type: ignore[no-untyped-def]
    """A bound person whose form stands at `field` (the pre-loaded section checked)."""
    _, person = await bound(world)
    await person.press("全部正确")
    for answer in ("张伟", "13812345678", "zhangwei@example.com"):
        if (await screen(world, person))["field"] == field:
            break
        await person.send(answer)
    assert (await screen(world, person))["field"] == field
    return person


async def test_whitespace_only_keeps_the_question(world: World) -> None:
    person = await at_question(world, "contact_name")
    said = texts(await person.send("   "))
    assert "联系人姓名：请填写内容" in said[-1] and "请填写联系人姓名" in said[-1]
    assert (await screen(world, person))["field"] == "contact_name"
    assert "contact_name" not in await stored(world)


async def test_five_thousand_characters(world: World) -> None:
    person = await at_question(world, "contact_name")
    said = texts(await person.send("字" * 5000))
    assert "内容过长（5000 字）" in said[-1]
    assert "contact_name" not in await stored(world)


async def test_html_and_emoji_are_kept_as_text_and_shown_escaped(world: World) -> None:
    person = await at_question(world, "contact_name")
    for answer in ("张伟", "13812345678", "zhangwei@example.com"):
        await person.send(answer)
    while (await screen(world, person))["field"] != "main_products":
        at = await screen(world, person)
        await person.press("是" if at["field"] in ("is_private", "has_party_org") else "企业自建")
    said = texts(await person.send("<b>主轴</b> & 减速器 🚀"))
    assert (await stored(world))["main_products"].value == "<b>主轴</b> & 减速器 🚀"
    assert "&lt;b&gt;主轴&lt;/b&gt; &amp; 减速器 🚀" in said[-1]  # escaped in the HTML reply


async def test_html_in_a_name_is_refused_with_the_rule(world: World) -> None:
    person = await at_question(world, "contact_name")
    said = texts(await person.send("<script>alert(1)</script>"))
    assert "应为 2–20 个汉字" in said[-1] and "&lt;script&gt;" not in said[-1]


async def test_numbers_past_any_sane_ceiling(world: World) -> None:
    _, person = await bound(world)
    await from_menu(person, "创新投入", "2025年度从业人员期末数")
    said = texts(await person.send("20000000"))
    assert "超出实际可能（上限 1,000,000）" in said[-1]
    said = texts(await person.send("1e309"))
    assert "不是数字" in said[-1]
    assert (await stored(world))["employees"].value == 120  # the pre-loaded value is untouched


async def test_a_button_pressed_twice(world: World) -> None:
    _, person = await bound(world)
    await person.press("全部正确")
    said = texts(await person.press("全部正确"))  # the same button, again
    assert said == ["这个按钮已过期，请使用最新一条消息中的按钮。"]
    assert (await screen(world, person))["field"] == "contact_name"


async def test_a_button_from_an_old_message(world: World) -> None:
    _, person = await bound(world)
    old, _ = person.keyboards()[-1]
    await person.press("全部正确")
    await person.send("张伟")
    said = texts(await person.press("修改其中几项", message_id=old))
    assert said == ["这个按钮已过期，请使用最新一条消息中的按钮。"]
    assert (await screen(world, person))["field"] == "contact_mobile"


async def test_forged_button_data(world: World) -> None:
    _, person = await bound(world)
    number, _ = person.keyboards()[-1]
    at = await screen(world, person)
    before = {n: (a.value, a.source, a.confirmed) for n, a in (await stored(world)).items()}
    for data in ("p:999:ok:", "p:abc", "nonsense", "p:3:pick:99", "p:3:go:../../etc"):
        said = texts(await person.press_data(number, data))
        assert said in ([], ["这个按钮已过期，请使用最新一条消息中的按钮。"])
    assert await screen(world, person) == at
    after = {n: (a.value, a.source, a.confirmed) for n, a in (await stored(world)).items()}
    assert after == before


async def test_a_sticker(world: World) -> None:
    person = await at_question(world, "contact_name")
    said = texts(await person.send_sticker())
    assert "请用文字回答" in said[-1]


async def test_a_required_field_cannot_be_skipped_by_forged_press(world: World) -> None:
    person = await at_question(world, "contact_name")
    number, markup = person.keyboards()[-1]
    screen_no = markup.inline_keyboard[0][0].callback_data.split(":")[1]  # type: ignore[union-attr]
    said = texts(await person.press_data(number, f"p:{screen_no}:skip:"))
    assert said == ["这是必填项，不能跳过。"]
    async with world.sessions() as session:
        assert not (await session.scalars(select(Answer).where(Answer.source == "skipped"))).all()
