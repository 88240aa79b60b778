"""`flowrun stats` over a generated history, with ratios against floors measured in the same run.

    .venv/bin/python benchmarks/stats.py [--executions 100000] [--nodes 5] [--workflows 100]

1. Fills a temp database with `--executions` finished runs of `--nodes` nodes each over
   `--workflows` workflows and the last 30 days, two of the nodes LLM calls with tokens and a
   cost, as the store writes them (`generated_history.fill`): the execution and node rows, and
   what each execution's end adds (its totals, the daily aggregates `flowrun stats` reads).
2. Times `HistoryStore.workflow_costs` (all workflows; one workflow; all with `since` 7 days)
   in process: medians of 10 calls. Floor: `SELECT 1` through the same store.
   Prints how far p50/p95 (read from duration buckets) are from the exact nearest rank.
3. Times the command end to end, `flowrun stats --json --db …` and `flowrun stats --since 7d`
   (piped, and in a pseudo-terminal) in a subprocess (run.py's ENV: flowrun's bytecode is
   written by the first, untimed round, as an install writes it), one of each command per
   round: medians of 7 rounds. Floors:
   `flowrun --version` (interpreter and CLI start) and `flowrun history --limit 1` (the
   same, with asyncio and the store opened).
Budget: 200 ms for `flowrun stats` over all workflows, end to end, in both forms (the JSON and
the table a person reads, piped and in a 120-column pseudo-terminal). Exit code 1 when one
misses it.
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import os
import pty
import sqlite3
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

from flowrun.history.store import HistoryStore
from generated_history import fill, median_ms
from run import ENV

BUDGET_MS = 200.0
REPEAT = 10


async def in_process(db: Path) -> dict[str, float]:
    store = await HistoryStore.open(db)
    try:
        week = time.time() - 7 * 86400
        return {
            "floor (SELECT 1)": await median_ms(lambda: store.status_of("missing"), REPEAT),
            "all workflows": await median_ms(lambda: store.workflow_costs(), REPEAT),
            "one workflow": await median_ms(
                lambda: store.workflow_costs(workflow_id="wf042"), REPEAT
            ),
            "all, since 7d": await median_ms(lambda: store.workflow_costs(since=week), REPEAT),
        }
    finally:
        await store.close()


async def accuracy(db: Path) -> dict[str, tuple[float, float]]:
    """p50 and p95 against the exact nearest rank over every run: (median, max) relative error
    over the workflows."""
    conn = sqlite3.connect(db)
    runs: dict[str, list[int]] = {}
    for workflow, took in conn.execute(
        "SELECT workflow_id, duration_ms FROM executions WHERE duration_ms IS NOT NULL "
        "ORDER BY workflow_id, duration_ms"
    ):
        runs.setdefault(workflow, []).append(took)
    conn.close()
    store = await HistoryStore.open(db)
    try:
        found = await store.workflow_costs()
    finally:
        await store.close()
    errors: dict[str, tuple[float, float]] = {}
    for percent in (50, 95):
        off = []
        for item in found:
            ordered = runs[item["workflowId"]]
            want = ordered[max(1, (percent * len(ordered) + 99) // 100) - 1]
            off.append(abs((item[f"p{percent}DurationMs"] or 0) - want) / want)  # type: ignore[literal-required]
        errors[f"p{percent}"] = (statistics.median(off), max(off))
    return errors


TERMINAL = "terminal"


def commands_ms(commands: list[list[str]], repeat: int = 7) -> list[float]:
    """Median wall ms of each command, run round by round (one of each per round, so the
    machine's load drifts over all alike), after an untimed round. A command whose first
    word is TERMINAL writes to a pseudo-terminal (Rich sizes and colours its output), the
    others to /dev/null."""
    times: list[list[float]] = [[] for _ in commands]
    for _ in range(repeat + 1):
        for argv, took in zip(commands, times, strict=True):
            started = time.perf_counter()
            if argv[0] == TERMINAL:
                _in_terminal(argv[1:])
            else:
                subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, env=ENV)
            took.append((time.perf_counter() - started) * 1000)
    return [statistics.median(took[1:]) for took in times]


def _in_terminal(argv: list[str]) -> None:
    """Run with stdout on a 120-column pseudo-terminal, read to the end as a terminal would."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 120, 0, 0))
    env = {k: v for k, v in ENV.items() if k not in ("COLUMNS", "LINES", "NO_COLOR")}
    child = subprocess.Popen(argv, stdout=follower, env=dict(env, TERM="xterm-256color"))
    os.close(follower)
    try:
        while os.read(leader, 65536):
            pass
    except OSError:  # EIO: the child closed its side
        pass
    finally:
        os.close(leader)
    if child.wait() != 0:
        raise subprocess.CalledProcessError(child.returncode, argv)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--executions", type=int, default=100_000)
    parser.add_argument("--nodes", type=int, default=5)
    parser.add_argument("--workflows", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="flowrun-stats-") as folder:
        db = Path(folder) / "history.sqlite3"
        took = fill(db, args.executions, args.nodes, args.workflows)
        print(f"filled {args.executions:,} executions x {args.nodes} nodes in {took:.1f} s")
        timings = asyncio.run(in_process(db))
        floor = timings["floor (SELECT 1)"]
        for name, ms in timings.items():
            print(f"  workflow_costs {name:18} {ms:7.1f} ms  ({ms / floor:6.1f}x floor)")
        for name, (median, worst) in asyncio.run(accuracy(db)).items():
            print(f"  {name} against the exact nearest rank: {median:.2%} off at the median "
                  f"workflow, {worst:.2%} at worst")  # fmt: skip
        flowrun = [sys.executable, "-m", "flowrun"]
        week_table = [*flowrun, "stats", "--since", "7d", "--db", str(db)]
        start, opened, whole, week, shown = commands_ms(
            [
                [*flowrun, "--version"],
                [*flowrun, "history", "--limit", "1", "--json", "--db", str(db)],
                [*flowrun, "stats", "--json", "--db", str(db)],
                week_table,
                [TERMINAL, *week_table],
            ]
        )
        print(f"  flowrun --version (floor)        {start:7.1f} ms")
        print(f"  flowrun history --limit 1 (floor: the store opened) {opened:7.1f} ms")
        forms = {
            "--json": whole,
            "--since 7d (table, piped)": week,
            "--since 7d (table, terminal)": shown,
        }
        for name, ms in forms.items():
            print(f"  flowrun stats {name:28} {ms:7.1f} ms  ({ms / start:.2f}x --version, "
                  f"{ms / opened:.2f}x history --limit 1)")  # fmt: skip
        ok = True
        for name, ms in forms.items():
            met = ms < BUDGET_MS
            ok = ok and met
            print(f"budget {BUDGET_MS:.0f} ms for `flowrun stats {name}`: "
                  f"{ms:.1f} ms, {'met' if met else 'MISSED'}")  # fmt: skip
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
