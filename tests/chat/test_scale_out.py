"""Several instances: the webhook checks Telegram's secret; one instance at a time leads the
reminder tick and the sender (PostgreSQL's advisory lock; SQLite has one process, which leads);
a conversation whose state was lost resumes from the database; a draft one instance keeps is read
again once another changed the form; a connection lost mid-answer leaves nothing half-written;
connections PostgreSQL closed are not handed to an update."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable
from contextlib import suppress
from datetime import UTC, datetime
from typing import Any

import pytest
from aiogram.fsm.storage.redis import RedisStorage
from aiogram.methods import SendMessage
from aiogram.types import Chat, Message, Update, User
from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio.connection import AbstractConnection
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy import Connection, delete, event, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool, PoolProxiedConnection

from bot import app, middlewares
from bot.app import Running
from bot.offline import Hold, OfflineChat, texts
from bot.webhook import WebhookError, check, web_app
from reminders.tick import Ticker
from services import form
from storage import greenlets, hot
from storage.db import create_engine, session_factory
from storage.hooks import after_commit, unless_committed
from storage.leader import Leader
from storage.models import AuditEntry, ConversationState, Delivery, now
from storage.repositories import Outgoing, Store, enqueue
from tests.chat.conftest import World
from tests.chat.helpers import conversation
from tests.chat.test_journey import bound, stored

SECRET = "s3cret-token_for-tests"


def start_update(user_id: int) -> dict[str, object]:
    person = User(id=user_id, is_bot=False, first_name="张伟")
    message = Message(
        message_id=1,
        date=datetime.now(UTC),
        chat=Chat(id=user_id, type="private"),
        from_user=person,
        text="/start",
    )
    update = Update(update_id=7, message=message)
    return update.model_dump(mode="json", by_alias=True, exclude_none=True)


async def test_the_webhook_takes_updates_only_with_the_secret(world: World) -> None:
    app = web_app(world.dispatcher, world.bot, "/telegram", SECRET)
    async with TestClient(TestServer(app)) as client:
        refused = await client.post(
            "/telegram",
            json=start_update(501),
            headers={"X-Telegram-Bot-Api-Secret-Token": "guess"},
        )
        assert refused.status == 401 and not world.bot.session.sent_to(501)  # type: ignore[attr-defined]
        taken = await client.post(
            "/telegram",
            json=start_update(501),
            headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
        )
        assert taken.status == 200
        [welcome] = world.bot.session.sent_to(501)  # type: ignore[attr-defined]
        assert isinstance(welcome, SendMessage) and "专属链接" in welcome.text
        assert await (await client.get("/healthz")).text() == "ok"


def test_webhook_settings_that_cannot_work() -> None:
    with pytest.raises(WebhookError, match="https://"):
        check("http://bot.example.com", SECRET)
    with pytest.raises(WebhookError, match="WEBHOOK_SECRET"):
        check("https://bot.example.com", "short")
    assert check("https://bot.example.com/", SECRET) == ("https://bot.example.com", SECRET)


async def test_one_leader_at_a_time(world: World) -> None:
    engine = world.sessions.kw["bind"]
    first, second = Leader(engine, retry=0.05), Leader(engine, retry=0.05)
    assert await first.acquire()
    shared = engine.dialect.name == "postgresql"
    assert await second.acquire() is (not shared)  # SQLite: one process, always the leader
    await first.release()
    assert await second.acquire()
    assert await second.holding()
    await second.release()


async def test_the_sender_runs_only_where_the_lock_is(world: World) -> None:
    engine = world.sessions.kw["bind"]
    shared = engine.dialect.name == "postgresql"
    other = Leader(engine)
    assert await other.acquire()  # another instance leads
    async with world.sessions() as session:
        await enqueue(session, [Outgoing("hello", 777, "你好", 1)])
        await session.commit()
    ticker = Ticker(world.bot, world.sessions, world.catalog, clock=world.clock)
    running = Running(world.dispatcher, world.sender, ticker, Leader(engine, retry=0.05))
    stop = asyncio.Event()
    background = asyncio.create_task(running.background(stop))
    await asyncio.sleep(0.3)
    sent_while_other_leads = await _status(world)
    await other.release()  # the other instance is gone: this one takes over
    for _ in range(100):
        if await _status(world) == "sent":
            break
        await asyncio.sleep(0.05)
    stop.set()
    await background
    assert sent_while_other_leads == ("pending" if shared else "sent")
    assert await _status(world) == "sent"
    assert len(world.bot.session.sent_to(777)) == 1  # type: ignore[attr-defined]


async def _status(world: World) -> str:
    async with world.sessions() as session:
        return (await session.scalars(select(Delivery.status))).one()


async def test_a_lost_conversation_state_resumes_from_the_database(world: World) -> None:
    """Redis restarted empty (or the state row is gone): the contact is shown where they are
    in the form; nothing they send meanwhile is taken for an answer."""
    _, person = await bound(world)
    await person.press("全部正确")  # now at 联系人姓名
    storage, _ = world.shared
    if storage is not None:
        await storage.redis.flushdb()
    else:
        async with world.sessions() as session:
            await session.execute(delete(ConversationState))
            await session.commit()
    world.restart()
    person = world.person(person.user.id)  # talking to the new process
    said = texts(await person.send("王五"))
    assert len(said) == 1 and "请填写联系人姓名" in said[0]
    assert "contact_name" not in await stored(world)
    said = texts(await person.send("王五"))
    assert "联系人手机号" in said[-1] and (await stored(world))["contact_name"].value == "王五"


async def test_a_kept_draft_is_read_again_once_another_instance_changed_the_form(
    world: World,
) -> None:
    """An instance keeps the drafts it read while their form's version is the same; another
    instance's answer raises it, and the next update shows that answer."""
    _, person = await bound(world)
    await person.press("全部正确")
    await person.send("张伟")  # this instance keeps the draft; the contact is at the mobile
    url = world.sessions.kw["bind"].url.render_as_string(hide_password=False)
    other = create_engine(url)  # another instance: drafts of its own
    async with session_factory(other)() as session:
        store = Store(session)
        contact = await store.contacts.by_user(person.user.id)
        assert contact is not None
        draft = await form.open_draft(store, contact, world.catalog)
        await form.put(store, draft, "contact_name", "李娜", "typed", person.user.id)
        await store.commit()
    await other.dispose()
    said = texts(await person.press("上一项"))
    assert "当前：李娜" in said[-1]


async def test_the_database_dropping_mid_answer_leaves_nothing_half_written(
    world: World,
) -> None:
    """The connection fails as the answer's audit entry is written (on SQLite after the answer,
    on PostgreSQL in one statement with it: `storage.hot`): the contact is asked to try again,
    neither is stored, and typing it again is taken as the answer to the same question."""

    def drop(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if "INSERT INTO audit_log" in statement:
            raise OperationalError(statement, parameters, ConnectionError("connection lost"))

    _, person = await bound(world)
    await person.press("全部正确")  # now at 联系人姓名
    said = await _failing(world, "before_cursor_execute", drop, person.send("王五"))
    assert said[-1] == SORRY
    assert "contact_name" not in await stored(world)
    assert await _audited(world, "answer") == 0
    said = texts(await person.send("王五"))
    assert "联系人手机号" in said[-1] and (await stored(world))["contact_name"].value == "王五"


async def test_a_commit_that_fails_leaves_the_conversation_where_it_was(world: World) -> None:
    """The database refuses the COMMIT itself, after the pre-loaded section's confirmation and
    the next screen's state were written (in the transaction, or waiting for it in Redis): the
    contact is asked to try again, nothing is confirmed, and pressing again goes on as the first
    press would have (the conversation is as it was stored, not as the failed update left it in
    the process). An answer has no COMMIT of its own on PostgreSQL (`storage.hot`)."""
    failing = [True]

    def refuse(conn: Connection) -> None:  # as a server gone at the COMMIT: nothing kept
        if failing[0]:
            failing[0] = False
            conn.connection.dbapi_connection.rollback()  # type: ignore[union-attr]
            raise OperationalError("COMMIT", None, ConnectionError("connection lost"))

    _, person = await bound(world)  # at the pre-loaded section
    said = await _failing(world, "commit", refuse, person.press("全部正确"))
    assert said[-1] == SORRY and await _audited(world, "preloaded.confirmed") == 0
    said = texts(await person.press("全部正确"))
    assert "联系人姓名" in said[-1] and await _audited(world, "preloaded.confirmed") == 1


SORRY = "抱歉，刚才出了点问题，您的上一步可能没有保存，请重试。"


@pytest.mark.skipif(
    bool(os.environ.get("TEST_DATABASE_URL")), reason="an answer has no COMMIT on PostgreSQL"
)
async def test_an_answer_whose_commit_fails_is_not_kept(world: World) -> None:
    """On SQLite an answer commits what ran on the connection its session holds, outside the
    session's transaction (`storage.hot.Waiting`): refused at the COMMIT, neither the answer
    nor its audit entry stands, the connection goes back to the pool, and typing it again is
    taken as the answer to the same question."""
    failing = [True]

    def refuse(conn: Connection) -> None:
        if failing[0]:
            failing[0] = False
            raise OperationalError("COMMIT", None, ConnectionError("disk I/O error"))

    _, person = await bound(world)
    await person.press("全部正确")  # now at 联系人姓名
    said = await _failing(world, "commit", refuse, person.send("王五"))
    assert said[-1] == SORRY and not failing[0]
    assert "contact_name" not in await stored(world)
    assert await _audited(world, "answer") == 0
    assert world.sessions.kw["bind"].sync_engine.pool.checkedout() == 0
    said = texts(await person.send("王五"))
    assert "联系人手机号" in said[-1] and (await stored(world))["contact_name"].value == "王五"


async def _failing(
    world: World, name: str, failing: Callable[..., None], step: Awaitable[list[Any]]
) -> list[str]:
    """What the person is told of `step` while the engine's `name` event makes it fail."""
    engine = world.sessions.kw["bind"].sync_engine
    world.failures_expected = True
    event.listen(engine, name, failing)
    try:
        return texts(await step)
    finally:
        event.remove(engine, name, failing)


async def _audited(world: World, action: str) -> int:
    async with world.sessions() as session:
        entries = await session.scalars(select(AuditEntry.id).where(AuditEntry.action == action))
        return len(entries.all())


@pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"), reason="SQLite has no server to close connections"
)
async def test_connections_the_server_closed_are_replaced_before_use(world: World) -> None:
    """PostgreSQL restarted between two answers (every connection of the bot's pool terminated
    by the server): the next answer is served on a new connection, not refused with 请重试."""
    _, person = await bound(world)
    await person.press("全部正确")  # now at 联系人姓名
    engine = world.sessions.kw["bind"]
    assert engine.sync_engine.pool.checkedin() >= 1  # waiting in the pool, about to be lost
    server = create_engine(engine.url.render_as_string(hide_password=False), poolclass=NullPool)
    async with server.connect() as connection:  # not one of the pool's
        terminated = await connection.scalar(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
    await server.dispose()
    assert terminated >= 1
    await asyncio.sleep(0.2)  # the server's goodbye arrives
    said = texts(await person.send("王五"))
    assert "联系人手机号" in said[-1] and (await stored(world))["contact_name"].value == "王五"


@pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"), reason="SQLite has no server to close connections"
)
async def test_a_connection_lost_mid_answer_is_not_used_again(world: World) -> None:
    """The server ends the connection while it runs an answer's statement (a trigger on the
    audit log terminating its own backend): the contact is asked to try again, nothing of the
    answer is stored, the connection is not given to another update, and the answer typed again
    is stored."""
    _, person = await bound(world)
    await person.press("全部正确")  # now at 联系人姓名
    gone = (
        "CREATE FUNCTION test_gone() RETURNS trigger LANGUAGE plpgsql AS"
        " $$ BEGIN PERFORM pg_terminate_backend(pg_backend_pid()); RETURN NEW; END $$",
        "CREATE TRIGGER test_gone BEFORE INSERT ON audit_log"
        " FOR EACH ROW EXECUTE FUNCTION test_gone()",
    )
    async with world.sessions() as session:
        for statement in gone:
            await session.execute(text(statement))
        await session.commit()
    pool = world.sessions.kw["bind"].sync_engine.pool
    lost: list[object] = []
    event.listen(pool, "invalidate", lambda connection, *_: lost.append(connection))
    world.failures_expected = True
    try:
        said = texts(await person.send("王五"))
    finally:
        async with world.sessions() as session:
            await session.execute(text("DROP FUNCTION test_gone() CASCADE"))
            await session.commit()
    assert said[-1] == SORRY
    assert "contact_name" not in await stored(world)
    assert await _audited(world, "answer") == 0
    assert len(lost) == 1  # the lost one closed by the pool, not given to the next update
    said = texts(await person.send("王五"))
    assert "联系人手机号" in said[-1] and (await stored(world))["contact_name"].value == "王五"


@pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"), reason="SQLite's pool keeps its one connection"
)
async def test_a_connection_the_pool_has_no_room_for_is_closed_cleanly(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    """An update's statement goes on a connection the pool then has no room to keep (the others
    came back meanwhile): it is closed as it comes back, without an error (asyncpg's close is a
    coroutine: `storage.hot._give_back`), and the person is answered."""
    _, person = await bound(world)
    pool = world.sessions.kw["bind"].sync_engine.pool
    taken = [await greenlets.run(pool.connect) for _ in range(pool.size() + 1)]  # one extra
    for fairy in taken[:-1]:
        fairy.close()  # kept: the pool full, one opened beyond it still out

    async def back_meanwhile() -> None:  # while the update's statement runs, the extra returns
        while pool.checkedout() < 2:
            await asyncio.sleep(0)
        await greenlets.run(taken[-1].close)

    with caplog.at_level(logging.ERROR):
        said, _ = await asyncio.gather(person.send("/start"), back_meanwhile())
    assert texts(said)
    assert "Exception closing connection" not in caplog.text
    assert pool.checkedout() == 0 and pool.checkedin() == pool.size()


async def test_while_telegram_is_slow_for_one_contact_others_are_served(world: World) -> None:
    """An update gives up the database once it speaks to Telegram (with SQLite's one connection
    the bot would otherwise serve one update per Telegram round trip), and what it says is
    stored by then."""
    enterprise, first = await bound(world)
    second = world.person(2002, "李娜")
    await second.send(f"/start {await world.invitation(enterprise)}")
    await first.press("全部正确")
    await second.send("/start")  # both at 联系人姓名
    slow = world.bot.session.holds[first.chat.id] = Hold()  # type: ignore[attr-defined]
    answering = asyncio.create_task(first.send("张伟"))
    await asyncio.wait_for(slow.arrived.wait(), 5)  # its next question is on the way
    assert (await stored(world))["contact_name"].value == "张伟"
    said = texts(await asyncio.wait_for(second.send("李娜"), 5))
    assert "联系人手机号" in said[-1] and (await stored(world))["contact_name"].value == "李娜"
    slow.released.set()
    assert "联系人手机号" in texts(await answering)[-1]


@pytest.mark.skipif(
    not (os.environ.get("TEST_DATABASE_URL") and os.environ.get("TEST_REDIS_URL")),
    reason="PostgreSQL with the conversation in Redis, as several instances run",
)
async def test_an_answer_is_two_round_trips_to_postgresql_and_a_step_back_one(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What PostgreSQL receives, as asyncpg's log of the queries its connections run shows it:
    for an answer, the sender's read, then the answer, its audit entry, the update's record and
    the form's hold in one statement that is its own transaction (no BEGIN or COMMIT); for
    上一项, the sender's read only. Each is sent by asyncpg's connection itself (the log shows no
    statement SQLAlchemy's adapter prepares and runs), and neither begins the session's
    transaction (`storage.hot`)."""
    _, person = await bound(world)
    await person.press("全部正确")  # now at 联系人姓名
    queries: list[str] = []
    engine = world.sessions.kw["bind"].sync_engine
    logged: list[Any] = []  # the driver's connections whose queries `log` records

    def log(query: Any) -> None:
        queries.append(query.query)

    def checkout(_: object, __: object, proxy: PoolProxiedConnection) -> None:
        if proxy.driver_connection not in logged:
            logged.append(proxy.driver_connection)
            proxy.driver_connection.add_query_logger(log)

    async def idle() -> None:  # the delivery queue's polling after each update is not its own
        pass

    begun: list[object] = []

    def begin(session: Session, *_: object) -> None:
        begun.append(session)

    monkeypatch.setattr(world.sender, "drain", idle)
    event.listen(engine.pool, "checkout", checkout)
    event.listen(Session, "after_begin", begin)
    try:
        await person.send("张伟")
        await asyncio.sleep(0)  # asyncpg logs once the loop comes round
        answered = [q.split()[0] for q in queries]
        written = queries[-1]
        queries.clear()
        said = texts(await person.press("上一项"))
        await asyncio.sleep(0)
    finally:
        event.remove(engine.pool, "checkout", checkout)
        event.remove(Session, "after_begin", begin)
        for connection in logged:
            connection.remove_query_logger(log)
    assert answered == ["SELECT", "WITH"]
    assert not begun
    assert all(f"INSERT INTO {t} " in written for t in ("answers", "audit_log", "handled_updates"))
    assert "UPDATE submissions SET version" in written
    assert [q.split()[0] for q in queries] == ["SELECT"]
    assert "当前：张伟" in said[-1] and (await stored(world))["contact_name"].value == "张伟"


async def test_an_answer_and_a_step_back_begin_no_session_transaction(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An update's statements run below its session without beginning the session's
    transaction (`storage.hot.Waiting`): on SQLite on a connection the session holds, on
    PostgreSQL each a transaction of its own; what they wrote is stored all the same."""
    _, person = await bound(world)
    await person.press("全部正确")  # now at 联系人姓名
    begun: list[object] = []

    def begin(session: Session, *_: object) -> None:
        begun.append(session)

    async def idle() -> None:  # the delivery queue's polling after each update is not its own
        pass

    monkeypatch.setattr(world.sender, "drain", idle)
    event.listen(Session, "after_begin", begin)
    try:
        await person.send("张伟")
        said = texts(await person.press("上一项"))
    finally:
        event.remove(Session, "after_begin", begin)
    assert not begun
    assert "当前：张伟" in said[-1] and (await stored(world))["contact_name"].value == "张伟"
    assert await _audited(world, "answer") == 1


async def test_writes_in_a_session_not_begun_go_with_its_commit_or_not_at_all(
    world: World,
) -> None:
    """A write below an update's session whose transaction has not begun (`storage.hot`: on
    PostgreSQL it waits in the session, on SQLite it ran on the connection the session holds):
    the update's commit, or the session's own, keeps it and settles what waited for it, with
    an object added through the ORM meanwhile; an update that ends without one (it failed), or
    rolls back, leaves it unwritten and says so to what waited, and a commit after the rollback
    writes nothing. The connection goes back to the pool each time."""
    told: list[str] = []
    for ending in ("commit", "close", "rollback", "orm"):
        session = world.sessions()
        await Store(session).audit.record("test.waiting", 1, ending=ending)
        unless_committed(session, lambda e=ending: told.append(f"not committed: {e}"))
        after_commit(session, lambda e=ending: told.append(f"committed: {e}"))
        assert not session.in_transaction()
        if ending == "rollback":
            await Store(session).rollback()
        if ending == "orm":
            session.add(AuditEntry(action="test.added", detail={}, at=now()))
            await session.commit()
        elif ending != "close":
            await hot.commit(session)
        await middlewares._close(session)
    assert told == [
        "committed: commit",
        "not committed: close",
        "not committed: rollback",
        "committed: orm",
    ]
    async with world.sessions() as session:
        entries = await session.scalars(
            select(AuditEntry.detail).where(AuditEntry.action == "test.waiting")
        )
        assert entries.all() == [{"ending": "commit"}, {"ending": "orm"}]
    assert await _audited(world, "test.added") == 1
    assert world.sessions.kw["bind"].sync_engine.pool.checkedout() == 0


@pytest.mark.skipif(
    not os.environ.get("TEST_REDIS_URL"), reason="the conversation's state is in the database"
)
async def test_an_update_reads_its_conversation_from_redis_as_it_takes_the_lock(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An update reads its conversation's state and data in the script that takes the
    conversation's lock, and writes what it changed in it (its screen, the id of the message the
    screen became) as it releases it (`storage.shared_fsm`): two round trips; what it wrote is
    what the next update reads."""
    _, person = await bound(world)
    commands: list[str] = []
    original = AbstractConnection.send_command

    async def counted(self: AbstractConnection, *args: object, **kwargs: object) -> None:
        commands.append(str(args[0]))
        await original(self, *args, **kwargs)

    with monkeypatch.context() as patched:  # every command, whichever way it is sent
        patched.setattr(AbstractConnection, "send_command", counted)
        await person.press("全部正确")  # now at 联系人姓名
        await person.send("张伟")
    # each: the lock taken with the conversation read; the screen's state and the message id it
    # became written with the lock's release, in the same script
    assert commands == ["EVAL", "EVAL"] * 2
    assert (await conversation(world, person)).get("message")
    assert (await stored(world))["contact_name"].value == "张伟"
    said = texts(await person.send("13812345678"))
    assert "联系人手机号：13812345678（已记录）" in said[-1]


async def _two_instances(world: World) -> tuple[OfflineChat, OfflineChat, RedisStorage, Hold]:
    """A contact at 联系人姓名; the same person to another instance (its own Dispatcher and Redis
    storage, the same database and Bot API), its storage, and Telegram held for their chat."""
    _, person = await bound(world)
    await person.press("全部正确")  # now at 联系人姓名
    storage, isolation = app.shared_state(os.environ["TEST_REDIS_URL"])
    other = OfflineChat(
        app.dispatcher(world.sessions, world.catalog, world.notifier, storage, isolation=isolation),
        world.bot,
        person.user.id,
    )
    slow = world.bot.session.holds[person.chat.id] = Hold()  # type: ignore[attr-defined]
    return person, other, storage, slow


@pytest.mark.skipif(not os.environ.get("TEST_REDIS_URL"), reason="one process: its own lock")
async def test_a_persons_next_update_on_another_instance_waits_for_the_first(
    world: World,
) -> None:
    """Two instances behind a load balancer: the person's second message, on the other one,
    is handled once the first has spoken and let go of the conversation, with all it wrote: typed
    before the next question appeared, it is not taken as its answer."""
    person, other, storage, slow = await _two_instances(world)
    try:
        answering = asyncio.create_task(person.send("张伟"))
        await asyncio.wait_for(slow.arrived.wait(), 5)  # 联系人手机号 on its way, lock held
        waiting = asyncio.create_task(other.send("13812345678"))
        await asyncio.sleep(0.35)  # the other instance tries again every 0.1 s meanwhile
        assert not waiting.done()
        slow.released.set()
        assert "联系人手机号" in texts(await answering)[-1]
        said = texts(await asyncio.wait_for(waiting, 5))
    finally:
        await storage.close()
    assert "下面这个问题还没有显示出来" in said[0] and "请填写联系人手机号" in said[-1]
    assert "contact_mobile" not in await stored(world)
    said = texts(await other.send("13812345678"))
    assert "联系人手机号：13812345678（已记录）" in said[-1]
    assert (await stored(world))["contact_name"].value == "张伟"


@pytest.mark.skipif(not os.environ.get("TEST_REDIS_URL"), reason="one process: its own lock")
async def test_an_instance_killed_before_letting_go_leaves_the_conversation_to_resume(
    world: World,
) -> None:
    """An instance dies after its answer was committed and while its next question is being
    sent, before it let go of the conversation (whose state it writes as it lets go): once its
    lock has expired, the person's next message, on another instance, is not taken as an answer
    to the question before; they are shown where they are, and answering goes on from there."""
    person, other, storage, slow = await _two_instances(world)
    world.failures_expected = True  # the killed instance's update, if it ever ended
    dying = asyncio.create_task(person.send("张伟"))
    try:
        await asyncio.wait_for(slow.arrived.wait(), 5)  # 联系人手机号 on its way: the kill
        del world.bot.session.holds[person.chat.id]  # type: ignore[attr-defined]
        for lock in await storage.redis.keys("*:lock"):
            await storage.redis.pexpire(lock, 1)  # as its 60 s would end
        await asyncio.sleep(0.01)
        said = texts(await asyncio.wait_for(other.send("13812345678"), 5))
        assert len(said) == 1 and "请填写联系人手机号" in said[0]
        assert (await stored(world))["contact_name"].value == "张伟"
        assert "contact_mobile" not in await stored(world)
        said = texts(await other.send("13812345678"))
        assert "联系人手机号：13812345678（已记录）" in said[-1]
    finally:
        dying.cancel()
        with suppress(asyncio.CancelledError):
            await dying  # the killed instance's last words, never heard
        await storage.close()


@pytest.mark.skipif(not os.environ.get("TEST_REDIS_URL"), reason="one process: its own lock")
async def test_an_update_ends_without_waiting_for_its_release_whose_reply_the_next_reads(
    world: World, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """An update does not wait for the reply to the script that lets go of its conversation
    (`storage.shared_fsm`): the next update reads it behind its own. One held past its lock
    (another took the lock meanwhile) is answered all the same, its release refused and
    logged; its conversation is then read as lost, and the person is shown where they are."""
    _, person = await bound(world)
    await person.press("全部正确")  # now at 联系人姓名
    replies: list[object] = []
    original = AbstractConnection.read_response

    async def read(self: AbstractConnection, *args: Any, **kwargs: Any) -> Any:
        replies.append(reply := await original(self, *args, **kwargs))
        return reply

    monkeypatch.setattr(AbstractConnection, "read_response", read)
    redis = world.dispatcher.storage.redis  # type: ignore[attr-defined]
    slow = world.bot.session.holds[person.chat.id] = Hold()  # type: ignore[attr-defined]
    answering = asyncio.create_task(person.send("张伟"))
    await asyncio.wait_for(slow.arrived.wait(), 5)  # 联系人手机号 on its way, the lock held
    (lock,) = await redis.keys("*:lock")
    await redis.set(lock, "another's")  # as if its 60 s had ended and another took it
    replies.clear()
    slow.released.set()
    said = texts(await answering)
    assert "联系人手机号" in said[-1] and (await stored(world))["contact_name"].value == "张伟"
    assert replies == []  # the release sent, its reply not waited for
    await redis.delete(lock)  # the other holder let go
    replies.clear()
    with caplog.at_level(logging.WARNING, "storage.shared_fsm"):
        said = texts(await person.send("13812345678"))
    assert replies[:2] == [0, [1, None, None]]  # the release refused, then this one's take
    assert "was no longer this instance's" in caplog.text
    assert len(said) == 1 and "请填写联系人手机号" in said[0]
    assert "contact_mobile" not in await stored(world)


@pytest.mark.skipif(not os.environ.get("TEST_REDIS_URL"), reason="one process: its own lock")
async def test_a_lock_taken_whose_reply_was_lost_is_taken_on_the_retry(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The connection drops after Redis took the conversation's lock, before its reply came
    back: the retry, on a new connection, finds the lock already the update's (not another's,
    to wait 60 s for)."""
    _, person = await bound(world)
    original = AbstractConnection.read_response
    lost: list[bool] = []

    async def drop_once(self: AbstractConnection, *args: Any, **kwargs: Any) -> Any:
        reply = await original(self, *args, **kwargs)
        if not lost:
            lost.append(True)
            raise RedisConnectionError("Connection closed by server.")
        return reply

    with monkeypatch.context() as patched:
        patched.setattr(AbstractConnection, "read_response", drop_once)
        said = texts(await asyncio.wait_for(person.press("全部正确"), 5))
    assert lost and "联系人姓名" in said[-1]
