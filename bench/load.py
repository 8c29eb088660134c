"""Conversation load: 2,000 contacts answering at once, through the real Dispatcher.

    python -m bench.load [--contacts 2000] [--cycles 3] [--cpus 0.6]

Each contact is bound by its invitation link, confirms the pre-loaded section and reaches a
question; then, all at once, every contact answers it, presses 上一项 and answers again, `cycles`
times (each answer read, checked against every rule, committed with its audit entry, the next
question rendered and sent to the recording Bot API). Three setups, measured one after another in
this run:

- SQLite, conversation state in the database, one instance;
- PostgreSQL + Redis (RedisStorage, RedisEventIsolation), one instance;
- PostgreSQL + Redis, two instances: two processes sharing the database and Redis, each serving
  half of the contacts (as a load balancer spreads them).

Then the two PostgreSQL setups again with each instance held to `--cpus` of a CPU (a cgroup of
its own, as a host of that size), so that two instances, PostgreSQL and Redis fit in the machine
together: uncapped, one instance fills a core and two instances compete with the database for
what is left, which measures the machine rather than whether the bot scales.

Afterwards the database must hold every answer once: one audit entry per answer sent, and the
answer itself for every contact (none lost, none doubled).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bench.answers import _back, percentiles
from bench.databases import flush, invited
from bot import app
from bot.notifier import TelegramNotifier
from bot.offline import OfflineChat, offline_bot, texts
from bot.outbox import Outbox
from settings import Settings
from storage.db import create_engine, session_factory
from storage.models import Answer, AuditEntry

POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/bench"  # not the tests' database
REDIS = "redis://127.0.0.1:6379/13"
MOBILE = "13812345678"


async def serve(
    url: str, redis: str | None, tokens: list[str], first_user: int, cycles: int, start: Any
) -> dict[str, Any]:
    """One instance: its contacts get to the question, wait for the others, then answer."""
    catalog = Settings().catalog()
    engine = (
        create_engine(url, pool_size=20) if not url.startswith("sqlite") else create_engine(url)
    )
    sessions = session_factory(engine)
    storage, isolation = app.shared_state(redis) if redis else (None, None)
    notifier = TelegramNotifier(Outbox(sessions), catalog)
    dispatcher = app.dispatcher(sessions, catalog, notifier, storage, isolation=isolation)
    # A recording Bot API per contact: each sees only its own calls (one shared recording would
    # make every update scan what thousands of others sent meanwhile, measuring the harness).
    people = [OfflineChat(dispatcher, offline_bot(), first_user + i) for i in range(len(tokens))]

    async def ready(person: OfflineChat, token: str) -> None:
        await person.send(f"/start {token}")
        await person.press("全部正确")
        await person.send("张伟")  # now at 联系人手机号, which has 上一项

    for offset in range(0, len(people), 100):  # binding is not what is measured
        await asyncio.gather(
            *(
                ready(p, t)
                for p, t in zip(people[offset : offset + 100], tokens[offset:], strict=False)
            )
        )
    await asyncio.to_thread(start.wait)  # every instance ready: go
    latencies: list[float] = []

    async def cycle(person: OfflineChat) -> None:
        for _ in range(cycles):
            began = time.perf_counter()
            calls = await person.send(MOBILE)
            latencies.append(time.perf_counter() - began)
            began = time.perf_counter()
            try:
                back = _back(calls)
            except LookupError:
                raise LookupError(f"{person.user.id}: {texts(calls)}") from None
            await person.press_data(0, back)
            latencies.append(time.perf_counter() - began)

    began, cpu = time.time(), time.process_time()
    await asyncio.gather(*(cycle(p) for p in people))
    ended, cpu = time.time(), time.process_time() - cpu
    if storage is not None:
        await storage.close()
    await engine.dispose()
    return {"began": began, "ended": ended, "latencies": latencies, "cpu": cpu}


def _instance(url: str, redis: str | None, tokens: list[str], first: int, cycles: int,
              start: Any, results: Any) -> None:  # fmt: skip
    results.put(asyncio.run(serve(url, redis, tokens, first, cycles, start)))


class Host:
    """A cgroup holding a process to `cpus` CPUs: a machine of that size for one instance.
    Needs root and the cgroup CPU controller (v2, or v1 mounted at /sys/fs/cgroup/cpu)."""

    def __init__(self, cpus: float) -> None:
        period = 100_000  # µs
        v2 = Path("/sys/fs/cgroup/cgroup.controllers").exists()
        root = Path("/sys/fs/cgroup" if v2 else "/sys/fs/cgroup/cpu")
        self.path = root / f"cxjf-bench-{os.getpid()}-{id(self)}"
        try:
            self.path.mkdir()
            if v2:
                (self.path / "cpu.max").write_text(f"{int(cpus * period)} {period}")
            else:
                (self.path / "cpu.cfs_period_us").write_text(str(period))
                (self.path / "cpu.cfs_quota_us").write_text(str(int(cpus * period)))
        except OSError as exc:
            raise SystemExit(f"--cpus needs a writable cgroup CPU controller ({exc})") from exc

    def take(self, pid: int) -> None:
        (self.path / "cgroup.procs").write_text(str(pid))

    def remove(self) -> None:
        self.path.rmdir()  # its process has ended


def run(
    name: str,
    url: str,
    redis: str | None,
    instances: int,
    contacts: int,
    cycles: int,
    cpus: float | None = None,
) -> float:
    tokens = asyncio.run(invited(url, contacts, "负载企业{}"))
    if redis:
        asyncio.run(flush(redis))
    context = mp.get_context("spawn")
    start, results = context.Barrier(instances + 1), context.Queue()
    share = -(-contacts // instances)
    workers = [
        context.Process(
            target=_instance,
            args=(
                url,
                redis,
                tokens[i * share : (i + 1) * share],
                100_000 + i * share,
                cycles,
                start,
                results,
            ),
        )
        for i in range(instances)
    ]
    hosts = [Host(cpus) for _ in workers] if cpus else []
    for i, w in enumerate(workers):
        w.start()
        if hosts:
            assert w.pid is not None  # started
            hosts[i].take(w.pid)
    start.wait()
    busy, services = _busy(), _services()
    reports = [results.get(timeout=3600) for _ in workers]  # a worker that failed said why
    busy, services = _busy(busy), _services() - services
    for w in workers:
        w.join()
    for host in hosts:
        host.remove()
    latencies = [x for r in reports for x in r["latencies"]]
    seconds = max(r["ended"] for r in reports) - min(r["began"] for r in reports)
    rate = len(latencies) / seconds
    p50, p99, _ = percentiles(latencies)
    answers, audited = asyncio.run(_check(url))
    sent = contacts * (cycles + 1)  # 张伟 once, then the mobile `cycles` times … per contact
    intact = "yes" if answers == contacts and audited == sent else f"NO ({answers}, {audited})"
    per_update = sum(r["cpu"] for r in reports) / len(latencies) * 1000
    served = services / len(latencies) * 1000 if redis else 0.0
    print(f"| {name} | {len(latencies):,} | {rate:,.0f} updates/s | {p50:.0f} ms | {p99:.0f} ms "
          f"| {intact} | {per_update:.1f} ms | {served:.2f} ms | {busy:.0%} |",
          flush=True)  # fmt: skip
    return rate


def _busy(since: tuple[int, int] | None = None) -> Any:
    """The machine's CPU counters (busy, total) from /proc/stat; given earlier ones, the share of
    the time since that every CPU was busy (the database and Redis included)."""
    with open("/proc/stat") as stat:
        ticks = [int(x) for x in stat.readline().split()[1:]]
    idle, total = ticks[3] + ticks[4], sum(ticks)
    if since is None:
        return total - idle, total
    return (total - idle - since[0]) / (total - since[1])


def _services() -> float:
    """CPU seconds PostgreSQL's and Redis's processes on this machine have used so far (those of
    connections that have ended are in their server's children's time)."""
    ticks = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:  # ended meanwhile
            continue
        name, fields = stat[stat.index("(") + 1 : stat.rindex(")")], stat[stat.rindex(")") + 2 :]
        if name.startswith(("postgres", "redis-server")):
            ticks += sum(map(int, fields.split()[11:15]))  # utime, stime, cutime, cstime
    return ticks / os.sysconf("SC_CLK_TCK")


async def _check(url: str) -> tuple[int, int]:
    """Contacts whose mobile answer is stored; audit entries of answers (name + mobiles)."""
    engine = create_engine(url)
    async with session_factory(engine)() as session:
        answers = await session.scalar(
            select(func.count())
            .select_from(Answer)
            .where(Answer.field == "contact_mobile", Answer.source == "typed")
        )
        audited = await session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "answer")
        )
    await engine.dispose()
    return int(answers or 0), int(audited or 0)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contacts", type=int, default=2000)
    parser.add_argument("--cycles", type=int, default=3)
    parser.add_argument("--cpus", type=float, default=0.6, help="each instance's CPUs, capped")
    options = parser.parse_args()
    n, cycles, cpus = options.contacts, options.cycles, options.cpus
    print(f"{n:,} contacts at once, {cycles} answers and {cycles} 上一项 each\n")
    print(
        "| setup | updates | throughput | p50 | p99 | every answer once "
        "| instance CPU per update | PostgreSQL + Redis CPU per update | machine busy |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    sqlite = f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'load.db'}"
    run("SQLite, 1 instance", sqlite, None, 1, n, cycles)
    one = run("PostgreSQL + Redis, 1 instance", POSTGRES, REDIS, 1, n, cycles)
    two = run("PostgreSQL + Redis, 2 instances", POSTGRES, REDIS, 2, n, cycles)
    capped = f"{cpus:g} CPU each"
    one_capped = run(f"PostgreSQL + Redis, 1 instance, {capped}", POSTGRES, REDIS, 1, n, cycles,
                     cpus)  # fmt: skip
    two_capped = run(f"PostgreSQL + Redis, 2 instances, {capped}", POSTGRES, REDIS, 2, n, cycles,
                     cpus)  # fmt: skip
    print(
        f"\ntwo instances: {two / one:.2f}× one; each held to {cpus:g} CPU: "
        f"{two_capped / one_capped:.2f}× (target ≥ 1.7×)"
    )


if __name__ == "__main__":
    main()
