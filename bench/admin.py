"""The admins' commands on a province-sized database: 13,000 enterprises, all with a form.

    python -m bench.admin            # or: make bench

13,000 enterprises are imported (`python main.py import`), then each gets a complete form in a
review status (answers written straight into the database, as if typed). Each command is timed
end to end as a person runs it, start-up included: status, the chart, the export of every form
(XLSX with the audit sheet), the scoring run (stores 13,000 scores) and the same run again
(nothing changed, nothing sent).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert, select

from bench.imports import ROOT, ROWS, write
from settings import Settings
from storage.codec import encode
from storage.db import create_engine, session_factory
from storage.models import Answer, Enterprise, Submission, now
from tests.factories import typed_record

STATUSES = ("submitted", "city_review", "province_review", "reported")


async def forms(database: str, records: list[dict[str, object]]) -> None:
    """A form in a review status for every imported enterprise."""
    catalog = Settings().catalog()
    engine = create_engine(database)
    at = now()
    async with session_factory(engine)() as session:
        ids = dict((await session.execute(select(Enterprise.credit_code, Enterprise.id))).all())
        by_code = {str(r["credit_code"]): r for r in records}
        await session.execute(
            insert(Submission),
            [
                {"enterprise_id": ids[code], "campaign": catalog.campaign.year,
                 "status": STATUSES[i % 4], "submitted_at": at, "status_at": at,
                 "created_at": at, "round": 1}
                for i, code in enumerate(by_code)
            ],
        )  # fmt: skip
        subs = dict((await session.execute(select(Submission.enterprise_id, Submission.id))).all())
        rows = [
            {"submission_id": subs[ids[code]], "field": name,
             "value": encode(catalog.by_name[name], value), "source": "typed",
             "confirmed": True, "answered_at": at, "answered_by": 1}
            for code, record in by_code.items()
            for name, value in record.items()
        ]  # fmt: skip
        for start in range(0, len(rows), 10_000):
            await session.execute(insert(Answer), rows[start : start + 10_000])
        await session.commit()
    await engine.dispose()


def timed(database: str, *args: str) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *args],
        env=dict(os.environ, DATABASE_URL=database),
        capture_output=True,
        text=True,
        check=True,
    )
    seconds = time.perf_counter() - start
    if args[0] == "status":
        view = json.loads(done.stdout)
        return seconds, f"{view['total']['total']:,} 家，{len(view['rows'])} 行"
    return seconds, done.stdout.strip().splitlines()[0]


def main() -> None:
    catalog = Settings().catalog()
    rng = random.Random(2026)
    records = [typed_record(rng, catalog) for _ in range(ROWS)]
    with tempfile.TemporaryDirectory() as folder:
        database = f"sqlite+aiosqlite:///{Path(folder) / 'admin.db'}"
        path = Path(folder) / "enterprises.csv"
        write(path, records)
        timed(database, "import", str(path))
        asyncio.run(forms(database, records))
        xlsx, png = Path(folder) / "all.xlsx", Path(folder) / "progress.png"
        print(f"| command ({ROWS:,} enterprises, each with a form) | time | result |")
        print("|---|---|---|")
        for name, args in (
            ("status", ("status", "--format", "json")),
            ("status --by county", ("status", "--by", "county", "--format", "json")),
            ("chart", ("chart", "--out", str(png))),
            ("export (every form)", ("export", "--out", str(xlsx))),
            ("score --submitted (first run)", ("score", "--submitted")),
            ("score --submitted (same data)", ("score", "--submitted")),
        ):
            seconds, said = timed(database, *args)
            print(f"| `{name}` | {seconds:.1f} s | {said.replace(folder, '…')} |")
        print(f"\nexport size: {xlsx.stat().st_size / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
