"""Copy-paste detection against 20,000 submitted forms (issue: it must stay fast).

    python -m bench.similarity            # or: make bench

20,000 plausible submissions spread over Liaoning's 14 cities are indexed as submission does;
then new forms (half of them copies of an indexed one) are checked the way a submission checks
them: the index finds the candidates sharing keys in the same city, only those are compared.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from sqlalchemy import insert

from domain.similarity import own_keys, profile
from services import review
from settings import Settings
from storage.db import create_engine, session_factory, upgrade
from storage.models import Enterprise, SimilarityKey, Submission, now
from storage.repositories import Store
from tests.factories import credit_code, typed_record

FORMS = 20_000
CHECKS = 100


async def main() -> None:
    catalog = Settings().catalog()
    url = f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'similar.db'}"
    await asyncio.to_thread(upgrade, url)
    engine = create_engine(url)
    sessions = session_factory(engine)
    rng = random.Random(20)
    counties = list(catalog.campaign.regions.counties)
    records = []
    started = time.perf_counter()
    async with sessions() as session:
        enterprises, submissions, keys = [], [], []
        for i in range(1, FORMS + 1):
            record = typed_record(rng, catalog)
            county = rng.choice(counties)
            records.append((record, county))
            enterprises.append(
                {
                    "id": i,
                    "credit_code": credit_code(rng, county),
                    "name": f"企业{i}",
                    "region_code": county,
                    "status": "active",
                    "preloaded": {},
                    "created_at": now(),
                }
            )
            p = profile(record)
            submissions.append(
                {
                    "id": i,
                    "enterprise_id": i,
                    "campaign": 2026,
                    "status": "submitted",
                    "created_at": now(),
                    "round": 1,
                    "profile": p.to_json(),
                }
            )
            keys += [{"submission_id": i, "key": k, "city": county[:4]} for k in own_keys(p)]
        await session.execute(insert(Enterprise), enterprises)
        await session.execute(insert(Submission), submissions)
        await session.execute(insert(SimilarityKey), keys)
        await session.commit()
    print(
        f"indexed {FORMS:,} submissions ({len(keys):,} keys) in "
        f"{time.perf_counter() - started:.1f} s"
    )

    timings, flagged = [], 0
    async with sessions() as session:
        store = Store(session)
        for n in range(CHECKS):
            original, county = rng.choice(records)
            if n % 2:  # a copy with one figure changed
                record = {**original, "taxes_paid": original["taxes_paid"] + Decimal(1)}
            else:
                record, county = typed_record(rng, catalog), county
            start = time.perf_counter()
            found = await review._similar(store, catalog, 0, county[:4], profile(record))
            timings.append(time.perf_counter() - start)
            flagged += bool(found)
    timings.sort()
    print(
        f"{CHECKS} checks: p50 {statistics.median(timings) * 1000:.1f} ms, "
        f"p99 {timings[int(CHECKS * 0.99) - 1] * 1000:.1f} ms; "
        f"{flagged} flagged ({CHECKS // 2} were copies)"
    )
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
