"""The benchmarks' own databases: made if missing, emptied and migrated, and filled with
enterprises each invited to bind a contact."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import text

from bot import app
from services.binding import issue_invitation
from services.enterprises import preload
from settings import Settings
from storage.db import create_engine, session_factory, upgrade
from storage.repositories import Store
from tests.conftest import CLEAN
from tests.factories import numbered_code


async def empty(url: str) -> None:
    """A migrated database with nothing in it (a PostgreSQL one made if missing, emptied)."""
    if not url.startswith("sqlite"):
        server, name = url.rsplit("/", 1)
        engine = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
        async with engine.connect() as connection:
            known = text("SELECT 1 FROM pg_database WHERE datname = :name")
            if not await connection.scalar(known, {"name": name}):
                await connection.execute(text(f'CREATE DATABASE "{name}"'))
        await engine.dispose()
        engine = create_engine(url)
        async with engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
        await engine.dispose()
    await asyncio.to_thread(upgrade, url)


async def invited(url: str, count: int, name: str = "基准企业{}有限公司") -> list[str]:
    """An empty database (`empty`) with `count` enterprises, the pre-loaded values of CLEAN,
    named `name` with their number; their invitation codes."""
    await empty(url)
    catalog = Settings().catalog()
    preloaded = {n: v for n, v in CLEAN.items() if catalog.by_name[n].prefill}
    engine = create_engine(url)
    tokens = []
    async with session_factory(engine)() as session:
        store = Store(session)
        for i in range(count):
            answers = preloaded | {
                "credit_code": numbered_code(i, "MA"),
                "enterprise_name": name.format(i),
            }
            enterprise = await preload(store, catalog, answers)
            tokens.append(await issue_invitation(store, enterprise, timedelta(days=1)))
        await store.commit()
    await engine.dispose()
    return tokens


async def flush(redis: str) -> None:
    """Redis's database emptied: no conversation state or lock left from an earlier run."""
    storage, _ = app.shared_state(redis)
    await storage.redis.flushdb()
    await storage.close()
