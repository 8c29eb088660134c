"""What the terminal chat shows: the bot's messages to the person being played, as their
Telegram would show them.

Every call the bot makes on the offline Bot API passes through `Screen.on_call`. A message to
one of the current person's chats (their private chat; an official's bureau group too, labelled)
is printed at once; one to anybody else waits until the terminal becomes that person. An edit
reprints the message marked （已更新）with its new buttons. Buttons are numbered from 1 again at
the first keyboard shown after the person's last action; the numbers then mean those buttons.
"""

from __future__ import annotations

import html
import re
import tempfile
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from itertools import count
from pathlib import Path
from typing import Any, TypeVar

from aiogram.methods import (
    AnswerCallbackQuery,
    EditMessageReplyMarkup,
    EditMessageText,
    SendDocument,
    SendPhoto,
    TelegramMethod,
)
from aiogram.types import (
    BufferedInputFile,
    InlineKeyboardMarkup,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from rich.console import Console

from cli.cast import Role

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
T = TypeVar("T")


def _to_console(text: str) -> str:
    """Telegram HTML → rich markup: the same emphasis, escaped again for rich."""
    parts = []
    position = 0
    for match in _TAGS.finditer(text):
        parts.append(plain(text[position : match.start()]))
        tag = match.group(1)
        parts.append(f"[/{_STYLE[tag]}]" if match.group(0).startswith("</") else f"[{_STYLE[tag]}]")
        position = match.end()
    parts.append(plain(text[position:]))
    return "".join(parts)


def plain(text: str) -> str:
    return html.unescape(text).replace("[", r"\[")


@dataclass(frozen=True, slots=True)
class Shown:
    """One message as it looked when the bot sent or edited it."""

    chat_id: int
    message_id: int
    text: str
    markup: Any
    edited: bool = False
    file: tuple[str, bytes] | None = None  # (name, content) of a document or photo
    order: int = 0


@dataclass(frozen=True, slots=True)
class Button:
    chat_id: int
    message_id: int
    data: str


class Screen:
    def __init__(self, console: Console) -> None:
        self.console = console
        self.shown: dict[tuple[int, int], tuple[Any, Any, Any]] = {}  # the Bot API's
        self.role: Role | None = None
        self.typing_to = 0  # the chat typed text goes to
        self.unseen: defaultdict[int, list[Shown]] = defaultdict(list)
        self.buttons: dict[int, Button] = {}
        self.fresh = True  # the person acted since buttons were last numbered
        self.phone: set[int] = set()  # chats showing the phone-sharing button
        self.prompting = False  # the prompt is on the last line, waiting for input
        self.files: Path | None = None
        self.order = count()

    # ---- who is looking ---------------------------------------------------------------------

    def become(self, role: Role) -> list[Shown]:
        """Look through `role`'s eyes; what was sent to them meanwhile, oldest first."""
        self.role, self.typing_to = role, role.user_id
        self.buttons, self.fresh = {}, True
        waiting = sorted(
            (s for chat in role.chats for s in self.unseen.pop(chat, [])), key=lambda s: s.order
        )
        for item in waiting:
            self.show(item)
        return waiting

    def prompt(self) -> str:
        role = self.role
        assert role is not None
        where = "（审核群）" if self.typing_to == role.group else ""
        return f"{role.title}{where}> "

    def acted(self) -> None:
        """The person typed or pressed: the next keyboard is numbered from 1."""
        self.fresh = True

    # ---- what the bot does ------------------------------------------------------------------

    def on_call(self, method: TelegramMethod[Any], result: Any) -> None:
        """The offline Bot API's hook: one call Telegram accepted."""
        if isinstance(method, AnswerCallbackQuery):
            if method.text:  # a pop-up, for the person who pressed: the one being played
                self._interrupting(self._popup, method.text)
            return
        if not isinstance(result, Message):
            return
        file = None
        if isinstance(method, SendDocument | SendPhoto):
            upload = method.document if isinstance(method, SendDocument) else method.photo
            if isinstance(upload, BufferedInputFile):
                file = (upload.filename or "file", upload.data)
        item = Shown(
            chat_id=result.chat.id,
            message_id=result.message_id,
            text=self.shown[result.chat.id, result.message_id][0] or "",
            markup=getattr(method, "reply_markup", None),
            edited=isinstance(method, EditMessageText | EditMessageReplyMarkup),
            file=file,
            order=next(self.order),
        )
        if self.role is not None and item.chat_id in self.role.chats:
            self._interrupting(self.show, item)
        else:
            self.unseen[item.chat_id].append(item)

    def _interrupting(self, show: Callable[[T], None], what: T) -> None:
        """Print over the prompt when it is waiting (a message the sender delivered meanwhile),
        then give the prompt back."""
        if self.prompting:  # a terminal's line is cleared; a file's is ended
            self.console.file.write("\r\x1b[2K" if self.console.is_terminal else "\n")
        show(what)
        if self.prompting:
            self.console.print(self.prompt(), end="", markup=False, highlight=False)
            self.console.file.flush()

    def _popup(self, text: str) -> None:
        self.console.print(f"[yellow]（提示）{plain(text)}[/yellow]")

    def show(self, item: Shown) -> None:
        role = self.role
        labels = []
        if role is not None and role.group:
            labels.append(role.group_title if item.chat_id == role.group else "私聊")
        if item.edited:
            labels.append("（已更新）")
        self.console.rule(" · ".join(labels), style="dim")
        if item.file is not None:
            self._file(*item.file)
        if item.text:
            self.console.print(_to_console(item.text))
        self._buttons(item)

    def _file(self, name: str, data: bytes) -> None:
        if self.files is None:
            self.files = Path(tempfile.mkdtemp(prefix="cxjf-chat-"))
        path = self.files / Path(name).name
        path.write_bytes(data)
        size = f"{len(data) / 1024:.0f} KB" if len(data) >= 1024 else f"{len(data)} 字节"
        self.console.print(f"📎 {plain(name)}（{size}）已存到 {plain(str(path))}")

    def _buttons(self, item: Shown) -> None:
        markup = item.markup
        if isinstance(markup, ReplyKeyboardRemove):
            self.phone.discard(item.chat_id)
        if isinstance(markup, ReplyKeyboardMarkup):
            self.phone.add(item.chat_id)
            labels = [b.text for row in markup.keyboard for b in row]
            self.console.print(f"  [bold]#0[/bold] {plain(labels[0])}")
        if item.edited:  # the message's old buttons are gone
            here = (item.chat_id, item.message_id)
            self.buttons = {
                n: b for n, b in self.buttons.items() if (b.chat_id, b.message_id) != here
            }
        if not isinstance(markup, InlineKeyboardMarkup):
            return
        if self.fresh:
            self.buttons, self.fresh = {}, False
        number = max(self.buttons, default=0)
        for row in markup.inline_keyboard:
            labels = []
            for button in row:
                number += 1
                self.buttons[number] = Button(
                    item.chat_id, item.message_id, button.callback_data or ""
                )
                labels.append(f"[bold]#{number}[/bold] {plain(button.text)}")
            self.console.print("  " + "   ".join(labels))
