"""The instructions one update costs, counted rather than timed: the form against the echo.

    python -m bench.instructions [--contacts 20] [--few 5] [--many 25]

A timing on a shared machine varies by ±20 % from run to run, more than most changes to the
form's work; valgrind's cachegrind counts the instructions a process executes (in user space,
every thread), runs agreeing within a few tenths of a percent. Each workload of `bench.answers`
(the form's answer + 上一项 cycles on a SQLite file, the echo handler, the echo making the form's
calls) runs in a child process under cachegrind twice, `few` and then `many` updates per
contact after the same setup: the difference, divided by the updates between them, is what one
update executes, start-up and setup cancelled out.

What counting leaves out is what the CPU time of `bench.answers` adds to it: the kernel's work
(SQLite's writes: ~5 % of the form's CPU) and how fast the instructions run, which is slower for
a long path through many libraries than for a short one (the form's instructions ran at about
two thirds of the echo's pace on the machine of bench/README's sixth round). So a change that
makes the form's work smaller shows here without noise; the issue's target is the CPU ratio.
Needs valgrind (Debian: `apt install valgrind`); two child runs at a time, ~2 minutes each.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

from bench.answers import baselines, contacts, flat_out

WORKLOADS = ("form", "echo", "mirror")
_COUNTED = re.compile(r"I\s+refs:\s+([\d,]+)")


async def workload(name: str, count: int, each: int) -> None:
    """One workload's updates, `each` per contact, after the setup every run shares."""
    engine, walkers, question = await contacts(count)
    echoes, mirrors = baselines(count, question)
    steps = {"form": [w.step for w in walkers], "echo": echoes, "mirror": mirrors}[name]
    await flat_out(steps, 4)  # each path taken once before counting
    await flat_out(steps, each)
    await engine.dispose()


def counted(name: str, count: int, each: int) -> int:
    """The instructions of a child process running the workload under cachegrind."""
    valgrind = [
        "valgrind",
        "--tool=cachegrind",
        "--cache-sim=no",
        "--cachegrind-out-file=/dev/null",
    ]
    child = [sys.executable, "-m", "bench.instructions", "--child", name]
    child += ["--contacts", str(count), "--few", str(each)]
    done = subprocess.run([*valgrind, *child], capture_output=True, text=True, check=True)
    match = _COUNTED.search(done.stderr)
    if match is None:
        raise RuntimeError(f"no count from cachegrind:\n{done.stderr[-2000:]}")
    return int(match[1].replace(",", ""))


def main(count: int, few: int, many: int) -> None:
    runs = [(name, each) for name in WORKLOADS for each in (few, many)]
    with ThreadPoolExecutor(max(1, min(2, os.cpu_count() or 1))) as pool:
        totals = dict(zip(runs, pool.map(lambda r: counted(r[0], count, r[1]), runs), strict=True))
    each = {
        name: (totals[name, many] - totals[name, few]) / (count * (many - few))
        for name in WORKLOADS
    }
    print(f"Instructions per update, {count} contacts ({many} − {few} updates each)\n")
    print("| workload | instructions per update | ÷ the echo's |")
    print("|---|---|---|")
    for name in WORKLOADS:
        print(f"| {name} | {each[name] / 1e6:.2f} M | {each[name] / each['echo']:.2f}× |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--contacts", type=int, default=20)
    parser.add_argument("--few", type=int, default=5)
    parser.add_argument("--many", type=int, default=25)
    parser.add_argument("--child", choices=WORKLOADS, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.child:
        asyncio.run(workload(arguments.child, arguments.contacts, arguments.few))
    else:
        main(arguments.contacts, arguments.few, arguments.many)
