"""A generated history for the benchmarks (history.py, stats.py), and their timing helper.

`fill` writes `executions` ended runs of `nodes` nodes each over `workflows` workflows and the
last `days` days into a SQLite history of the current schema, shaped as the store writes
them: execution rows (trigger, inputs, outputs, plan; 93 % succeeded; durations the sum of
their nodes'), node rows (input, output, a log line; the first two nodes `llm` calls with
tokens and a cost), the `workflows` counters, and what each execution's end adds through the
store's own code (`rows.add_totals`: the totals and the daily aggregates `flowrun stats`
reads). Rows go in by executemany, 1,000 executions a transaction, indexes in place.
"""

from __future__ import annotations

import asyncio
import json
import random
import sqlite3
import statistics
import time
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any

from flowrun.history import migrations, rows

BATCH = 1000
EXECUTION_SQL = (
    "INSERT INTO executions (id, workflow_id, file, status, trigger, inputs, outputs, plan, "
    "created_at, started_at, finished_at, updated_at, duration_ms, owner_pid) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)"
)
NODE_SQL = (
    "INSERT INTO node_executions (execution_id, node_id, iteration, attempt, status, input, "
    "output, logs, started_at, finished_at, duration_ms, llm_calls, input_tokens, "
    "output_tokens, cost_usd) VALUES (?, ?, 0, 1, 'succeeded', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
WORKFLOWS_SQL = (
    "INSERT INTO workflows (id, file, execution_count, success_count) SELECT workflow_id, "
    "file, count(*), sum(status = 'succeeded') FROM executions GROUP BY workflow_id, file"
)


class _Cursor:
    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor
        self.rowcount = cursor.rowcount

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchall(self) -> Iterable[Any]:
        return self._cursor.fetchall()


class Direct:
    """A sqlite3 connection as the history's `sql.Connection`, without aiosqlite's thread."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    async def execute(self, sql: str, parameters: Iterable[Any] = (), /) -> _Cursor:
        return _Cursor(self.conn.execute(sql, tuple(parameters)))

    async def executemany(self, sql: str, parameters: Iterable[Iterable[Any]], /) -> _Cursor:
        return _Cursor(self.conn.executemany(sql, [tuple(p) for p in parameters]))


def fill(db: Path, executions: int, nodes: int, workflows: int = 100, days: int = 30) -> float:
    """Write the history; the seconds it took."""
    started = time.perf_counter()
    conn = sqlite3.connect(db, isolation_level=None)
    migrations.migrate(conn, str(db))
    conn.execute("PRAGMA synchronous = OFF")
    asyncio.run(_fill(Direct(conn), executions, nodes, workflows, days))
    conn.execute(WORKFLOWS_SQL)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return time.perf_counter() - started


async def _fill(conn: Direct, executions: int, nodes: int, workflows: int, days: int) -> None:
    rng = random.Random(18)
    span, end = days * 86400.0, time.time()
    plan = json.dumps(
        {"stages": [{"id": None, "loop": False, "nodes": [
            {"id": f"n{k:02d}", "type": "llm" if k < 2 else "http", "name": None}
            for k in range(nodes)]}]}
    )  # fmt: skip
    trigger = json.dumps({"method": "POST", "path": "/hook", "headers": {}, "body": {"x": 1}})
    for first in range(0, executions, BATCH):
        conn.conn.execute("BEGIN")
        run_rows, node_rows = [], []
        for index in range(first, min(first + BATCH, executions)):
            run_id = f"{index:08x}{rng.getrandbits(96):024x}"
            workflow = f"wf{index % workflows:03d}"
            t = end - span + span * index / executions
            took = [rng.randint(5, 3000) for _ in range(nodes)]
            status = "succeeded" if rng.random() < 0.93 else "failed"
            run_rows.append((run_id, workflow, f"/ws/{workflow}.workflow.yml", status, trigger,
                             json.dumps({"n": index}), json.dumps({"summary": "x" * 200}), plan,
                             t, t, t + sum(took) / 1000, t, sum(took)))  # fmt: skip
            node_rows += [_node(rng, run_id, k, t, took[k]) for k in range(nodes)]
        await conn.executemany(EXECUTION_SQL, run_rows)
        await conn.executemany(NODE_SQL, node_rows)
        for run in run_rows:
            await rows.add_totals(conn, run[0])
        conn.conn.execute("COMMIT")


def _node(rng: random.Random, run_id: str, k: int, t: float, took: int) -> tuple[Any, ...]:
    start = t + k * 0.05
    line = json.dumps({"t": start, "stream": "stdout", "text": f"GET {k} 200", "attempt": 1})
    llm = k < 2
    tokens = (rng.randint(100, 2000), rng.randint(10, 500)) if llm else (None, None)
    cost = (tokens[0] * 0.15 + tokens[1] * 0.6) / 1e6 if llm else None  # type: ignore[operator]
    return (run_id, f"n{k:02d}", json.dumps({"url": f"http://127.0.0.1/items/{k}"}),
            json.dumps({"status": 200, "body": {"id": k, "ok": True}}), line + "\n", start,
            start + took / 1000, took, 1 if llm else None, *tokens, cost)  # fmt: skip


async def median_ms(call: Callable[[], Awaitable[Any]], repeat: int) -> float:
    """The median of `repeat` calls, after one to warm the page cache."""
    await call()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        await call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)
