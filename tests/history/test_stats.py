"""`flowrun stats` from the daily aggregates, on SQLite and PostgreSQL (the `store` and
`location` fixtures, conftest.py): what an execution's end adds, whole UTC days for `since`
(the same day on both backends), p50/p95 against the exact nearest rank, a corrected status,
pruning, and migration 8 counting the executions stored before it."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path
from typing import Any

import psycopg
import pytest

from flowrun.history import durations, migrations, postgres
from flowrun.history.dialect import to_postgres
from flowrun.history.models import WorkflowCost
from flowrun.history.store import HistoryStore

DAY = 86400
D = 20_000  # a UTC day (2024-10-04)
PLAN = {"stages": [{"id": None, "loop": False, "nodes": [{"id": "ask", "type": "llm"}]}]}


async def run_at(
    store: HistoryStore,
    execution_id: str,
    created: float,
    took_ms: int,
    *,
    workflow: str = "wf",
    status: str = "succeeded",
    corrected: str | None = None,
) -> None:
    """An execution created at `created` whose run takes `took_ms`, its one llm node
    measured; `corrected`: the supervisor's status, when it differs from the engine's."""
    await store.create_execution(
        execution_id=execution_id, workflow_id=workflow, file=f"/ws/{workflow}.yml",
        trigger=None, inputs=None,
    )  # fmt: skip
    await store._db.write(  # the day it was created on: not now
        lambda conn: conn.execute(
            "UPDATE executions SET created_at = ? WHERE id = ?", (created, execution_id)
        )
    )
    end = created + took_ms / 1000
    metrics = {"llm_calls": 1, "input_tokens": 100, "output_tokens": 20, "cost_usd": 0.001}
    for event in (
        {"event": "execution_started", "t": created, "plan": PLAN},
        {"event": "node_started", "t": created, "node": "ask", "attempt": 1},
        {"event": "node_finished", "t": end, "node": "ask", "attempt": 1, "status": status,
         "duration_ms": took_ms, "metrics": metrics},
        {"event": "execution_finished", "t": end, "status": status},
    ):  # fmt: skip
        await store.record_event(execution_id, event)
    await store.finish(execution_id, status=corrected or status, outputs=None, error=None)


def only(found: list[WorkflowCost]) -> WorkflowCost:
    [workflow] = found
    return workflow


def exact(values: list[int], percent: int) -> int:
    """The nearest-rank percentile, as stats computed it from every run before."""
    ordered = sorted(values)
    return ordered[max(1, (percent * len(ordered) + 99) // 100) - 1]


def estimate(values: list[int], percent: int) -> int | None:
    counts: dict[tuple[int, int], int] = {}
    for value in values:
        key = durations.bucket_of(value)
        counts[key] = counts.get(key, 0) + 1
    found = [(*durations.bounds(*key), n) for key, n in counts.items()]
    return durations.percentile(found, percent)


async def test_totals_nodes_and_percentiles(store: HistoryStore) -> None:
    rng = random.Random(18)
    given = [rng.choice([rng.randint(5, 900), rng.randint(1000, 60_000)]) for _ in range(30)]
    for index, took_ms in enumerate(given):
        status = "failed" if index % 5 == 0 else "succeeded"
        await run_at(store, f"e{index}", D * DAY + index * 60, took_ms, status=status)
    await run_at(store, "other", D * DAY, 10, workflow="quick")
    found = await store.workflow_costs()
    assert [(w["workflowId"], w["executions"]) for w in found] == [("wf", 30), ("quick", 1)]
    wf = found[0]
    assert (wf["succeeded"], wf["successRate"], wf["llmCalls"]) == (24, 0.8, 30)
    assert (wf["inputTokens"], wf["outputTokens"], wf["tokensPerRun"]) == (3000, 600, 120.0)
    assert wf["costUsd"] == pytest.approx(0.03) and wf["costPerRunUsd"] == pytest.approx(0.001)
    [ask] = wf["costliestNodes"]
    assert (ask["id"], ask["runs"], ask["tokens"]) == ("ask", 30, 3600)
    assert ask["maxDurationMs"] == max(given)
    assert ask["avgDurationMs"] == pytest.approx(sum(given) / 30, abs=0.05)
    took = [int(s["durationMs"] or 0) for s in await store.list_executions(workflow_id="wf")]
    for percent, got in ((50, wf["p50DurationMs"]), (95, wf["p95DurationMs"])):
        assert got == estimate(took, percent)  # what buckets of every duration give
        want = exact(took, percent)
        assert got is not None and abs(got - want) <= 0.122 * want
    [quick] = await store.list_executions(workflow_id="quick")  # 9 or 10 ms: float seconds
    assert (
        only(await store.workflow_costs(workflow_id="quick"))["p50DurationMs"]
        == (
            quick["durationMs"]  # below 10 ms, exact
        )
    )


async def test_since_counts_whole_utc_days_on_both_backends(store: HistoryStore) -> None:
    await run_at(store, "evening", D * DAY + 0.75 * DAY, 100)  # 18:00 on day D
    await run_at(store, "morning", (D + 1) * DAY + 0.25 * DAY, 300)  # 06:00 on day D + 1
    later_that_day = (D + 1) * DAY + 0.5 * DAY  # after both started: still all of day D + 1
    next_day = only(await store.workflow_costs(since=later_that_day))
    assert (next_day["executions"], next_day["p50DurationMs"]) == (1, estimate([300], 50))
    assert [n["runs"] for n in next_day["slowestNodes"]] == [1]
    both = only(await store.workflow_costs(since=D * DAY + 0.9 * DAY))
    assert (both["executions"], both["slowestNodes"][0]["runs"]) == (2, 2)
    assert await store.workflow_costs(since=(D + 2) * DAY) == []


async def test_a_corrected_status_and_pruning(location: Path | str) -> None:
    store = await HistoryStore.open(location, retention=2)
    try:
        await run_at(store, "timed-out", D * DAY, 50, corrected="failed")
        for index in range(3):
            await run_at(store, f"ok{index}", D * DAY + index, 50)
        await store.prune()
        assert len(await store.list_executions()) == 2
        counted = only(await store.workflow_costs())
    finally:
        await store.close()
    assert (counted["executions"], counted["succeeded"], counted["successRate"]) == (4, 3, 0.75)


STORED = (
    "INSERT INTO executions (id, workflow_id, file, status, created_at, started_at, "
    "duration_ms, llm_calls, input_tokens, output_tokens, cost_usd) "
    "VALUES (?, 'old', '/ws/old.yml', ?, ?, ?, ?, ?, ?, ?, ?)"
)


async def at_version_7(location: Path | str, rows: list[tuple[Any, ...]]) -> None:
    """A history of schema version 7 (before the daily aggregates) holding `rows`."""
    if isinstance(location, Path):
        location.parent.mkdir(parents=True)
        conn = sqlite3.connect(location, isolation_level=None)
        migrations.migrate(conn, str(location), target=7)
        conn.executemany(STORED, rows)
        conn.close()
        return
    async with await psycopg.AsyncConnection.connect(location, autocommit=True) as pg:
        await postgres.migrate(pg, location, target=7)
        async with pg.cursor() as cursor:
            await cursor.executemany(to_postgres(STORED), rows)


async def test_migration_8_counts_the_executions_already_stored(location: Path | str) -> None:
    t = D * DAY + 0.75 * DAY
    took = [0, 1, 7, 10, 99, 120, 999, 4500, 61_000, 7_200_000]
    rows: list[tuple[Any, ...]] = [
        (f"s{i}", "succeeded" if i % 3 else "failed", t + i, t + i, ms, 1, 10, 5, 0.5)
        for i, ms in enumerate(took)
    ]
    rows.append(("going", "running", t, t, None, None, None, None, None))
    await at_version_7(location, rows)
    store = await HistoryStore.open(location)
    try:
        await run_at(store, "after", D * DAY, 200, workflow="old")  # adds to the same day
        found = only(await store.workflow_costs(workflow_id="old", since=D * DAY))
        assert await store.workflow_costs(since=(D + 1) * DAY) == []
    finally:
        await store.close()
    assert (found["executions"], found["succeeded"], found["llmCalls"]) == (11, 7, 11)
    assert found["inputTokens"] == 200 and found["costUsd"] == pytest.approx(5.001)
    assert found["p50DurationMs"] == estimate([*took, 200], 50)
    assert found["p95DurationMs"] == estimate([*took, 200], 95)


def test_percentiles_are_within_a_bucket_of_the_exact_value() -> None:
    rng = random.Random(7)
    for size in (1, 2, 3, 10, 101, 1000):
        values = [int(rng.lognormvariate(7, 1.5)) for _ in range(size)]
        for percent in (50, 95):
            want, got = exact(values, percent), estimate(values, percent)
            assert got is not None and abs(got - want) <= max(0.122 * want, 1), (size, percent)
    assert estimate([0, 0, 0], 50) == 0 and estimate([5] * 4, 95) == 5
    assert durations.bucket_of(1122) == (3, 0) and durations.bucket_of(1123) == (3, 1)
    assert durations.percentile([], 50) is None
