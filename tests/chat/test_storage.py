"""The migrations describe exactly the models, the audit log cannot be rewritten, and what is
read below the session is what the ORM reads."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import inspect, select, text, update
from sqlalchemy.exc import DBAPIError

from storage.db import alembic_config
from storage.models import AuditEntry, Contact, Enterprise, Submission, now
from storage.repositories import Sender, Store
from tests.chat.conftest import World


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


def _columns(instance: object | None) -> dict[str, object]:
    return {c.key: getattr(instance, c.key) for c in inspect(instance).mapper.column_attrs}
