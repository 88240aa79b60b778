"""The history's columns are read off the models: each stored field has its column."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from flowrun.history import columns, migrations
from flowrun.history.store import HistoryStore


def _table_columns(table: str) -> set[str]:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    migrations.migrate(conn, ":memory:")
    return {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}


def test_every_stored_field_of_the_models_has_its_column_in_the_latest_schema() -> None:
    executions, nodes = _table_columns("executions"), _table_columns("node_executions")
    assert {c.name for c in columns.HEAD_COLUMNS} <= executions
    assert set(columns.SUMMARY_SELECT.split(", ")) <= executions
    assert {c.name for c in columns.NODE_COLUMNS} | set(columns.NODE_PATCHED) <= nodes
    assert set(columns.NODE_KEY) <= nodes


def test_field_names_become_snake_case_columns() -> None:
    assert columns.column_name("durationMs") == "duration_ms"
    assert columns.column_name("parentExecutionId") == "parent_execution_id"
    assert columns.column_name("costUsd") == "cost_usd"
    assert columns.column_name("given") == "given"


def test_a_fields_type_says_how_it_is_stored() -> None:
    kinds = {c.field: c.kind for c in columns.NODE_COLUMNS}
    assert kinds == {
        "durationMs": "value", "input": "json", "output": "json", "error": "json",
        "given": "flag", "mocked": "flag", "cached": "flag", "llmCalls": "value",
        "inputTokens": "value", "outputTokens": "value", "costUsd": "value", "metrics": "json",
        "configHash": "value",
    }  # fmt: skip
    given = next(c for c in columns.NODE_COLUMNS if c.field == "given")
    assert (given.write(True), given.write(None), given.read({"given": 1})) == (1, 0, True)
    error = next(c for c in columns.NODE_COLUMNS if c.field == "error")
    assert error.read({"error": error.write({"type": "X"})}) == {"type": "X"}
    assert error.read({}) is None


def test_a_new_execution_writes_the_head_columns_it_names() -> None:
    assert columns.CREATED == (
        "mode", "test_name", "worker", "attempt", "parent_execution_id", "from_node",
    )  # fmt: skip
    given = {"execution_id": "x", "workflow_id": "w", "status": "queued", "mode": "batch"}
    assert columns.created(given) == {"mode": "batch"}
    assert columns.created({"execution_id": "x"}) == {}  # the column's default applies


async def test_create_execution_stores_the_mode_given_and_defaults_to_test(tmp_path: Path) -> None:
    store = await HistoryStore.open(tmp_path / "h.sqlite3")
    try:
        for execution_id, mode in (("a" * 32, "batch"), ("b" * 32, None)):
            await store.create_execution(
                execution_id=execution_id, workflow_id="w", file="/w.workflow.yml",
                trigger=None, inputs=None, **({"mode": mode} if mode else {}),
            )  # fmt: skip
        listed = {e["id"][0]: e["mode"] for e in await store.list_executions()}
        assert listed == {"a": "batch", "b": "test"}
        assert (await store.execution_tree("a" * 32))["mode"] == "batch"
    finally:
        await store.close()
