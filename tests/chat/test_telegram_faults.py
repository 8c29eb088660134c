"""What real Telegram does that a naive recording does not: edits that change nothing, updates
delivered again, replies that fail after the answer was stored."""

from __future__ import annotations

from bot.offline import texts
from tests.chat.conftest import World


async def test_an_edit_that_changes_nothing_is_not_an_error(world: World) -> None:
    applicant = world.person(3003, "周敏")
    await applicant.send("91210211MA0Y4LKX3G")
    await applicant.send("大连海创智能装备有限公司")
    message, markup = applicant.keyboards()[-1]
    dalian = next(b for row in markup.inline_keyboard for b in row if b.text == "大连市")
    first = texts(await applicant.press_data(message, dalian.callback_data or ""))
    # pressed again before the phone showed the counties: the same keyboard, which Telegram
    # refuses as "message is not modified"
    again = texts(await applicant.press_data(message, dalian.callback_data or ""))
    assert first == again == []  # the buttons changed in place; nothing else was said
    said = texts(await applicant.press("甘井子区"))
    assert "已提交" in said[-1] or "申请" in said[-1]
