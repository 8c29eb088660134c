"""The migrations describe exactly the models, the audit log cannot be rewritten, and what is
read below the session is what the ORM reads."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import inspect, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from storage.db import alembic_config
from storage.models import Answer, AuditEntry, Contact, Enterprise, Submission, now
from storage.repositories import Sender, Store
from tests.chat.conftest import World
from tests.chat.test_journey import bound


def test_migrations_match_the_models(migrated: str) -> None:
    url = migrated if "://" in migrated else f"sqlite+aiosqlite:///{migrated}"
    command.check(alembic_config(url))  # raises if a model change has no migration


async def test_the_audit_log_is_append_only(world: World) -> None:
    async with world.sessions() as session:
        session.add(AuditEntry(action="test", actor=1, detail={}, at=now()))
        await session.commit()
    for statement in (update(AuditEntry).values(action="changed"), text("DELETE FROM audit_log")):
        async with world.sessions() as session:
            with pytest.raises(DBAPIError, match="append-only"):
                await session.execute(statement)
                await session.commit()


async def test_the_sender_read_below_the_session_is_what_the_orm_reads(world: World) -> None:
    """`Contacts.of_update` makes its instances itself (`storage.hot.loaded`): they hold what the
    ORM would load, sit in the session's identity map unchanged, and a change to one is written."""
    at = datetime(2026, 6, 22, 9, 30, tzinfo=UTC)
    async with world.sessions() as session:
        enterprise = Enterprise(
            credit_code="91210200MA0XXXXX1X", name="大连海创", preloaded={"a": "1.5"}, created_at=at
        )
        session.add(enterprise)
        await session.flush()
        session.add(Contact(telegram_user_id=7, enterprise_id=enterprise.id, bound_via="phone"))
        session.add(
            Submission(enterprise_id=enterprise.id, campaign=2026, reopened=["x"], status_at=at)
        )
        await session.commit()
    async with world.sessions() as session:  # as the ORM reads them
        orm = [_columns(await session.get(cls, 1)) for cls in (Contact, Enterprise, Submission)]
    async with world.sessions() as session:
        sender = await Store(session).contacts.of_update(7, 7, 1, 2026)
        assert sender.form is not None and sender.form.submission is not None
        made = (sender.contact, sender.form.enterprise, sender.form.submission)
        assert [_columns(m) for m in made] == orm
        assert not session.dirty and all(m in session for m in made)
        assert await session.get(Submission, sender.form.submission.id) is made[2]
        again = await Store(session).contacts.of_update(7, 7, 1, 2026)
        assert again.contact is made[0] and not session.dirty
        made[2].stage = "county"
        await session.commit()
    async with world.sessions() as session:
        assert (await session.scalars(select(Submission.stage))).one() == "county"
        nobody = await Store(session).contacts.of_update(8, 8, None, 2026)
        assert nobody == Sender(None, None, False, False)


async def test_an_answers_writes_that_wait_are_seen_by_what_follows_and_undone_with_it(
    world: World,
) -> None:
    """On PostgreSQL an answer and its audit entry wait to be sent with what the transaction
    does next (`storage.hot`): a read afterwards sees them, a rollback takes them back, a commit
    keeps them, a second answer in the same transaction does not overwrite the first."""
    async with world.sessions() as session:
        enterprise = Enterprise(credit_code="91210200MA0XXXXX1X", name="大连海创", created_at=now())
        session.add(enterprise)
        await session.flush()
        session.add(Submission(enterprise_id=enterprise.id, campaign=2026))
        await session.commit()
    answers = select(Answer.field, Answer.value).order_by(Answer.field)
    async with world.sessions() as session:
        store = Store(session)
        await store.submissions.put(1, "a", "1", "typed", 7)
        await store.audit.record("answer", 7, submission_id=1, field="a")
        assert (await session.execute(answers)).all() == [("a", "1")]
        await store.submissions.put(1, "b", "2", "typed", 7)
        await store.audit.record("answer", 7, submission_id=1, field="b")
        await session.rollback()
        assert (await session.execute(answers)).all() == []
        await store.submissions.put(1, "a", "3", "typed", 7)
        await store.submissions.put(1, "b", "4", "typed", 7)
        await store.submissions.put(1, "a", "5", "typed", 7)  # the latest wins
        await store.audit.record("answer", 7, submission_id=1, field="a")
        await session.commit()
    async with world.sessions() as session:
        assert (await session.execute(answers)).all() == [("a", "5"), ("b", "4")]
        entries = (await session.scalars(select(AuditEntry.detail))).all()
        assert entries == [{"field": "a"}]


def _columns(instance: object | None) -> dict[str, object]:
    return {c.key: getattr(instance, c.key) for c in inspect(instance).mapper.column_attrs}


@contextmanager
def _cycles() -> Iterator[list[object]]:
    """What became garbage only in reference cycles meanwhile (the collector's to free)."""
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    found: list[object] = []
    try:
        yield found
    finally:
        gc.collect()
        found.extend(gc.garbage)
        gc.garbage.clear()
        gc.set_debug(0)
        gc.enable()


async def test_an_answer_leaves_its_session_to_be_freed_at_once(world: World) -> None:
    """An update's database session is freed as the update ends, not left in a reference cycle
    for the garbage collector (with the ~40 objects it holds: a pause every dozen updates)."""
    _, person = await bound(world)
    await person.press("全部正确")
    with _cycles() as found:
        await person.send("张伟")  # an answer: read, checked, stored, the next question shown
        await person.press("上一项")
    assert not [o for o in found if isinstance(o, Session)]
