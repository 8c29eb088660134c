"""Alembic environment: runs the migrations on the async engine of `sqlalchemy.url`."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from storage.db import UPGRADE_LOCK, create_engine
from storage.models import Base


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # One transaction holds every migration; a second upgrade waits here until it
            # commits, then reads the version it left: nothing to do.
            connection.execute(select(func.pg_advisory_xact_lock(UPGRADE_LOCK)))
        context.run_migrations()


async def main() -> None:
    engine = create_engine(context.config.get_main_option("sqlalchemy.url") or "")
    async with engine.connect() as connection:
        await connection.run_sync(run)
        await connection.commit()
    await engine.dispose()


asyncio.run(main())
