"""The offline Bot API refuses what Telegram refuses, through aiogram's own exceptions, so every
chat test runs under Telegram's rules."""

from __future__ import annotations

import pytest
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup

from bot.offline import OfflineSession, offline_bot
from bot.telegram import Refused, pages, parse_html, visible_length


def keyboard(data: str, count: int = 1) -> InlineKeyboardMarkup:
    button = InlineKeyboardButton(text="按钮", callback_data=data)
    return InlineKeyboardMarkup(inline_keyboard=[[button] for _ in range(count)])


@pytest.mark.parametrize(
    ("text", "description"),
    [
        ("字" * 4097, "Bad Request: message is too long"),
        ("&lt;" * 4097, "Bad Request: message is too long"),  # counted after parsing
        ("😀" * 2049, "Bad Request: message is too long"),  # two UTF-16 units each
        ("", "Bad Request: message text is empty"),
        ("  \n ", "Bad Request: message text is empty"),
        ("<b>加粗", "can't parse entities: Can't find end tag corresponding to start tag \"b\""),
        ("3 < 5", 'can\'t parse entities: Unsupported start tag "" at byte offset 2'),
        ("<p>段落</p>", 'can\'t parse entities: Unsupported start tag "p" at byte offset 0'),
        ("文字</b>", "can't parse entities: Unexpected end tag at byte offset 6"),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("<a href>x</a>", 'Expected equal sign in declaration of an attribute of the tag "a"'),
    ],
)
async def test_texts_telegram_refuses_are_refused(text: str, description: str) -> None:
    bot = offline_bot()
    with pytest.raises(TelegramBadRequest) as refused:
        await bot.send_message(1, text)
    assert description in refused.value.message


@pytest.mark.parametrize(
    "text",
    ["字" * 4096, "&lt;" * 4096, "<b>粗</b> <i>斜</i> <a href='https://x.cn'>链接</a> &amp; AT&T"],
)
async def test_texts_within_the_rules_go_through(text: str) -> None:
    bot = offline_bot()
    assert (await bot.send_message(1, text)).message_id


async def test_callback_data_keyboards_and_captions_are_bounded() -> None:
    bot = offline_bot()
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(1, "选", reply_markup=keyboard("x" * 65))
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(1, "选", reply_markup=keyboard("按" * 22))  # 66 bytes in UTF-8
    with pytest.raises(TelegramBadRequest, match="reply markup is too long"):
        await bot.send_message(1, "选", reply_markup=keyboard("x", 101))
    await bot.send_message(1, "选", reply_markup=keyboard("x" * 64, 100))
    document = BufferedInputFile(b"data", filename="a.csv")
    with pytest.raises(TelegramBadRequest, match="message caption is too long"):
        await bot.send_document(1, document, caption="字" * 1025)
    await bot.send_document(1, document, caption="字" * 1024)


async def test_an_edit_that_changes_nothing_or_finds_nothing_is_refused() -> None:
    bot = Bot(
        "42:OFFLINE", session=OfflineSession(), default=DefaultBotProperties(parse_mode="HTML")
    )
    sent = await bot.send_message(1, "第一版", reply_markup=keyboard("a"))
    not_modified = "Bad Request: message is not modified"
    with pytest.raises(TelegramBadRequest, match=not_modified):
        await bot.edit_message_text(
            "第一版", chat_id=1, message_id=sent.message_id, reply_markup=keyboard("a")
        )
    with pytest.raises(TelegramBadRequest, match=not_modified):
        await bot.edit_message_reply_markup(
            chat_id=1, message_id=sent.message_id, reply_markup=keyboard("a")
        )
    # the text alone, the keyboard alone, or dropping the keyboard: each is a change
    await bot.edit_message_reply_markup(
        chat_id=1, message_id=sent.message_id, reply_markup=keyboard("b")
    )
    await bot.edit_message_text("第二版", chat_id=1, message_id=sent.message_id)
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("别处", chat_id=2, message_id=sent.message_id)
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(1, 999_999)


async def test_the_bot_takes_an_edit_that_changes_nothing_as_done() -> None:
    """bot.middlewares.Unchanged, on the real bot and the offline one alike."""
    bot = offline_bot()
    sent = await bot.send_message(1, "第一版", reply_markup=keyboard("a"))
    assert await bot.edit_message_text(
        "第一版", chat_id=1, message_id=sent.message_id, reply_markup=keyboard("a")
    )
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("别处", chat_id=2, message_id=sent.message_id)


def test_pages_fit_and_keep_every_block() -> None:
    blocks = [f"<b>第 {i} 条</b> " + "意见" * 300 for i in range(30)]
    split = pages(blocks)
    assert len(split) > 1
    assert all(visible_length(page) <= 4000 for page in split)
    assert sum(page.count("<b>第") for page in split) == 30
    with pytest.raises(Refused):
        parse_html("<b>")
