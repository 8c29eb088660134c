"""Deadline day: 20,000 contacts submit while reminders and officials' alerts flow.

    python -m bench.deadline [--contacts 20000] [--instances 2] [--in-flight 25] [--worker]

PostgreSQL + Redis, the bot as it runs for a province: `--instances` processes (as behind a load
balancer), each with the bot's own parts (`bot.app.assemble`: the Dispatcher with its flood
limit, and under the leader lock the delivery queue's sender and the reminder tick; with
`--worker` those two run in a process of their own, as `main.py work`). Every
enterprise has a complete draft (written straight into the database: `bench.load` measures
answering), one bound contact, and its county an official (private alerts). The reminder tick's
clock says 26 June 10:00, the last day: its first tick queues the countdown reminder to every
contact who has not submitted, and a submission cancels its contact's reminder if still queued.

Then every contact, spread over the instances, `--in-flight` at a time in each: opens the form
(/start), skips the optional questions it left, confirms any weak rule the summary shows (the
summary carries the estimate against everyone submitted so far), signs and submits, pressing
我已阅读并同意 twice as in a rush. Contacts' replies go to a recording Bot API each; the sender
(whichever instance leads) delivers to a stand-in Bot API in another process (`bench.fake_api`)
that answers in 50 ms and refuses what Telegram would (more than 30 messages a second, a second
message to a person within a second).

Checked at the end: every form submitted once (status, audit entry, signed commitment); every
county official got one alert per submission of their county and no message arrived twice (by
chat and text); the delivery queue is settled (every row sent or cancelled), and what it marked
sent is what the stand-in accepted; no contact got two reminders.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import queue
import random
import time
import urllib.request
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, insert, select

from bench import fake_api
from bench.answers import percentiles
from bench.databases import empty, flush
from bench.load import POSTGRES
from bot import app
from bot.offline import OfflineChat, offline_bot
from settings import Settings
from storage.codec import encode
from storage.db import create_engine, session_factory
from storage.models import (
    Answer,
    AuditEntry,
    Commitment,
    Contact,
    Delivery,
    Enterprise,
    Official,
    Submission,
    now,
)
from tests.factories import typed_record

REDIS = "redis://127.0.0.1:6379/12"
TOKEN = "123456789:" + "A" * 35
FIRST_CONTACT, FIRST_OFFICIAL = 500_000, 900_000
LAST_DAY = datetime(2026, 6, 26, 2, 0, tzinfo=UTC)  # 10:00 in Liaoning


class LastDay:
    """The reminder tick's clock: 26 June, 10:00."""

    def now(self) -> datetime:
        return LAST_DAY

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


async def prepare(url: str, contacts: int) -> dict[str, int]:
    """An empty database with `contacts` enterprises, each a complete draft and a bound contact,
    and an official per county; how many enterprises each county has."""
    await empty(url)
    catalog = Settings().catalog()
    rng = random.Random(626)
    records = [
        typed_record(rng, catalog) | {"enterprise_name": f"截止日企业{i:05d}有限公司"}
        for i in range(contacts)
    ]
    engine = create_engine(url)
    at = now()
    async with session_factory(engine)() as session:
        ids = (
            await session.scalars(
                insert(Enterprise).returning(Enterprise.id),
                [
                    {"credit_code": r["credit_code"], "name": r["enterprise_name"],
                     "region_code": r["region_code"], "contact_mobile": r["contact_mobile"]}
                    for r in records
                ],
            )
        ).all()  # fmt: skip
        await session.execute(
            insert(Contact),
            [
                {"telegram_user_id": FIRST_CONTACT + i, "enterprise_id": e,
                 "bound_via": "invitation", "display_name": str(r["contact_name"])}
                for i, (e, r) in enumerate(zip(ids, records, strict=True))
            ],
        )  # fmt: skip
        subs = (
            await session.scalars(
                insert(Submission).returning(Submission.id),
                [{"enterprise_id": e, "campaign": catalog.campaign.year} for e in ids],
            )
        ).all()
        rows = [
            {"submission_id": s, "field": name, "value": encode(catalog.by_name[name], value),
             "source": "typed", "confirmed": True, "answered_at": at,
             "answered_by": FIRST_CONTACT + i}
            for i, (s, record) in enumerate(zip(subs, records, strict=True))
            for name, value in record.items()
        ]  # fmt: skip
        for start in range(0, len(rows), 10_000):
            await session.execute(insert(Answer), rows[start : start + 10_000])
        counties = Counter(str(r["region_code"]) for r in records)
        await session.execute(
            insert(Official),
            [
                {"telegram_user_id": FIRST_OFFICIAL + k, "level": "county", "region_code": c}
                for k, c in enumerate(sorted(counties))
            ],
        )
        await session.commit()
    await engine.dispose()
    return dict(counties)


def _buttons(person: OfflineChat) -> list[str]:
    return [b.text for _, markup in person.keyboards()[-1:] for row in markup.inline_keyboard
            for b in row]  # fmt: skip


async def journey(person: OfflineChat, latencies: list[float]) -> None:
    """Open the form, skip the optional questions left, confirm what the summary asks to, sign
    and submit (the last tap twice)."""

    async def timed(step: Any) -> None:
        began = time.perf_counter()
        await step
        latencies.append(time.perf_counter() - began)

    await timed(person.send("/start"))
    for _ in range(40):
        buttons = _buttons(person)
        if any("签署承诺书并提交" in b for b in buttons):
            break
        step = next((b for b in buttons if "项无误" in b or b == "跳过"), None)
        if step is None:
            raise LookupError(f"{person.user.id}: nothing to press in {buttons}")
        await timed(person.press(step))
    await timed(person.press("签署承诺书并提交"))
    await timed(person.press("内容无误"))
    await asyncio.gather(
        timed(person.press("我已阅读并同意")), timed(person.press("我已阅读并同意"))
    )
    person.session.calls.clear()  # a bot keeps nothing of what it sent


async def instance(
    api: str, users: list[int], in_flight: int, go: Any, stop: Any, results: Any, tick: bool
) -> None:
    """One instance: its share of the contacts; with `tick`, the reminder tick and the sender
    when it leads, as `main.py run` (without: `run --updates-only`). No contacts and `tick`:
    the worker, as `main.py work`."""
    catalog = Settings().catalog()
    engine = create_engine(POSTGRES, pool_size=20)
    bot = app.bot(TOKEN, api)
    running = app.assemble(bot, session_factory(engine), catalog, redis_url=REDIS, clock=LastDay())
    stopping = asyncio.Event()
    background = asyncio.create_task(running.background(stopping) if tick else stopping.wait())
    await asyncio.to_thread(go.wait)
    latencies: list[float] = []
    gate = asyncio.Semaphore(in_flight)

    async def one(user: int) -> None:
        async with gate:
            await journey(OfflineChat(running.dispatcher, offline_bot(), user), latencies)

    if users:
        began = time.time()
        await asyncio.gather(*(one(u) for u in users))
        results.put({"began": began, "ended": time.time(), "latencies": latencies})
    await asyncio.to_thread(stop.wait)  # until the queue is settled
    stopping.set()
    await background
    await running.dispatcher.storage.close()
    await bot.session.close()
    await engine.dispose()


def _instance(*args: Any) -> None:
    asyncio.run(instance(*args))


def _result(results: Any, processes: list[Any]) -> dict[str, Any]:
    """The next instance's report; a process that died stops the run (it printed why)."""
    while True:
        try:
            return dict(results.get(timeout=5))
        except queue.Empty:
            if any(p.exitcode for p in processes):
                for p in processes:
                    p.kill()
                raise SystemExit("an instance failed") from None


async def settled(url: str) -> tuple[int, int]:
    """Deliveries not yet final, and sent so far."""
    engine = create_engine(url)
    async with session_factory(engine)() as session:
        query = select(Delivery.status, func.count()).group_by(Delivery.status)
        rows: dict[str, int] = {status: number for status, number in await session.execute(query)}
    await engine.dispose()
    final = ("sent", "skipped", "failed")
    return sum(n for s, n in rows.items() if s not in final), rows.get("sent", 0)


async def outcome(url: str) -> dict[str, Any]:
    engine = create_engine(url)
    async with session_factory(engine)() as session:

        async def count(query: Any) -> int:
            return int(await session.scalar(query) or 0)

        found = {
            "submitted": await count(
                select(func.count()).select_from(Submission).where(Submission.status == "submitted")
            ),
            "audited": await count(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.action == "submission.submitted")
            ),
            "signed": await count(select(func.count()).select_from(Commitment)),
            "alerts_in_rush": await count(
                select(func.count())
                .select_from(Delivery)
                .where(
                    Delivery.priority == 0,
                    Delivery.sent_at <= select(func.max(Submission.status_at)).scalar_subquery(),
                )
            ),
            "by_status": {
                (priority, status): number
                for priority, status, number in await session.execute(
                    select(Delivery.priority, Delivery.status, func.count()).group_by(
                        Delivery.priority, Delivery.status
                    )
                )
            },
            "officials": {
                user: region
                for user, region in await session.execute(
                    select(Official.telegram_user_id, Official.region_code)
                )
            },
        }
    await engine.dispose()
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contacts", type=int, default=20_000)
    parser.add_argument("--instances", type=int, default=2)
    parser.add_argument("--in-flight", type=int, default=25)
    parser.add_argument(
        "--worker",
        action="store_true",
        help="the tick and the sender in a process of their own (main.py work)",
    )
    options = parser.parse_args()
    n = options.contacts
    api, base = fake_api.launch("--per-second", "30", "--latency", "0.05")
    try:
        began = time.perf_counter()
        counties = asyncio.run(prepare(POSTGRES, n))
        print(f"prepared {n:,} drafts in {time.perf_counter() - began:.0f} s", flush=True)
        asyncio.run(flush(REDIS))
        context = mp.get_context("spawn")
        k, worker = options.instances, options.worker
        go, stop, results = context.Barrier(k + worker + 1), context.Event(), context.Queue()
        users = [FIRST_CONTACT + i for i in range(n)]
        shares = [users[i::k] for i in range(k)] + ([[]] if worker else [])
        processes = [
            context.Process(
                target=_instance,
                args=(base, share, options.in_flight, go, stop, results, not (worker and share)),
            )
            for share in shares
        ]
        for process in processes:
            process.start()
        go.wait()
        started = time.time()
        reports = [_result(results, processes) for _ in range(k)]
        submitted_by = max(r["ended"] for r in reports) - started
        while (pending := asyncio.run(settled(POSTGRES)))[0]:
            time.sleep(5)
        delivered_by = time.time() - started
        stop.set()
        for process in processes:
            process.join()
        with urllib.request.urlopen(f"{base}/stats") as answer:
            stats = json.load(answer)
    finally:
        api.terminate()
    found = asyncio.run(outcome(POSTGRES))
    report(n, counties, reports, submitted_by, delivered_by, pending[1], stats, found, worker)


def report(
    n: int,
    counties: dict[str, int],
    reports: list[dict[str, Any]],
    submitted_by: float,
    delivered_by: float,
    sent: int,
    stats: dict[str, Any],
    found: dict[str, Any],
    worker: bool,
) -> None:
    latencies = [x for r in reports for x in r["latencies"]]
    p50, p99, _ = percentiles(latencies)
    per_chat = {int(c): k for c, k in stats["per_chat"].items()}
    alerts_right = all(
        per_chat.get(user, 0) == counties[region] for user, region in found["officials"].items()
    )
    reminders = [k for c, k in per_chat.items() if FIRST_CONTACT <= c < FIRST_OFFICIAL]
    status = found["by_status"]
    rows = [
        ("every form submitted", f"{submitted_by / 60:.1f} min "
         f"({n / submitted_by * 3600:,.0f} submissions/hour)"),
        ("updates (open, confirm, sign, submit ×2)",
         f"{len(latencies):,}: p50 {p50:.0f} ms, p99 {p99:.0f} ms"),
        ("alerts sent while contacts were submitting",
         f"{found['alerts_in_rush']:,} ({found['alerts_in_rush'] / submitted_by:.1f}/s)"),
        ("every alert and reminder delivered", f"{delivered_by / 60:.1f} min"),
        ("submitted / audited / signed",
         f"{found['submitted']:,} / {found['audited']:,} / {found['signed']:,}"),
        ("one alert per submission to its county's official",
         f"{'yes' if alerts_right else 'NO'} ({status.get((0, 'sent'), 0):,} sent)"),
        ("reminders sent / cancelled by a submission",
         f"{status.get((1, 'sent'), 0):,} / {status.get((1, 'skipped'), 0):,}; "
         f"most to one contact: {max(reminders, default=0)}"),
        ("the same message twice (chat and text)", str(stats["same_text_twice"])),
        ("marked sent / accepted by the Bot API", f"{sent:,} / {stats['delivered']:,}"),
        ("refused by the Bot API (then sent again)", str(stats["refused"])),
    ]  # fmt: skip
    worker = " and a worker (main.py work)" if worker else ""
    print(f"\n{n:,} contacts, {len(reports)} instances{worker}, {len(counties)} officials\n")
    print("| | |\n|---|---|")
    for label, value in rows:
        print(f"| {label} | {value} |")


if __name__ == "__main__":
    main()
