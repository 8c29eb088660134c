"""`db upgrade` several times at the same moment on a new database (instances starting together,
a release step beside them): one migrates, the others wait for it and find nothing to do."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from collections.abc import Iterator
from multiprocessing.synchronize import Barrier
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import make_url

from storage.db import alembic_config, create_engine, upgrade

PROCESSES = 2


def _upgrade(url: str, ready: Barrier) -> None:
    ready.wait()  # every process started and imported: they begin together
    upgrade(url)


def _race(url: str) -> list[int | None]:
    """Each process's exit status (0: it upgraded, or found nothing to do)."""
    spawn = multiprocessing.get_context("spawn")
    ready = spawn.Barrier(PROCESSES)
    processes = [spawn.Process(target=_upgrade, args=(url, ready)) for _ in range(PROCESSES)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(120)
    return [process.exitcode for process in processes]


async def _versions(url: str) -> list[str]:
    engine = create_engine(url)
    async with engine.connect() as connection:
        versions = list(await connection.scalars(text("SELECT version_num FROM alembic_version")))
    await engine.dispose()
    return versions


def _head(url: str) -> str:
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    assert head is not None
    return head


def test_upgrades_at_once_on_a_new_sqlite_file(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'new.db'}"
    assert _race(url) == [0] * PROCESSES
    assert asyncio.run(_versions(url)) == [_head(url)]


@pytest.fixture
def new_postgres() -> Iterator[str]:
    """A database of its own on the test server, created empty and dropped afterwards."""
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        pytest.skip("PostgreSQL: set TEST_DATABASE_URL")
    name = f"{make_url(base).database}_upgrade_{os.getpid()}"

    async def server(statement: str) -> None:
        engine = create_engine(base, isolation_level="AUTOCOMMIT")
        async with engine.connect() as connection:
            await connection.execute(text(statement))
        await engine.dispose()

    asyncio.run(server(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    asyncio.run(server(f'CREATE DATABASE "{name}"'))
    yield make_url(base).set(database=name).render_as_string(hide_password=False)
    asyncio.run(server(f'DROP DATABASE "{name}" WITH (FORCE)'))


def test_upgrades_at_once_on_a_new_postgresql_database(new_postgres: str) -> None:
    assert _race(new_postgres) == [0] * PROCESSES
    assert asyncio.run(_versions(new_postgres)) == [_head(new_postgres)]
