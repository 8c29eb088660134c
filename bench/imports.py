"""`python main.py import` of 13,000 enterprises on a new SQLite file (target: < 30 s).

    python -m bench.imports            # or: make bench

The file is a generated CSV with every column of the form (the import keeps the pre-loaded
ones). Timed end to end as a command, start-up included: the first import (all created), the
same file again (all unchanged), and a file where every enterprise's figures moved (all updated).
"""

from __future__ import annotations

import csv
import os
import random
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from settings import Settings
from tests.factories import as_row, typed_record

ROOT = Path(__file__).resolve().parent.parent
ROWS = 13_000


def write(path: Path, records: list[dict[str, object]]) -> None:
    catalog = Settings().catalog()
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(as_row(records[0], catalog)))
        writer.writeheader()
        writer.writerows(as_row(r, catalog) for r in records)


def timed(path: Path, database: str) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "import", str(path)],
        env=dict(os.environ, DATABASE_URL=database),
        capture_output=True,
        text=True,
        check=False,
    )
    return time.perf_counter() - start, done.stdout.strip().splitlines()[-1]


def main() -> None:
    catalog = Settings().catalog()
    rng = random.Random(2026)
    records = [typed_record(rng, catalog) for _ in range(ROWS)]
    moved = [r | {"rd_expense": Decimal(str(r["rd_expense"])) + 1} for r in records]
    with tempfile.TemporaryDirectory() as folder:
        database = f"sqlite+aiosqlite:///{Path(folder) / 'import.db'}"
        first, second = Path(folder) / "first.csv", Path(folder) / "moved.csv"
        write(first, records)
        write(second, moved)
        print("| run | time | result |\n|---|---|---|")
        for name, path in (("first import", first), ("the same file", first), ("moved", second)):
            seconds, said = timed(path, database)
            print(f"| {name} ({ROWS:,} rows) | {seconds:.1f} s | {said} |")


if __name__ == "__main__":
    main()
