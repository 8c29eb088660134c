"""Engines, sessions and migrations. SQLite (a file) by default; PostgreSQL by URL."""

from __future__ import annotations

import asyncio
import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry, PoolResetState, QueuePool

from storage import hot
from storage.sqlite import connector

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
UPGRADE_LOCK = 0x63786A6D  # PostgreSQL advisory lock of `upgrade`; not the leader's (leader.py)

# The current update's database session, when there is one. The FSM state and the outbox write on
# it, so an update never needs a second connection (with SQLite's one connection, it would wait
# for itself).
update_session: ContextVar[AsyncSession | None] = ContextVar("update_session", default=None)


_kept: WeakKeyDictionary[Engine, dict[str, dict[Any, Any]]] = WeakKeyDictionary()


def kept(session: AsyncSession, name: str) -> dict[Any, Any]:
    """What this process keeps of what it read from the session's database, by `name` (one
    store per database: tests and benchmarks open several in one process). Whoever keeps
    something there reads, with each use, what tells whether it is still current."""
    engine = session.sync_session.bind  # as it is (`AsyncSession.bind` translates it each time)
    assert isinstance(engine, Engine)
    stores = _kept.get(engine)
    if stores is None:
        stores = _kept[engine] = {}
    return stores.setdefault(name, {})


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(url: str, **options: Any) -> AsyncEngine:
    """An engine; for SQLite, in WAL mode with foreign keys on and a wait instead of 'locked'."""
    if not is_sqlite(url):
        engine = create_async_engine(url, **options)
        event.listen(engine.sync_engine, "checkout", _closed_by_server)
        hot.batching(engine.sync_engine)
        return engine
    parsed = make_url(url)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    # One connection, its statements run in the event loop (storage/sqlite.py): SQLite has one
    # writer at a time anyway, and updates queue for it in order (bot.middlewares.Services).
    # An update works on one session (the FSM state and the outbox too: update_session), so it
    # never waits for a connection it holds itself.
    arguments = parsed.get_dialect()().create_connect_args(parsed)
    options = {"pool_size": 1, "max_overflow": 0, "pool_timeout": 60, **options}
    options.setdefault("pool_reset_on_return", None)  # see `_reset`
    engine = create_async_engine(url, async_creator=connector(*arguments), **options)

    @event.listens_for(engine.sync_engine, "reset")
    def _reset(dbapi_connection: Any, _: Any, state: PoolResetState) -> None:
        """The pool's rollback of a connection given back, only where a transaction is open:
        not after a commit, the usual end of an update (a trip through SQLAlchemy's greenlet
        and aiosqlite less an update)."""
        if state.asyncio_safe and dbapi_connection.driver_connection.in_transaction:
            dbapi_connection.rollback()

    @event.listens_for(engine.sync_engine, "connect")
    def _pragmas(connection: Any, _: Any) -> None:
        cursor = connection.cursor()
        # WAL + NORMAL: a commit survives the process dying at any moment (not a power cut).
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=0")  # a locked file is waited for in sqlite.py
        cursor.close()

    return engine


def _closed_by_server(_: Any, entry: ConnectionPoolEntry, __: Any) -> None:
    """A pooled connection the server has closed (PostgreSQL restarted, the backend terminated)
    is replaced before an update gets it. asyncpg knows without asking the server; SQLAlchemy's
    `pool_pre_ping` asks, three round trips per checkout (BEGIN, a ping, ROLLBACK): 12 % of the
    database's CPU per update (bench.load)."""
    if entry.driver_connection.is_closed():  # type: ignore[union-attr]
        raise DisconnectionError("closed by the server")  # the pool connects anew


def connections(engine: AsyncEngine) -> int:
    """How many connections the engine's pool may hold at once."""
    pool = engine.sync_engine.pool
    size = pool.size() if isinstance(pool, QueuePool) else 1
    return size + max(0, getattr(pool, "_max_overflow", 0))


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, sync_session_class=hot.Waiting)


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str) -> None:
    """Apply pending migrations (blocking; runs its own event loop).

    Two upgrades at once (a release step and an instance starting, two instances starting on a
    new database): the second waits for the first, then finds nothing to do. On PostgreSQL the
    migrations' transaction takes an advisory lock (migrations/env.py); a SQLite file gets a lock
    on a file beside it.
    """
    with _file_lock(url):
        command.upgrade(alembic_config(url), "head")


@contextmanager
def _file_lock(url: str) -> Iterator[None]:
    """An exclusive lock on `<database>.lock` while migrating a SQLite file; nothing otherwise.
    The kernel drops it with the process, so a killed upgrade never leaves it held."""
    database = make_url(url).database if is_sqlite(url) else None
    if not database or database == ":memory:":
        yield
        return
    Path(database).parent.mkdir(parents=True, exist_ok=True)
    with open(f"{database}.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


async def upgrade_async(url: str) -> None:
    """Apply pending migrations from inside a running event loop."""
    await asyncio.to_thread(upgrade, url)
