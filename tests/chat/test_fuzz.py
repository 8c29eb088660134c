"""Random traffic: text, commands, button presses (real and forged, fresh and stale, with numbers
no row or page has), stickers, documents and contact cards from a bound contact, an official and
a stranger. Nothing raises past the handlers, and every stored answer stays one its field can
hold."""

from __future__ import annotations

import logging
import re
from datetime import date
from decimal import Decimal

import pytest
from aiogram.fsm.storage.base import StorageKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.offline import BOT_USER, OfflineChat, texts
from domain.catalog import LISTED, Catalog, Kind
from domain.text import visible
from storage.codec import decode
from storage.models import Answer
from tests.chat.conftest import World, official
from tests.chat.test_journey import bound

COMMANDS = ["/start", "/menu", "/status", "/help", "/history", "/excel", "/queue", "/form", "/find",
            "/export", "/chart", "/score", "/score run", "/import", "/invite", "/broadcast",
            "/cancel", "/bindgroup", "/start x", "/form 91210211MA0Y4LKX4K"]  # fmt: skip
TEXT = st.one_of(
    st.text(max_size=200),
    st.from_regex(r"-?[0-9０-９,，.]{1,14}(万|元|亿|万元)?", fullmatch=True),
    st.sampled_from(["<b>x</b>", "&amp;", "🙂" * 50, " ", "\u200b", "a" * 5000, "1e309"]),
    st.builds("\u2060".join, st.text(min_size=2, max_size=30)),  # a word joiner between each
)
# Numbers a forger puts in button data: beyond PostgreSQL's integer and bigint, negative, digits
# Python's str.isdigit() accepts but int() does not.
NUMBER = st.one_of(
    st.integers(),
    st.sampled_from([2**31 - 1, 2**31, 2**63, 10**23, -1, "²", "١", "1_0", "1.0", "+3", " 7"]),
)
FORGED_NUMBER = [
    "c:{}:ok", "c:{}:back", "c:{}:info", "c:{}:yes", "c:{}:no", "q:a:{}:0", "q:a:0:{}",
    "p:{}:menu:",
]  # fmt: skip
EVENT = st.one_of(
    st.tuples(st.just("text"), TEXT),
    st.tuples(st.just("text"), st.sampled_from(COMMANDS)),
    st.tuples(st.just("press"), st.integers(min_value=0, max_value=40)),  # a real button
    st.tuples(st.just("forged"), st.text(max_size=64)),
    st.tuples(st.just("forged"), st.builds(str.format, st.sampled_from(FORGED_NUMBER), NUMBER)),
    st.tuples(st.just("tampered"), st.tuples(st.integers(0, 40), NUMBER)),  # a real one, altered
    st.tuples(st.just("sticker"), st.none()),
    st.tuples(st.just("document"), st.binary(max_size=200)),
    st.tuples(st.just("contact"), st.from_regex(r"\+?86?1[0-9]{10}", fullmatch=True)),
)


async def act(person: OfflineChat, kind: str, arg: object) -> None:
    if kind == "text":
        await person.send(str(arg))
    elif kind in ("press", "tampered"):
        buttons = [
            (message_id, b.callback_data)
            for message_id, markup in person.keyboards()
            for row in markup.inline_keyboard
            for b in row
            if b.callback_data
        ]
        which, number = arg if kind == "tampered" else (arg, None)  # type: ignore[misc]
        if buttons:
            message_id, data = buttons[int(which) % len(buttons)]
            if number is not None:  # its last number (an id, a page, a choice) replaced
                data = re.sub(r"[0-9]+(?=[^0-9]*$)", str(number), data)
            await person.press_data(message_id, data)
    elif kind == "forged":
        await person.press_data(1, str(arg))
    elif kind == "sticker":
        await person.send_sticker()
    elif kind == "document":
        await person.send_document("名单.csv", bytes(arg))  # type: ignore[arg-type]
    else:
        await person.share_contact(str(arg))


def holds(catalog: Catalog, name: str, stored: object) -> bool:
    """A stored answer its field can hold: the right type, within its choices and length."""
    f = catalog.by_name[name]
    value = decode(f, stored)
    if value is None:
        return True  # skipped
    if f.kind is Kind.MONEY:
        return isinstance(value, Decimal) and (f.negative or value >= 0)
    if f.kind is Kind.RANK:
        return value == LISTED or (isinstance(value, int) and value >= 1)
    if f.kind is Kind.COUNT:
        return isinstance(value, int) and (f.negative or value >= 0)
    if f.kind is Kind.DATE:
        return isinstance(value, date)
    if f.kind is Kind.CHOICE:
        return value in f.choices
    if f.kind is Kind.MULTI:
        return isinstance(value, tuple) and set(value) <= set(f.choices)
    if f.kind is Kind.YES_NO:
        return isinstance(value, bool)
    return (
        isinstance(value, str)
        and (not f.max_length or len(value) <= f.max_length)
        and visible(value) == value  # nothing that shows nothing
    )


@pytest.mark.filterwarnings("ignore::hypothesis.errors.NonInteractiveExampleWarning")
@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(events=st.lists(st.tuples(st.integers(0, 2), EVENT), min_size=1, max_size=15))
async def test_random_traffic_breaks_nothing(
    world: World, caplog: pytest.LogCaptureFixture, events: list[tuple[int, tuple[str, object]]]
) -> None:
    if not hasattr(world, "fuzzed"):  # the same bot and people across examples, like a day's
        _, contact = await bound(world)  # traffic
        reviewer = await official(world, "county", "210211", 501, "王科长")
        world.fuzzed = [contact, reviewer, world.person(9001, "路人")]  # type: ignore[attr-defined]
    people: list[OfflineChat] = world.fuzzed  # type: ignore[attr-defined]
    caplog.clear()
    with caplog.at_level(logging.ERROR):
        for who, (kind, arg) in events:
            await act(people[who], kind, arg)
    failures = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not failures, failures[0].getMessage()
    async with world.sessions() as session:
        answers = (await session.scalars(select(Answer))).all()
    for a in answers:
        assert holds(world.catalog, a.field, a.value), (a.field, a.value)


FORGED = [
    "c:99999999999999999999999:ok",  # beyond bigint: OverflowError on SQLite and PostgreSQL
    "c:3000000000:info",  # beyond PostgreSQL's integer: DataError there
    "c:-1:back",
    "q:a:-1:0",  # a negative page: a negative OFFSET, refused by PostgreSQL
    "q:a:99999999999999999999:0",  # a page whose OFFSET overflows bigint
    "q:a:0:99999999999",
    "q:x:0:0",  # no such filter
    "c:0x10:ok",
]


@pytest.mark.parametrize("data", FORGED)
async def test_forged_numbers_in_buttons_are_expired_buttons(
    world: World, caplog: pytest.LogCaptureFixture, data: str
) -> None:
    reviewer = await official(world, "county", "210211", 501, "王科长")
    with caplog.at_level(logging.ERROR):
        said = texts(await reviewer.press_data(1, data))
    assert said == ["这个按钮已过期，请使用最新一条消息中的按钮。"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_choice_forged_with_a_digit_int_cannot_read_is_stale(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    """A "²" is a digit to str.isdigit() but not to int(): no choice is read from it."""
    _, contact = await bound(world)
    key = StorageKey(bot_id=BOT_USER.id, chat_id=contact.chat.id, user_id=contact.user.id)

    async def press(act: str) -> list[str]:
        screen = (await world.dispatcher.storage.get_data(key))["screen"]
        return texts(await contact.press_data(1, f"p:{screen}:{act}"))

    await press("menu:")
    await press("go:enterprise_scale")
    with caplog.at_level(logging.ERROR):
        assert await press("pick:²") == ["这个按钮已过期，请使用最新一条消息中的按钮。"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "企业规模" in (await press("pick:0"))[-1]  # the real choice still works
