"""Throughput of `validate` and `score` (issue targets: ≥ 20,000 records/s; 100,000 in < 5 s).

    python -m bench.domain            # or: make bench

Each figure is the best of several runs on one core, in this process; the end-to-end figures
run `main.py` on a generated file, start-up included (the whole-process rates: 40,000 records
less one, so that start-up cancels out, by the command's CPU time).
"""

from __future__ import annotations

import csv
import gc
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from domain.catalog import Catalog
from domain.scoring import score_cohort
from domain.validation import check_records, check_values
from settings import Settings
from tests.factories import as_row, typed_record

ROOT = Path(__file__).resolve().parent.parent


def best_of(runs: int, work: Callable[[], object]) -> float:
    # The generated records are long-lived data: keep the collector from re-scanning them.
    gc.collect()
    gc.freeze()
    fastest = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        work()
        fastest = min(fastest, time.perf_counter() - start)
    return fastest


def per_second(count: int, seconds: float) -> str:
    return f"{count / seconds:,.0f} records/s"


def _main_py(args: Sequence[str]) -> None:
    subprocess.run([sys.executable, "main.py", *args], cwd=ROOT, capture_output=True, check=False)


def command_seconds(args: Sequence[str]) -> float:
    return best_of(3, lambda: _main_py(args))


def command_cpu_seconds(args: Sequence[str]) -> float:
    """The command's own CPU time (user + system), best of 3: on a shared machine the clock
    counts the neighbours too."""
    fastest = float("inf")
    for _ in range(3):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        _main_py(args)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        used = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
        fastest = min(fastest, used)
    return fastest


def main() -> None:
    catalog: Catalog = Settings().catalog()
    rng = random.Random(2026)
    typed = [typed_record(rng, catalog) for _ in range(20_000)]
    rows = [{catalog.by_key[k].name: v for k, v in as_row(r, catalog).items()} for r in typed]
    results = [
        (
            "validate: stored values (rules + required)",
            per_second(len(typed), best_of(7, lambda: [check_values(r, catalog) for r in typed])),
        ),
        (
            "validate: typed values, every field re-read",
            per_second(len(typed), best_of(5, lambda: check_records(typed, catalog))),
        ),
        (
            "validate: text as typed, every field parsed",
            per_second(len(rows), best_of(5, lambda: check_records(rows, catalog))),
        ),
    ]
    cohort = [typed_record(rng, catalog) for _ in range(100_000)]
    seconds = best_of(3, lambda: score_cohort(cohort, catalog.campaign))
    results.append(("score: 100,000-enterprise cohort", f"{seconds:.2f} s"))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "13000.csv"
        with path.open("w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=list(as_row(typed[0], catalog)))
            writer.writeheader()
            writer.writerows(as_row(r, catalog) for r in (typed * 2)[:13_000])
        results.append(
            (
                "`python main.py validate` 13,000-row CSV, JSON out",
                f"{command_seconds(['validate', str(path), '--format', 'json']):.2f} s",
            )
        )
        results.append(
            (
                "`python main.py score` 13,000-row CSV, JSON out",
                f"{command_seconds(['score', str(path), '--format', 'json']):.2f} s",
            )
        )
        results.extend(end_to_end(catalog, Path(folder)))
    print("| measure | result |\n|---|---|")
    for name, value in results:
        print(f"| {name} | {value} |")


def end_to_end(catalog: Catalog, folder: Path) -> list[tuple[str, str]]:
    """`validate` as a whole process on 40,000 typed records, less the same on one record: the
    rate a province's file is checked at, start-up cancelled out (issue 16's measure), by CPU
    time (user + system: reading memory the kernel hands out is part of the cost)."""
    rng = random.Random(16)
    rows = [as_row(typed_record(rng, catalog), catalog) for _ in range(40_000)]
    results = []
    for suffix in ("json", "csv"):
        times = []
        for part in (rows, rows[:1]):
            path = folder / f"{len(part)}.{suffix}"
            if suffix == "json":
                path.write_text(json.dumps(part, ensure_ascii=False), encoding="utf-8")
            else:
                with path.open("w", newline="", encoding="utf-8") as f:
                    writer = csv.DictWriter(f, fieldnames=list(part[0]))
                    writer.writeheader()
                    writer.writerows(part)
            times.append(command_cpu_seconds(["validate", str(path), "--format", "json"]))
        rate = per_second(len(rows) - 1, times[0] - times[1])
        results.append((f"`python main.py validate`, typed {suffix.upper()}, whole process", rate))
    return results


if __name__ == "__main__":
    main()
