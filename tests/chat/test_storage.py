"""The migrations describe exactly the models, and the audit log cannot be rewritten."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import text, update
from sqlalchemy.exc import DBAPIError

from storage.db import alembic_config
from storage.models import AuditEntry, now
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
