"""`python main.py chat`: the bot's Dispatcher in the terminal, on the offline Bot API.

Messages are typed; buttons are pressed by number (`#2`). With `--demo`, a few demo enterprises are
loaded and the phone-sharing button binds to the first of them.
"""

from __future__ import annotations

import asyncio
import html
import json
import re
from pathlib import Path
from typing import Any

from aiogram.methods import AnswerCallbackQuery, EditMessageReplyMarkup, SendMessage, TelegramMethod
from aiogram.types import InlineKeyboardMarkup, ReplyKeyboardMarkup
from rich.console import Console
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import app
from bot.offline import OfflineChat, offline_bot
from domain.catalog import Catalog
from services.enterprises import preload
from storage.repositories import Store

DEMO = Path(__file__).resolve().parent.parent / "examples" / "demo_enterprises.json"
_TAGS = re.compile(r"</?(b|i|u|s|code|pre|blockquote)>")
_STYLE = {
    "b": "bold",
    "i": "italic",
    "u": "underline",
    "s": "strike",
    "code": "cyan",
    "pre": "cyan",
    "blockquote": "dim",
}


def _to_console(text: str) -> str:
    """Telegram HTML → rich markup: the same emphasis, escaped again for rich."""
    parts = []
    position = 0
    for match in _TAGS.finditer(text):
        parts.append(_plain(text[position : match.start()]))
        tag = match.group(1)
        parts.append(f"[/{_STYLE[tag]}]" if match.group(0).startswith("</") else f"[{_STYLE[tag]}]")
        position = match.end()
    parts.append(_plain(text[position:]))
    return "".join(parts)


def _plain(text: str) -> str:
    return html.unescape(text).replace("[", r"\[")


class Terminal:
    def __init__(self, console: Console) -> None:
        self.console = console
        self.buttons: list[tuple[int, str]] = []  # (message id, callback data) by number - 1
        self.share_phone = False

    def on_call(self, method: TelegramMethod[Any], result: Any) -> None:
        if isinstance(method, SendMessage):
            self.console.rule(style="dim")
            self.console.print(_to_console(method.text))
            self._show(getattr(result, "message_id", 0), method.reply_markup)
        elif isinstance(method, EditMessageReplyMarkup):
            self._show(method.message_id or 0, method.reply_markup)
        elif isinstance(method, AnswerCallbackQuery) and method.text:
            self.console.print(f"[yellow]（提示）{_plain(method.text)}[/yellow]")

    def _show(self, message_id: int, markup: Any) -> None:
        if isinstance(markup, ReplyKeyboardMarkup):
            self.share_phone = True
            self.console.print("  [bold]#0[/bold] 📱 分享手机号绑定企业")
        if not isinstance(markup, InlineKeyboardMarkup):
            return
        self.buttons = []
        for row in markup.inline_keyboard:
            labels = []
            for button in row:
                self.buttons.append((message_id, button.callback_data or ""))
                labels.append(f"[bold]#{len(self.buttons)}[/bold] {_plain(button.text)}")
            self.console.print("  " + "   ".join(labels))


async def load_demo(sessions: async_sessionmaker[AsyncSession], catalog: Catalog) -> str:
    """Load the demo enterprises; the phone number of the first is the terminal user's."""
    rows = json.loads(DEMO.read_text(encoding="utf-8"))
    async with sessions() as session:
        store = Store(session)
        for row in rows:
            answers = {catalog.by_key[k].name: v for k, v in row.items()}
            await preload(store, catalog, answers)
        await store.commit()
    return str(rows[0]["contact_mobile"])


async def chat(
    sessions: async_sessionmaker[AsyncSession],
    catalog: Catalog,
    phone: str,
    user_id: int,
    console: Console,
) -> None:
    terminal = Terminal(console)
    bot = offline_bot(terminal.on_call)
    running = app.assemble(bot, sessions, catalog)
    stop = asyncio.Event()
    background = asyncio.create_task(running.background(stop))
    person = OfflineChat(running.dispatcher, bot, user_id)
    console.print("输入文字作为回复发送；输入 [bold]#编号[/bold] 按对应按钮；输入 q 退出。")
    await person.send("/start")
    while True:
        try:
            line = (await asyncio.to_thread(input, "> ")).strip()
        except EOFError:
            break
        if line.lower() in ("q", "quit", "exit", "/quit"):
            break
        if not line:
            continue
        number = line.lstrip("#＃")
        if line[0] in "#＃" and number.isdigit():
            await _press(person, terminal, int(number), phone, console)
        else:
            await person.send(line)
    stop.set()
    await background


async def _press(
    person: OfflineChat, terminal: Terminal, number: int, phone: str, console: Console
) -> None:
    if number == 0 and terminal.share_phone:
        terminal.share_phone = False
        await person.share_contact(phone)
    elif 1 <= number <= len(terminal.buttons):
        message_id, data = terminal.buttons[number - 1]
        await person.press_data(message_id, data)
    else:
        console.print("[yellow]没有这个编号的按钮。[/yellow]")
