"""The PostgreSQL history on a real server (started by conftest's `postgres` fixture): what
only a shared database has. The behaviour both backends share is in test_store.py, which runs
on both."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from flowrun.history import migrations
from flowrun.history.dialect import to_postgres
from flowrun.history.location import HistoryError, redact
from flowrun.history.store import HistoryStore
from flowrun.runs.errors import FlowrunError
from real_services import free_port

WORKFLOW = """\
version: 1
id: greet
name: Greet
inputs:
  who: {type: string, default: world}
nodes:
  - id: hello
    type: shell
    with:
      run: echo "hello $WHO"
      env: {WHO: "${{ inputs.who }}"}
"""


def flowrun(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flowrun", *args], cwd=cwd, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip


async def test_two_processes_opening_a_new_database_migrate_it_once(pg_url: str) -> None:
    stores = await asyncio.gather(*(HistoryStore.open(pg_url) for _ in range(4)))
    for store in stores:
        await store.close()
    with psycopg.connect(pg_url) as conn:
        versions = [row[0] for row in conn.execute("SELECT version FROM schema_version")]
    assert versions == list(range(1, migrations.LATEST + 1))


async def test_a_newer_schema_is_refused(pg_url: str) -> None:
    await (await HistoryStore.open(pg_url)).close()  # creates the schema
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("INSERT INTO schema_version VALUES (%s)", (migrations.LATEST + 1,))
    with pytest.raises(FlowrunError, match="newer than this flowrun"):
        await HistoryStore.open(pg_url)


async def test_unreachable_server_is_a_clear_error_without_the_password() -> None:
    url = f"postgresql://alice:s3cret-pw@127.0.0.1:{free_port()}/team"
    with pytest.raises(HistoryError) as info:
        await HistoryStore.open(url)
    text = f"{info.value.message} {info.value.suggestion}"
    assert "Cannot reach the PostgreSQL history postgresql://alice:***@127.0.0.1:" in text
    assert "s3cret-pw" not in text


def test_redact_keeps_everything_but_the_password() -> None:
    assert redact("postgresql://u:p%40ss@h:5/db?sslmode=require") == (
        "postgresql://u:***@h:5/db?sslmode=require"
    )
    assert redact("postgresql://u@h/db") == "postgresql://u@h/db"


def test_the_shared_sql_in_the_postgres_dialect() -> None:
    sql = "UPDATE t SET a = max(0, CAST((? - coalesce(b, c)) * 1000 AS INTEGER)), n = max(x)"
    assert to_postgres(sql + " WHERE s IS ?") == (
        "UPDATE t SET a = greatest(0, CAST(trunc((%s - coalesce(b, c)) * 1000) AS INTEGER)), "
        "n = max(x) WHERE s IS NOT DISTINCT FROM %s"
    )
    assert to_postgres("INSERT OR IGNORE INTO w SELECT 1") == (
        "INSERT INTO w SELECT 1 ON CONFLICT DO NOTHING"
    )
    assert "seq BIGSERIAL PRIMARY KEY" in to_postgres(migrations.V1[0])
    assert "rowid BIGSERIAL" in to_postgres(migrations.V1[4])


async def test_only_this_machines_dead_owners_are_marked_interrupted(pg_url: str) -> None:
    store = await HistoryStore.open(pg_url)
    try:
        for execution_id, worker in (("there", "other-machine"), ("here", None)):
            await store.create_execution(
                execution_id=execution_id, workflow_id="wf", file="/f", trigger=None,
                inputs=None, status="running", owner_pid=2**22 + 7, worker=worker,
            )  # fmt: skip
        assert await store.mark_interrupted() == ["here"]
        assert await store.status_of("there") == "running"
    finally:
        await store.close()


async def test_retention_on_postgres(pg_url: str) -> None:
    store = await HistoryStore.open(pg_url, retention=3)
    try:
        for index in range(6):
            execution_id = f"r{index}"
            await store.create_execution(
                execution_id=execution_id, workflow_id="wf", file="/f", trigger=None, inputs=None
            )
            await store.finish(execution_id, status="succeeded", outputs=None, error=None)
        await store.prune()
        assert [s["id"] for s in await store.list_executions()] == ["r5", "r4", "r3"]
        stats = await store.workflow_stats("wf")
        assert stats is not None and stats["executionCount"] == 6
    finally:
        await store.close()


def test_cli_run_history_show_and_stats_on_postgres(tmp_path: Path, pg_url: str) -> None:
    (tmp_path / "greet.workflow.yml").write_text(WORKFLOW)
    done = flowrun("run", "greet.workflow.yml", "--db", pg_url, "--input", "who=team",
                   "--json", cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    tree = json.loads(done.stdout)
    assert tree["status"] == "succeeded"
    assert not (tmp_path / ".flowrun").exists()  # nothing written locally
    listed = flowrun("history", "--db", pg_url, "--json", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert [e["id"] for e in json.loads(listed.stdout)["executions"]] == [tree["id"]]
    shown = flowrun("show", tree["id"][:8], "--db", pg_url, "--json", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["children"][0]["output"]["stdout"].strip() == "hello team"
    stats = flowrun("stats", "--db", pg_url, "--json", cwd=tmp_path)
    assert stats.returncode == 0, stats.stderr
    [greet] = json.loads(stats.stdout)["workflows"]
    assert (greet["workflowId"], greet["executions"], greet["successRate"]) == ("greet", 1, 1.0)
    assert greet["slowestNodes"][0]["id"] == "hello"


def test_cli_with_postgres_down_exits_1_and_hides_the_password(tmp_path: Path) -> None:
    url = f"postgresql://bob:hunter22@127.0.0.1:{free_port()}/db"
    (tmp_path / "greet.workflow.yml").write_text(WORKFLOW)
    for args in (("history",), ("run", "greet.workflow.yml")):
        done = flowrun(*args, "--db", url, cwd=tmp_path)
        assert done.returncode == 1, (args, done.stdout, done.stderr)
        assert "Cannot reach the PostgreSQL history postgresql://bob:***@" in done.stderr
        assert "hunter22" not in done.stdout + done.stderr
