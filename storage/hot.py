"""The statements every update runs (the sender's query) and every answer (its writes), below the
ORM session: compiled once per dialect and run on the session's own connection, in its
transaction, through the driver's cursor (an update's session on SQLite: on a connection it
holds, in the driver's transaction, which the session's commit commits: `Waiting`).

`session.execute` of a Core statement costs ~60 µs of SQLAlchemy's work (the ORM's execute
events, the compiled-statement cache key, the execution context, the result) where SQLite takes
~7 µs to run it; an answer runs six. Here a statement is compiled once per dialect into its SQL
and the order and conversion of its parameters (`TypeEngine.bind_processor`: JSON, datetimes on
SQLite), and run with the PEP 249 cursor of the connection the session holds (on SQLite, by its
connection at once: `storage.sqlite.InPlaceConnection.run_now`): the same transaction, so it
commits or rolls back with everything else the update did. The engine's
`before_cursor_execute` listeners still see each statement as it is sent (the tests that make the
database fail mid-answer rely on it), and a driver's error is raised as SQLAlchemy's own
(`IntegrityError`…), as `session.execute` would. A write marks the session as having written
(`storage.updates`).

Rows come back with each column converted as SQLAlchemy would (`TypeEngine.result_processor`:
JSON, datetimes on SQLite); `loaded` makes mapped instances of them, as the ORM loads them.

On PostgreSQL every statement is a round trip to the server, which costs this process more than
the statement costs the server (~100–250 µs of socket and event-loop work in this VM). So there:
- a write whose rows nobody reads (`later`: an answer, its audit entry, the update's record)
  waits on its connection and goes with whatever the transaction sends next, or before its
  COMMIT, all of them in one statement (`WITH q0 AS (…), q1 AS (…) …`). PostgreSQL runs each
  part once, all seeing the database as it was before the statement, in no set order: so no
  two parts may write one row (a statement already waiting is sent before it waits again).
  Anything the transaction sends afterwards, by any way (`before_cursor_execute`), finds them
  done; a rollback forgets them (savepoints are not minded: nothing here makes one). A write
  that touches none of their rows and reads none (`carries`: the form's hold) takes them into
  its own statement, as its `WITH`, its rows the statement's. An answer's hold, the answer, its
  audit entry and the update's record are one round trip, were four.
- a statement that only reads (`writes=False`, and locks nothing) does not begin the
  transaction on the server (`_with_cursor`): an update that only reads (上一项 with the
  conversation in Redis) is one round trip, was three.
- nor does a transaction's last statement, where nothing began it before (`run`'s `last`: an
  answer's hold, which fails where the form is no longer editable, so that nothing it carries
  stands; and what waits at the COMMIT): that one statement is the transaction, its writes all
  applied or none. An answer with the conversation in Redis is two round trips (the sender's
  read, the hold with all it carries), was four (and BEGIN, COMMIT).
- and where such statements are all an update runs, the session's transaction is not begun
  at all (making, beginning, committing and closing it cost SQLAlchemy ~80–130 µs an update
  with nothing of it reaching the server): until something else begins it, a `later` write
  waits in the session, and a read or a `last` write with what waits runs as a transaction of
  its own on a connection of the pool (`_alone`), settling what waits for the session's commit
  (`storage.hooks`) as it ends. The update's commits (`commit`: before it speaks, as it ends)
  send what still waits; a session begun meanwhile takes it to its connection; one rolled back
  or closed forgets it (`Waiting`).
- such a statement of its own (with asyncpg, and no `before_cursor_execute` listener but this
  module's) is sent by asyncpg's connection itself, from the update's coroutine (`_direct`):
  SQLAlchemy's adapter would run it by its cursor in the greenlet, with a prepared-statement
  cache and a description made of every column, ~50 µs a statement more than the round trip.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from functools import cache, lru_cache
from typing import Any, TypeVar
from weakref import WeakKeyDictionary, ref

import asyncpg
from sqlalchemy import bindparam, event, inspect
from sqlalchemy.engine import Connection, Dialect, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapper, Session, configure_mappers
from sqlalchemy.orm.attributes import instance_state, set_committed_value
from sqlalchemy.pool import Pool, PoolProxiedConnection, QueuePool
from sqlalchemy.sql import ClauseElement, Select

from storage import greenlets, hooks

Row = tuple[Any, ...]
T = TypeVar("T")
_QUEUED = "hot.queued"  # in a connection's `info` (or a session's: `_waits`): `later` writes
# the engines whose `later` writes wait (`batching`): how many `before_cursor_execute` listeners
# are this module's, or None where the driver is not asyncpg (`_direct`)
_batching: WeakKeyDictionary[Engine, int | None] = WeakKeyDictionary()


class _Compiled:
    __slots__ = ("convert", "order", "results", "sql")

    def __init__(self, statement: ClauseElement, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        self.sql = compiled.string
        self.order: list[tuple[str, Any, bool]] = []  # name, its fixed value, given per call
        self.convert: list[Callable[[Any], Any] | None] = []
        for name in compiled.positiontup or ():
            bind = compiled.binds[name]
            fixed = None if bind.required else bind.effective_value
            self.order.append((name, fixed, bind.required))
            self.convert.append(bind.type.dialect_impl(dialect).bind_processor(dialect))
        # the returned columns that need converting, by their place
        columns = statement.selected_columns if isinstance(statement, Select) else ()
        processors = (c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns)
        self.results = [(i, f) for i, f in enumerate(processors) if f is not None]

    def rows(self, rows: list[Row]) -> list[Row]:
        if not self.results:
            return rows
        converted = []
        for row in rows:
            values = list(row)
            for i, convert in self.results:
                if (value := values[i]) is not None:
                    values[i] = convert(value)
            converted.append(tuple(values))
        return converted

    def arguments(self, values: Mapping[str, Any]) -> list[Any]:
        out = []
        for (name, fixed, given), convert in zip(self.order, self.convert, strict=True):
            value = values[name] if given or name in values else fixed
            out.append(convert(value) if convert is not None and value is not None else value)
        return out


class Statement:
    """A Core statement run below the session (`run`, `run_sync`), or what builds it for a
    dialect's name (an INSERT … ON CONFLICT). Its bound parameters are named
    (`bindparam("x")`, `named`). `later`: a write whose rows are not read, which may wait to
    go with the transaction's next statement; `carries`: a write that reads and writes nothing
    such writes do, which takes those waiting into its own statement (see the module's note)."""

    __slots__ = ("_by_dialect", "_clauses", "build", "carries", "later", "writes")

    def __init__(
        self,
        build: ClauseElement | Callable[[str], ClauseElement],
        *,
        writes: bool = True,
        later: bool = False,
        carries: bool = False,
    ) -> None:
        self.build, self.writes, self.later, self.carries = build, writes, later, carries
        self._by_dialect: dict[str, _Compiled] = {}
        self._clauses: dict[str, ClauseElement] = {}

    def clause(self, dialect: str) -> ClauseElement:
        """The statement for a dialect, to run the usual way (outside an update's session)."""
        done = self._clauses.get(dialect)
        if done is None:
            build = self.build
            done = build if isinstance(build, ClauseElement) else build(dialect)
            self._clauses[dialect] = done
        return done

    def compiled(self, dialect: Dialect) -> _Compiled:
        done = self._by_dialect.get(dialect.name)
        if done is None:
            done = self._by_dialect[dialect.name] = _Compiled(self.clause(dialect.name), dialect)
        return done


def named(*columns: str) -> dict[str, Any]:
    """`values(**named("a", "b"))`: each column set from the parameter of its name."""
    return {column: bindparam(column) for column in columns}


def run_sync(
    session: Session, statement: Statement, values: Mapping[str, Any], last: bool = False
) -> list[Row]:
    """Run it in the session's transaction (from synchronous code in SQLAlchemy's greenlet: an
    event of the session); the rows it returns, if any. `last`: see `run`."""
    connection: Connection | None = None
    if not session.in_transaction():
        connection = session.info.get(_CONNECTION)  # SQLite, an update's session: see `Waiting`
    if connection is None:
        connection = session.connection()
        if hasattr(connection.connection.driver_connection, "run_now"):  # SQLite: see `run`
            # the transaction by a weak reference: it refers to the session, whose `info` this
            # is, and a cycle would leave the session for the garbage collector (~40 objects)
            session.info["held"] = (ref(session.get_transaction()), connection)
    rows = _run(session, connection, statement, values, in_place=False, last=last)
    assert rows is not None
    return rows


def _run(
    session: Session,
    connection: Connection,
    statement: Statement,
    values: Mapping[str, Any],
    *,
    in_place: bool,
    last: bool = False,
) -> list[Row] | None:
    """`in_place`: only if it runs without a coroutine (SQLite, the file not locked, no
    listeners), else None, not run. `last`: see `run`."""
    dialect = connection.dialect
    compiled = statement.compiled(dialect)
    arguments = compiled.arguments(values)
    sql = compiled.sql
    if statement.writes:
        session.info["wrote"] = True
    if connection.engine in _batching:  # PostgreSQL
        if statement.later:
            if any(s is statement for s, _, _ in connection.info.get(_QUEUED, ())):
                _send(connection)  # not two writes of one row in one statement
            connection.info.setdefault(_QUEUED, []).append((statement, sql, arguments))
            return []
        if statement.carries:
            return compiled.rows(_send(connection, (sql, arguments), alone=last))
        _send(connection)  # what waits goes first
        return compiled.rows(_execute(connection, sql, arguments, not statement.writes))
    pooled = connection.connection
    now = None
    if not connection.dispatch.before_cursor_execute:
        now = getattr(pooled.driver_connection, "run_now", None)
    if now is not None:  # SQLite, in place
        try:
            rows = now(sql, arguments)
        except dialect.loaded_dbapi.Error as error:
            raise DBAPIError.instance(sql, arguments, error, dialect.loaded_dbapi.Error) from error
        if rows is not None:
            return compiled.rows(rows)
    if in_place:
        return None
    return compiled.rows(_execute(connection, sql, arguments))


def _execute(connection: Connection, sql: str, arguments: Any, alone: bool = False) -> list[Row]:
    """The statement through the driver's PEP 249 cursor, a driver's error raised as
    SQLAlchemy's. `alone`: see `_with_cursor`."""
    dialect = connection.dialect
    try:
        dbapi = connection.connection.dbapi_connection
        return _with_cursor(connection, dbapi, sql, arguments, alone)
    except dialect.loaded_dbapi.Error as error:
        raise DBAPIError.instance(sql, arguments, error, dialect.loaded_dbapi.Error) from error


def _send(
    connection: Connection, then: tuple[str, list[Any]] | None = None, *, alone: bool = False
) -> list[Row]:
    """The connection's waiting writes as one statement (see the module's note), with `then`
    (a statement's SQL and arguments) as its last part if given: that part's rows. `alone`:
    if the transaction has not begun on the server, the statement is a transaction of its own
    (it commits itself; the transaction's later statements begin another)."""
    parts = [(sql, values) for _, sql, values in connection.info.pop(_QUEUED, None) or ()]
    if then is not None:
        parts.append(then)
    if not parts:
        return []
    return _execute(connection, *_together(parts), alone)


def _together(parts: Sequence[tuple[str, list[Any]]]) -> tuple[str, list[Any]]:
    """Statements (each its SQL and arguments) as one (`_joined`), with its arguments."""
    sql = _joined(tuple((sql, len(values)) for sql, values in parts))
    return sql, [a for _, values in parts for a in values]


@lru_cache(maxsize=256)
def _joined(parts: tuple[tuple[str, int], ...]) -> str:
    """The parts (each its SQL and how many parameters it takes) as one statement, the last
    one's rows its own: each part's `$1` is the whole statement's `$(n + 1)`, n the parameters
    of the parts before it. An answer's statement is the same every time: made once."""
    sqls: list[str] = []
    after = 0
    for sql, taken in parts:
        sqls.append(_PLACE.sub(lambda m, n=after: f"${int(m[1]) + n}", sql))  # type: ignore[misc]
        after += taken
    *first, last = sqls
    ahead = ", ".join(f"q{i} AS ({part})" for i, part in enumerate(first))
    return f"WITH {ahead} {last}" if first else last


_PLACE = re.compile(r"\$(\d+)")  # PostgreSQL's numbered parameters, in statements of our own


def batching(engine: Engine) -> None:
    """A PostgreSQL engine's `later` writes wait and go together (see the module's note)."""
    event.listen(engine, "before_cursor_execute", _send_first)
    own = len(engine.dispatch.before_cursor_execute)
    _batching[engine] = own if engine.dialect.driver == "asyncpg" else None
    event.listen(engine, "commit", _send_last)
    event.listen(engine, "rollback", _forget)
    event.listen(engine.pool, "checkout", _fresh)


def _send_first(connection: Connection, *_: Any) -> None:
    if connection.info.get(_QUEUED):
        _send(connection)


def _send_last(connection: Connection) -> None:
    _send(connection, alone=True)  # what the transaction writes last, or all it writes


def _forget(connection: Connection) -> None:
    connection.info.pop(_QUEUED, None)


def _fresh(_: Any, record: Any, __: Any) -> None:
    record.info.pop(_QUEUED, None)  # a connection given back unfinished sends nothing later


def _with_cursor(
    connection: Connection, dbapi: Any, sql: str, arguments: Any, alone: bool
) -> list[Row]:
    """The statement through the driver's PEP 249 cursor, seen by the engine's listeners.

    `alone` (on PostgreSQL): if the transaction has not begun on the server, it is not begun
    for this statement (the driver's `autocommit` while it runs), which is then a transaction
    of its own, in one round trip, not three (BEGIN, it, COMMIT). So for a statement that only
    reads and locks nothing: an update that only reads makes one round trip, and the first
    write begins the transaction; at READ COMMITTED each statement sees what was committed when
    it began, in a transaction or not, so the read sees what it would have seen. And for the
    last writes of a transaction that has not begun (`run`'s `last`, and what waits at the
    COMMIT), which one statement then applies all or none of."""
    cursor = dbapi.cursor()
    outside = alone and not dbapi.autocommit  # run outside a transaction, just for this
    try:
        for listener in connection.dispatch.before_cursor_execute:
            sql, arguments = listener(connection, cursor, sql, arguments, None, False)
        if outside:
            dbapi.autocommit = True
        cursor.execute(sql, arguments)
        return list(cursor.fetchall()) if cursor.description else []
    finally:
        if outside:
            dbapi.autocommit = False
        cursor.close()


class Waiting(Session):
    """An update's session (`storage.db.session_factory`), whose statements below the ORM
    (`run`) do not begin its transaction: making, beginning, committing and closing one cost
    SQLAlchemy's session ~80–300 µs an update, for nothing the database sees.

    On PostgreSQL, writes may wait in it while its transaction has not begun (`_waits`).
    Rolled back meanwhile, it forgets them, as its transaction would have, and tells what waited
    for their commit (`storage.hooks`); a rollback of a session not begun is otherwise nothing
    to SQLAlchemy. Closed without a transaction, it tells whatever still waits for a commit that
    it will not come (a closed transaction tells it as it rolls back).

    On SQLite, the statements run on a connection of the pool the session holds
    (`_CONNECTION`), in the driver's transaction, not the session's. Whatever begins the
    session's transaction meanwhile begins it on that connection (`get_bind`), so that it
    commits or rolls back with what ran there; its commit commits that, as the session's
    transaction would, with the session's `before_commit` and `after_commit` events, and gives
    the connection back; a rollback or a close undoes it, with `after_rollback`, and gives the
    connection back."""

    def get_bind(self, *arguments: Any, **options: Any) -> Any:
        held = self.info.get(_CONNECTION)
        return held if held is not None else super().get_bind(*arguments, **options)

    def commit(self) -> None:
        held = self.info.get(_CONNECTION)
        if held is not None and not self.in_transaction():
            if not (self.new or self.dirty or self.deleted):
                _commit_held(self, held)
                return
            self.connection()  # what the flush writes goes on the held connection
        super().commit()
        _let_go(self)

    def rollback(self) -> None:
        if self.info.pop(_QUEUED, None):
            hooks.not_committed(self)
        super().rollback()
        _let_go(self)

    def close(self) -> None:
        if not self.in_transaction():
            self.info.pop(_QUEUED, None)
            hooks.not_committed(self)
        try:
            super().close()
        finally:
            _let_go(self)  # the connection goes back to the pool whatever the close met


_CONNECTION = "hot.connection"  # in an update's session's `info` (SQLite): what it holds


def _hold(session: Waiting) -> Connection:
    """A connection of the pool for the session's statements (SQLite: see `Waiting`)."""
    engine = session.bind
    assert isinstance(engine, Engine)
    connection = session.info[_CONNECTION] = engine.connect()
    return connection


async def _held(session: Waiting) -> Connection:
    """The connection the session holds, or one taken now: in place if the pool has one
    waiting (taking it then waits for nothing), else in SQLAlchemy's greenlet."""
    connection = session.info.get(_CONNECTION)
    if connection is None:
        pool = session.bind.pool  # type: ignore[union-attr]
        ready = isinstance(pool, QueuePool) and pool.checkedin() > 0
        connection = _hold(session) if ready else await greenlets.run(_hold, session)
    return connection


def _commit_held(session: Waiting, connection: Connection) -> None:
    """What ran on the held connection, committed as the session's commit would (its events
    and the engine's `commit`), and the connection given back; rolled back if it fails."""
    try:
        session.dispatch.before_commit(session)  # the update's record (`storage.updates`)
        if connection.dispatch.commit:
            connection.dispatch.commit(connection)
        if not connection.connection.driver_connection.commit_now():
            connection.connection.dbapi_connection.commit()  # type: ignore[union-attr]
    except BaseException:
        _let_go(session)
        raise
    session.dispatch.after_commit(session)
    _let_go(session)


def _let_go(session: Session) -> None:
    """The held connection given back to the pool; what ran on it since its last commit
    undone, and told so (`after_rollback`, `storage.hooks`)."""
    connection: Connection | None = session.info.pop(_CONNECTION, None)
    if connection is None:
        return
    try:
        driver = connection.connection.driver_connection
        if driver is not None and driver.in_transaction:
            driver.rollback_now()
            session.dispatch.after_rollback(session)
            hooks.not_committed(session)
    finally:
        connection.close()


def _waits(session: Session, statement: Statement, values: Mapping[str, Any]) -> bool:
    """A `later` write of a session whose transaction has not begun waits in the session, for
    the statement that carries it or for the session's commit (not two writes of one row: the
    second begins the transaction, which sends the first)."""
    queued = session.info.get(_QUEUED)
    if not statement.later or any(s is statement for s, _, _ in queued or ()):
        return False
    compiled = statement.compiled(session.bind.dialect)  # type: ignore[union-attr]
    session.info.setdefault(_QUEUED, []).append(
        (statement, compiled.sql, compiled.arguments(values))
    )
    session.info["wrote"] = True
    return True


async def _alone(session: Session, statement: Statement, values: Mapping[str, Any]) -> list[Row]:
    """The statement, with the writes waiting in the session, as a transaction of its own, on
    a connection of the pool (not the session's: its transaction is not begun for it). What
    waits for the session's commit is settled as this one is (`storage.hooks`), if it wrote."""
    engine = session.bind
    assert isinstance(engine, Engine)
    waiting = session.info.pop(_QUEUED, None)
    wrote = statement.writes or bool(waiting)
    if statement.writes:
        session.info["wrote"] = True
    compiled = statement.compiled(engine.dialect)
    parts = [(sql, arguments) for _, sql, arguments in waiting or ()]
    parts.append((compiled.sql, compiled.arguments(values)))
    try:
        if _batching.get(engine) == len(engine.dispatch.before_cursor_execute):
            rows = await _direct(engine, *_together(parts))
        else:  # another driver, or a listener to see it: by SQLAlchemy's cursor, as ever
            rows = await greenlets.run(_on_connection, engine, parts)
    except BaseException:
        if wrote:
            hooks.not_committed(session)
        raise
    if wrote:
        hooks.committed(session)
    return compiled.rows(rows)


def _on_connection(engine: Engine, parts: Sequence[tuple[str, list[Any]]]) -> list[Row]:
    """The statements as one, on a connection of the pool, outside a transaction."""
    with engine.connect() as connection:
        return _execute(connection, *_together(parts), alone=True)


async def _direct(engine: Engine, sql: str, arguments: list[Any]) -> list[Row]:
    """The statement by asyncpg's connection (of the pool, taken and given back as ever), not
    in a transaction: its own. A driver's error is raised as SQLAlchemy's (as its adapter's
    would be: `IntegrityError`…); a connection that failed other than by the server refusing
    the statement (lost, or left mid-statement by a cancellation) is not used again."""
    fairy = await greenlets.run(engine.pool.connect)  # the pool's checks may reconnect
    driver = fairy.driver_connection
    try:
        return await driver.fetch(sql, *arguments)  # type: ignore[union-attr]
    except BaseException as error:
        if not isinstance(error, asyncpg.PostgresError) or driver.is_closed():  # type: ignore[union-attr]
            fairy.invalidate()
        if isinstance(error, asyncpg.PostgresError | asyncpg.InterfaceError | OSError):
            dbapi = engine.dialect.loaded_dbapi
            raised = getattr(dbapi, _pep_249(error))(str(error), error)
            raise DBAPIError.instance(sql, arguments, raised, dbapi.Error) from error
        raise
    finally:
        await _give_back(engine.pool, fairy)


async def _give_back(pool: Pool, fairy: PoolProxiedConnection) -> None:
    """The connection back to the pool: in place where the pool keeps it, in the greenlet where
    the pool closes it (an overflow connection: asyncpg's close is a coroutine)."""
    if isinstance(pool, QueuePool) and pool.checkedin() < pool.size():
        fairy.close()
    else:
        await greenlets.run(fairy.close)


def _pep_249(error: BaseException) -> str:
    """Which of the DB-API's exceptions asyncpg's `error` is (as SQLAlchemy's adapter has it;
    a connection lost, an `OperationalError`)."""
    if isinstance(error, asyncpg.IntegrityConstraintViolationError):
        return "IntegrityError"
    if isinstance(error, asyncpg.PostgresConnectionError | OSError):
        return "OperationalError"
    if isinstance(error, asyncpg.SyntaxOrAccessError):
        return "ProgrammingError"
    return "Error" if isinstance(error, asyncpg.PostgresError) else "InterfaceError"


async def commit(session: AsyncSession) -> None:
    """What the update did so far, committed: the session's transaction, if begun, or the
    writes waiting in it; else all it wrote went in statements of their own (`_alone`), or it
    wrote nothing, and what waits for a commit is settled as committed (`storage.hooks`)."""
    sync = session.sync_session
    if sync.in_transaction() or sync.info.get(_QUEUED) or _CONNECTION in sync.info:
        await greenlets.commit(session)  # waiting writes: `_sent_at_commit`; held: `Waiting`
    else:
        hooks.committed(sync)


@event.listens_for(Session, "after_begin")
def _moved(session: Session, _: Any, connection: Connection) -> None:
    """The writes waiting in the session wait on the connection its transaction now has."""
    waiting = session.info.pop(_QUEUED, None)
    if waiting:
        connection.info.setdefault(_QUEUED, [])[:0] = waiting


@event.listens_for(Session, "before_commit")
def _sent_at_commit(session: Session) -> None:
    """A commit of a session not begun begins it if writes wait in it: sent at the COMMIT."""
    if session.info.get(_QUEUED):
        session.connection()


async def run(
    session: AsyncSession,
    statement: Statement,
    values: Mapping[str, Any] | None = None,
    *,
    last: bool = False,
) -> Sequence[Row]:
    """Run it in the session's transaction; the rows it returns, if any. Once the session
    holds its connection, a statement SQLite runs at once needs no trip through SQLAlchemy's
    greenlet (`run_sync`, ~20 µs): it runs here. An update's session on SQLite takes one of
    the pool without beginning its own transaction (`Waiting`).

    `last` (a `carries` statement): nothing the transaction writes after it must be applied
    with it or under its locks; on PostgreSQL, if nothing has begun the transaction on the
    server, it and the writes it carries are a transaction of their own (`_with_cursor`). It
    must then fail, not merely write nothing, where its writes must not stand."""
    sync = session.sync_session
    if isinstance(sync, Waiting) and not sync.in_transaction():
        if sync.bind not in _batching:  # SQLite: on the connection the session holds
            connection = await _held(sync)
            rows = _run(sync, connection, statement, values or {}, in_place=True)
            if rows is not None:
                return rows
            return await greenlets.run(run_sync, sync, statement, values or {}, last)
        if _waits(sync, statement, values or {}):
            return []
        if (statement.carries and last) or not (statement.writes or sync.info.get(_QUEUED)):
            return await _alone(sync, statement, values or {})
    held = sync.info.get("held")
    transaction = held[0]() if held is not None else None
    if transaction is not None and transaction is sync.get_transaction() and transaction.is_active:
        rows = _run(sync, held[1], statement, values or {}, in_place=True)
        if rows is not None:
            return rows
    return await greenlets.run(run_sync, sync, statement, values or {}, last)


@cache
def columns(cls: type) -> tuple[Any, ...]:
    """A mapped class's columns, in the order `loaded` takes their values."""
    configure_mappers()  # as the ORM's first query would: instances need their attributes set up
    return tuple(inspect(cls).columns)


@cache
def _shape(cls: type) -> tuple[Mapper[Any], list[str], list[int]]:
    """Its mapper, its columns' attribute names and the positions of its primary key's."""
    mapper = inspect(cls)
    return mapper, mapper.columns.keys(), [columns(cls).index(c) for c in mapper.primary_key]


def loaded(session: AsyncSession, cls: type[T], values: Sequence[Any]) -> T:
    """The instance of a mapped class whose columns (in `columns` order) are `values`, as the
    ORM's loading makes it (`sqlalchemy.orm.loading._instance`): persistent in the session's
    identity map, unchanged, so nothing is written unless an attribute is set; one already there
    takes these values. ~4 µs each, where `make_transient_to_detached` and `session.add` took
    ~35 (their cascades and attach events are meant for objects made by hand)."""
    mapper, names, primary = _shape(cls)
    key = mapper.identity_key_from_primary_key([values[i] for i in primary])
    session_map = session.identity_map
    known = session_map.get(key)
    if known is not None:
        for name, value in zip(names, values, strict=True):
            set_committed_value(known, name, value)
        return known  # type: ignore[no-any-return]
    instance = mapper.class_manager.new_instance()
    instance.__dict__.update(zip(names, values, strict=True))
    state = instance_state(instance)
    state.key = key
    state.session_id = session.sync_session.hash_key
    session_map.add(state)
    return instance  # type: ignore[no-any-return]
