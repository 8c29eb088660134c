"""A Bot API that answers locally: every call is recorded and gets the result Telegram would give.

The tests, the benchmark and `python main.py chat` run the real Dispatcher on it, with no token
and no network. It refuses what Telegram refuses (`bot.telegram`: a text over 4,096 characters
or a caption over 1,024 once the HTML is parsed, HTML Telegram cannot parse, callback data over
64 bytes, an edit that changes nothing or of a message that is not there), with Telegram's own
descriptions. Errors can also be staged (a 429, a 5xx). Both go through aiogram's own
`check_response`, so they raise the exceptions the real API would.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections import deque
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import count
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.session.base import BaseSession
from aiogram.exceptions import TelegramNetworkError
from aiogram.methods import (
    AnswerCallbackQuery,
    DeleteMessage,
    EditMessageReplyMarkup,
    EditMessageText,
    GetFile,
    GetMe,
    SendDocument,
    SendMessage,
    SendPhoto,
    TelegramMethod,
)
from aiogram.methods.base import TelegramType
from aiogram.types import (
    CallbackQuery,
    Chat,
    ChatMemberBanned,
    ChatMemberMember,
    ChatMemberUpdated,
    Contact,
    Document,
    File,
    InlineKeyboardMarkup,
    Message,
    MessageEntity,
    Sticker,
    TelegramObject,
    Update,
    User,
)

from bot.middlewares import LetGo, Unchanged, WaitBriefly
from bot.telegram import Refused, check_markup, check_text

BOT_USER = User(id=42, is_bot=True, first_name="创新积分助手", username="cxjf_bot")


class _MessageIds:
    """Message ids that only grow, the person's and the bot's in one sequence as in a Telegram
    chat, and across processes on one machine too (microseconds since the epoch)."""

    def __init__(self) -> None:
        self.last = 0

    def __next__(self) -> int:
        self.last = max(self.last + 1, time.time_ns() // 1000)
        return self.last


# Update ids are the bot's, never repeated: a block of 2³² of its own for each process, so
# processes sharing a database (bench.load) do not take each other's updates for redeliveries.
_UPDATE_IDS = count(secrets.randbits(30) << 32)
_MESSAGE_IDS = _MessageIds()


def next_message_id() -> int:
    return next(_MESSAGE_IDS)


@dataclass
class Hold:
    """Telegram not answering the calls to one chat: `arrived` is set once one waits; they all
    go on when `released` is set."""

    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    released: asyncio.Event = field(default_factory=asyncio.Event)


class OfflineSession(BaseSession):
    def __init__(self, on_call: Callable[[TelegramMethod[Any], Any], None] | None = None) -> None:
        super().__init__()
        self.calls: list[TelegramMethod[Any]] = []
        # (HTTP status, response body, the chat it is for or None for the next call)
        self.staged: deque[tuple[int, dict[str, Any] | None, int | None]] = deque()
        self.on_call = on_call
        self.message_ids: dict[int, int] = {}  # id(call) → the id of the message it sent
        self.refused: set[int] = set()  # id(call) of the calls Telegram refused
        self.files: dict[str, bytes] = {}  # file id → what a person uploaded
        self.latency = 0.0  # seconds each call takes, as Telegram's answer does
        self.holds: dict[int, Hold] = {}  # chat id → its calls wait until released
        # (chat, message id) → what the message shows: (text, parse mode, keyboard as sent)
        self.shown: dict[tuple[int, int], tuple[Any, Any, Any]] = {}
        self.upgraded: dict[int, int] = {}  # a group's id → its supergroup's (`upgrade`)

    def stage_error(
        self,
        status: int,
        description: str,
        retry_after: int | None = None,
        chat_id: int | None = None,
    ) -> None:
        """The next call (to `chat_id`, when given) fails with this error."""
        body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
        if retry_after is not None:
            body["parameters"] = {"retry_after": retry_after}
        self.staged.append((status, body, chat_id))

    def upgrade(self, group: int, supergroup: int) -> None:
        """The group is now a supergroup with a new id: from now on every call to the old id
        fails as Telegram's do, with the new id in `parameters.migrate_to_chat_id`."""
        self.upgraded[group] = supergroup

    def stage_timeout(self, chat_id: int | None = None) -> None:
        """The next call (to `chat_id`, when given) gets no answer in time, as aiogram's aiohttp
        session reports it."""
        self.staged.append((0, None, chat_id))

    async def make_request(
        self, bot: Bot, method: TelegramMethod[TelegramType], timeout: int | None = None
    ) -> TelegramType:
        if id(method) not in self.refused:  # a call sent again is recorded once
            self.calls.append(method)
        chat_id = getattr(method, "chat_id", None)
        if self.latency:
            await asyncio.sleep(self.latency)
        if (hold := self.holds.get(chat_id)) is not None:  # type: ignore[arg-type]
            hold.arrived.set()
            await hold.released.wait()
        if (supergroup := self.upgraded.get(chat_id)) is not None:  # type: ignore[arg-type]
            body = {
                "ok": False,
                "error_code": 400,
                "description": "Bad Request: group chat was upgraded to a supergroup chat",
                "parameters": {"migrate_to_chat_id": supergroup},
            }
            self.check_response(bot, method, 400, json.dumps(body))  # raises
        for staged in self.staged:
            status, body, target = staged
            if target is None or target == chat_id:
                self.staged.remove(staged)
                self.refused.add(id(method))
                if body is None:
                    raise TelegramNetworkError(method=method, message="Request timeout error")
                self.check_response(bot, method, status, json.dumps(body))  # raises
                break
        payload = self._payload(bot, method)
        try:
            self._check(method, payload)
        except Refused as refused:
            self.refused.add(id(method))
            body = {"ok": False, "error_code": refused.status, "description": refused.description}
            self.check_response(bot, method, refused.status, json.dumps(body))  # raises
        result = self._result(method)
        self.refused.discard(id(method))  # sent again after a refusal (a 429 waited out)
        if isinstance(result, Message):
            self.message_ids[id(method)] = result.message_id
            self._remember(method, result, payload)
        if self.on_call is not None:
            self.on_call(method, result)
        return result  # type: ignore[no-any-return]

    def _payload(self, bot: Bot, method: TelegramMethod[Any]) -> dict[str, Any]:
        """The call's parameters as the real session sends them (bot defaults filled in)."""
        files: dict[str, Any] = {}
        return {
            key: self.prepare_value(value, bot=bot, files=files, _dumps_json=False)
            for key, value in method.model_dump(warnings=False).items()
        }

    def _check(self, method: TelegramMethod[Any], payload: dict[str, Any]) -> None:
        """Refuse what Telegram refuses (`Refused`, with Telegram's description)."""
        mode, markup = payload.get("parse_mode"), payload.get("reply_markup")
        if isinstance(method, SendMessage):
            check_text(payload.get("text"), mode)
        elif isinstance(method, SendDocument | SendPhoto):
            check_text(payload.get("caption"), mode, caption=True)
        elif isinstance(method, DeleteMessage):
            if self._key(payload) not in self.shown:
                raise Refused("Bad Request: message to delete not found")
        elif isinstance(method, EditMessageText | EditMessageReplyMarkup):
            key = self._key(payload)
            if key not in self.shown:
                raise Refused("Bad Request: message to edit not found")
            text, old_mode, _ = self.shown[key]
            if isinstance(method, EditMessageText):
                check_text(payload.get("text"), mode)
                text, old_mode = payload.get("text"), mode
            if (text, old_mode, markup) == self.shown[key]:
                raise Refused(
                    "Bad Request: message is not modified: specified new message content and "
                    "reply markup are exactly the same as a content and reply markup of the "
                    "current message"
                )
        check_markup(markup)

    @staticmethod
    def _key(payload: dict[str, Any]) -> tuple[int, int]:
        return int(payload.get("chat_id") or 0), int(payload.get("message_id") or 0)

    def _remember(self, method: TelegramMethod[Any], result: Message, payload: Any) -> None:
        """What a sent or edited message now shows, for telling an edit that changes nothing."""
        key = (result.chat.id, result.message_id)
        if isinstance(method, EditMessageReplyMarkup):
            text, mode, _ = self.shown[key]
            self.shown[key] = (text, mode, payload.get("reply_markup"))
        else:
            text = payload.get("text", payload.get("caption"))
            self.shown[key] = (text, payload.get("parse_mode"), payload.get("reply_markup"))

    def sent_to(self, chat_id: int) -> list[TelegramMethod[Any]]:
        """The calls addressed to one chat, oldest first."""
        return [m for m in self.calls if getattr(m, "chat_id", None) == chat_id]

    def _result(self, method: TelegramMethod[Any]) -> Any:
        if isinstance(method, GetMe):
            return BOT_USER
        if isinstance(method, GetFile):
            return File(
                file_id=method.file_id,
                file_unique_id=method.file_id,
                file_path=f"documents/{method.file_id}",
            )
        if isinstance(method, SendMessage | SendDocument | SendPhoto):
            return self._message(
                method.chat_id, getattr(method, "text", None), getattr(method, "reply_markup", None)
            )
        if isinstance(method, EditMessageText | EditMessageReplyMarkup) and method.chat_id:
            return self._message(
                method.chat_id,
                getattr(method, "text", None),
                method.reply_markup,
                method.message_id,
            )
        if isinstance(method, AnswerCallbackQuery | DeleteMessage):
            return True
        return True

    def _message(
        self, chat_id: Any, text: str | None, markup: Any, message_id: int | None = None
    ) -> Message:
        return Message(
            message_id=message_id or next(_MESSAGE_IDS),
            date=datetime.now(UTC),
            chat=Chat(id=int(chat_id), type="private" if int(chat_id) > 0 else "group"),
            from_user=BOT_USER,
            text=text,
            reply_markup=markup if isinstance(markup, InlineKeyboardMarkup) else None,
        )

    async def close(self) -> None:
        pass

    async def stream_content(
        self,
        url: str,
        headers: dict[str, Any] | None = None,
        timeout: int = 30,
        chunk_size: int = 65536,
        raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:
        yield self.files.get(url.rsplit("/", 1)[-1], b"")


def offline_bot(on_call: Callable[[TelegramMethod[Any], Any], None] | None = None) -> Bot:
    """A Bot on an OfflineSession, knowing itself, so it never asks the network who it is."""
    from aiogram.client.default import DefaultBotProperties

    bot = Bot(
        "42:OFFLINE",
        session=OfflineSession(on_call),
        default=DefaultBotProperties(parse_mode="HTML"),
    )
    bot._me = BOT_USER  # what aiogram's own MockedBot presets, so getMe is never called
    bot.session.middleware(LetGo())  # as the real bot's (bot.app.bot)
    bot.session.middleware(Unchanged())
    bot.session.middleware(WaitBriefly())
    return bot


class OfflineChat:
    """One person talking to the Dispatcher: messages and button presses become real Updates."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        bot: Bot,
        user_id: int,
        name: str = "张伟",
        group: int | None = None,
    ) -> None:
        """A private chat with the bot, or (`group`: its chat id) the person in a group chat."""
        self.dispatcher, self.bot = dispatcher, bot
        self.user = User(id=user_id, is_bot=False, first_name=name, language_code="zh-hans")
        self.chat = (
            Chat(id=group, type="group", title="审核群")
            if group is not None
            else Chat(id=user_id, type="private", first_name=name)
        )
        self.last: Update | None = None  # the update fed last, for delivering it again

    @property
    def session(self) -> OfflineSession:
        return self.bot.session  # type: ignore[return-value]

    async def _feed(self, **fields: Any) -> list[TelegramMethod[Any]]:
        """Feed one update; the calls it made towards this chat (and pop-ups for this person)."""
        self.last = Update(update_id=next(_UPDATE_IDS), **fields)
        return await self._deliver(self.last)

    async def redeliver(self) -> list[TelegramMethod[Any]]:
        """The last update once more, as Telegram delivers it again when it got no answer."""
        assert self.last is not None
        return await self._deliver(self.last)

    async def _deliver(self, update: Update) -> list[TelegramMethod[Any]]:
        start = len(self.session.calls)
        _mount(update, self.bot)
        await self.dispatcher.feed_update(self.bot, update)
        return self.mine(self.session.calls[start:])

    def mine(self, calls: list[TelegramMethod[Any]]) -> list[TelegramMethod[Any]]:
        """The calls that reached this chat (not those Telegram refused)."""
        return [
            c
            for c in calls
            if getattr(c, "chat_id", self.chat.id) == self.chat.id
            and id(c) not in self.session.refused
        ]

    def _message(self, **fields: Any) -> Message:
        return Message(
            message_id=next(_MESSAGE_IDS),
            date=datetime.now(UTC),
            chat=self.chat,
            from_user=self.user,
            **fields,
        )

    async def send(
        self, text: str, entities: list[MessageEntity] | None = None
    ) -> list[TelegramMethod[Any]]:
        """A text message; `entities` are its formatting (bold, links), as Telegram sends it."""
        return await self._feed(message=self._message(text=text, entities=entities))

    async def share_contact(
        self, phone: str, user_id: int | None = None
    ) -> list[TelegramMethod[Any]]:
        contact = Contact(
            phone_number=phone,
            first_name=self.user.first_name,
            user_id=self.user.id if user_id is None else user_id,
        )
        return await self._feed(message=self._message(contact=contact))

    async def send_document(
        self, name: str, content: bytes, caption: str | None = None
    ) -> list[TelegramMethod[Any]]:
        """Upload a file (the bot can download it by its file id)."""
        file_id = f"f{next(_MESSAGE_IDS)}"
        self.session.files[file_id] = content
        document = Document(
            file_id=file_id, file_unique_id=file_id, file_name=name, file_size=len(content)
        )
        return await self._feed(message=self._message(document=document, caption=caption))

    async def service(self, **fields: Any) -> list[TelegramMethod[Any]]:
        """A service message here, from this person: `migrate_to_chat_id=…` in a group just
        upgraded to a supergroup, `migrate_from_chat_id=…` in the supergroup."""
        return await self._feed(message=self._message(**fields))

    async def bot_member(self, member: bool) -> list[TelegramMethod[Any]]:
        """This person took the bot out of this chat (blocked it in a private chat, removed it
        from a group) or back in: Telegram's `my_chat_member` update."""
        inside = ChatMemberMember(user=BOT_USER)
        out = ChatMemberBanned(user=BOT_USER, until_date=0)
        old, new = (out, inside) if member else (inside, out)
        change = ChatMemberUpdated(
            chat=self.chat,
            from_user=self.user,
            date=datetime.now(UTC),
            old_chat_member=old,
            new_chat_member=new,
        )
        return await self._feed(my_chat_member=change)

    async def send_sticker(self) -> list[TelegramMethod[Any]]:
        sticker = Sticker(
            file_id="s",
            file_unique_id="s",
            type="regular",
            width=1,
            height=1,
            is_animated=False,
            is_video=False,
        )
        return await self._feed(message=self._message(sticker=sticker))

    def keyboards(self) -> list[tuple[int, InlineKeyboardMarkup]]:
        """(message id, buttons) of the bot's messages here that carry buttons, oldest first."""
        found: dict[int, InlineKeyboardMarkup] = {}
        for method in self.mine(self.session.calls):
            if getattr(method, "chat_id", None) != self.chat.id:
                continue
            markup = getattr(method, "reply_markup", None)
            if isinstance(method, EditMessageReplyMarkup | EditMessageText):
                if isinstance(markup, InlineKeyboardMarkup):
                    found[method.message_id or 0] = markup  # type: ignore[index]
                else:  # the edit took the buttons away
                    found.pop(method.message_id or 0, None)  # type: ignore[arg-type]
            elif isinstance(markup, InlineKeyboardMarkup):
                found[self.session.message_ids[id(method)]] = markup
        return list(found.items())

    async def press(
        self, label: str, *, message_id: int | None = None
    ) -> list[TelegramMethod[Any]]:
        """Press the button whose label contains `label` on the newest message (or the given)."""
        boards = self.keyboards()
        if message_id is not None:
            boards = [b for b in boards if b[0] == message_id]
        for number, markup in reversed(boards):
            for row in markup.inline_keyboard:
                for button in row:
                    if label in button.text:
                        return await self.press_data(number, button.callback_data or "")
        raise LookupError(f"no button “{label}”")

    async def press_data(self, message_id: int, data: str) -> list[TelegramMethod[Any]]:
        message = Message(
            message_id=message_id,
            date=datetime.now(UTC),
            chat=self.chat,
            from_user=BOT_USER,
            text="…",
        )
        query = CallbackQuery(
            id=str(next(_UPDATE_IDS)),
            from_user=self.user,
            chat_instance=str(self.chat.id),
            message=message,
            data=data,
        )
        return await self._feed(callback_query=query)


def texts(calls: list[TelegramMethod[Any]]) -> list[str]:
    """What the person read: message texts and pop-up notices, in order."""
    return [
        method.text
        for method in calls
        if isinstance(method, SendMessage | EditMessageText | AnswerCallbackQuery) and method.text
    ]


def _mount(update: TelegramObject, bot: Bot) -> None:
    """Give the update and everything in it the bot, as polling does when it reads an update
    (otherwise aiogram rebuilds the whole update through JSON to attach it)."""
    update.as_(bot)
    for part in update.__dict__.values():
        if isinstance(part, TelegramObject) and part.bot is not bot:
            _mount(part, bot)
