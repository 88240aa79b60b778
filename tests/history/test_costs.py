"""What a run cost, in the history: node metrics, execution totals, the workflow's last run."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from flowrun.history.store import HistoryStore

PLAN = {
    "stages": [
        {
            "id": None,
            "loop": False,
            "nodes": [
                {"id": n, "type": t}
                for n, t in (
                    ("ask", "llm"),
                    ("mystery", "llm"),
                    ("get", "http"),
                    ("plain", "shell"),
                )
            ],
        },
    ]
}


def event(name: str, node_id: str, **fields: Any) -> dict[str, Any]:
    return {"event": name, "t": time.time(), "node": node_id, "stage": None, "iteration": None,
            **fields}  # fmt: skip


async def record_run(store: HistoryStore, execution_id: str) -> None:
    await store.create_execution(
        execution_id=execution_id, workflow_id="wf", file="/ws/wf.workflow.yml",
        trigger=None, inputs=None,
    )  # fmt: skip
    await store.record_event(execution_id, {"event": "execution_started", "plan": PLAN})
    measured = {
        "ask": {"llm_calls": 2, "input_tokens": 700, "output_tokens": 100, "cost_usd": 0.0009,
                "provider": "openai", "model": "gpt-4o-mini"},
        "mystery": {"llm_calls": 1, "input_tokens": 10, "output_tokens": 2,
                    "provider": "openai-compatible", "model": "x", "cost_unknown": 1},
        "get": {"http_status": 200, "http_bytes": 512},
        "plain": None,
    }  # fmt: skip
    for node_id, metrics in measured.items():
        await store.record_event(execution_id, event("node_started", node_id, attempt=1))
        extra = {"metrics": metrics} if metrics else {}
        await store.record_event(
            execution_id,
            event("node_finished", node_id, attempt=1, status="succeeded", duration_ms=5, **extra),
        )
    await store.finish(execution_id, status="succeeded", outputs={}, error=None)


async def test_node_metrics_and_execution_totals(tmp_path: Path) -> None:
    store = await HistoryStore.open(tmp_path / "h.sqlite3")
    try:
        await record_run(store, "e1")
        tree = await store.execution_tree("e1")
        [summary] = await store.list_executions()
        stats = await store.workflow_stats("wf")
    finally:
        await store.close()
    totals = {"llmCalls": 3, "inputTokens": 710, "outputTokens": 102, "costUsd": 0.0009}
    assert {k: tree[k] for k in totals} == totals  # type: ignore[literal-required]
    assert {k: summary[k] for k in totals} == totals  # type: ignore[literal-required]
    assert stats is not None
    assert (stats["lastCostUsd"], stats["lastLlmCalls"]) == (0.0009, 3)
    nodes = {n["id"]: n for n in tree["children"] if n["kind"] == "node"}
    ask = nodes["ask"]
    assert (ask["llmCalls"], ask["inputTokens"], ask["outputTokens"]) == (2, 700, 100)
    assert ask["costUsd"] == pytest.approx(0.0009)
    assert ask["metrics"] == {"provider": "openai", "model": "gpt-4o-mini"}
    assert nodes["mystery"]["costUsd"] is None  # unknown price: tokens, no cost
    assert nodes["mystery"]["metrics"]["costUnknown"] == 1
    assert nodes["get"]["metrics"] == {"httpStatus": 200, "httpBytes": 512}
    assert nodes["get"]["llmCalls"] is None and nodes["plain"]["metrics"] is None
    assert tree["traceId"] is None


async def test_a_run_without_llm_calls_has_null_totals(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite3"
    store = await HistoryStore.open(db)
    try:
        await store.create_execution(
            execution_id="e2", workflow_id="wf", file="/ws/wf.workflow.yml", trigger=None,
            inputs=None,
        )  # fmt: skip
        await store.finish("e2", status="succeeded", outputs={}, error=None)
        [summary] = await store.list_executions()
    finally:
        await store.close()
    assert summary["llmCalls"] is None and summary["costUsd"] is None
    with sqlite3.connect(db) as conn:
        columns = {row[1] for row in conn.execute("PRAGMA table_info(node_executions)")}
    assert {"llm_calls", "input_tokens", "output_tokens", "cost_usd", "cached"} <= columns
