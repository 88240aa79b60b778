"""What the history shows is what happened: issues 11.4, 11.5 (history part) and 11.9."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from flowrun.cli import main
from flowrun.history import migrations
from flowrun.history.store import HistoryStore
from flowrun.runs.service import RunService

EXHAUSTED = """\
version: 1
id: polling
stages:
  - id: poll
    loop: {max_iters: 2, until: "${{ nodes.check.output == 'ready' }}"}
    nodes:
      - id: check
        type: transform
        with: {value: "not yet"}
  - id: after
    nodes:
      - id: report
        type: transform
        with: {value: done}
"""
ONE_NODE = "version: 1\nid: deploy\nnodes:\n  - {id: a, type: transform, with: {value: %s}}\n"


async def run(store: HistoryStore, path: Path) -> str:
    service = RunService(store, python=sys.executable)
    try:
        execution_id = await service.execute(path)
        await service.wait(execution_id)
        return execution_id
    finally:
        await service.shutdown()


async def test_a_loop_that_never_met_until_is_a_failed_stage(tmp_path: Path, capsys: Any) -> None:
    db = tmp_path / "history.sqlite3"
    path = tmp_path / "polling.workflow.yml"
    path.write_text(EXHAUSTED)
    store = await HistoryStore.open(db)
    try:
        execution_id = await run(store, path)
        tree = await store.execution_tree(execution_id)
    finally:
        await store.close()
    assert tree["status"] == "failed"
    poll = tree["children"][0]
    assert poll["kind"] == "stage" and poll["id"] == "poll"
    assert poll["status"] == "failed"
    assert poll["iterations"] == 2
    assert poll["error"]["type"] == "LoopExhausted"
    assert [child["status"] for child in poll["children"]] == ["succeeded", "succeeded"]
    assert tree["children"][1]["status"] == "skipped"

    assert await asyncio.to_thread(main, ["show", execution_id[:10], "--db", str(db)]) == 0
    out = capsys.readouterr().out
    stage_line = next(line for line in out.splitlines() if "stage poll" in line)
    assert "✗" in stage_line
    assert "LoopExhausted: stage `poll` ran 2 times" in out


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


async def test_an_interrupted_run_lasts_until_its_end_was_detected(tmp_path: Path) -> None:
    store = await HistoryStore.open(tmp_path / "history.sqlite3")
    try:
        await store.create_execution(
            execution_id="killed", workflow_id="wf", file="/f", trigger=None, inputs=None,
            status="running", owner_pid=dead_pid(),
        )  # fmt: skip
        t = time.time()
        await store.record_event("killed", {"event": "execution_started", "t": t, "plan": None})
        await store.record_event(
            "killed",
            {"event": "node_started", "t": t, "node": "a", "stage": None, "iteration": None,
             "attempt": 1, "input": None},
        )  # fmt: skip
        await store.flush()
        time.sleep(0.6)  # the owner died; nothing more is written until someone notices
        detected = time.time()
        assert await store.mark_interrupted() == ["killed"]
        tree = await store.execution_tree("killed")
        summary = (await store.list_executions())[0]
    finally:
        await store.close()
    assert tree["status"] == "interrupted"
    assert tree["durationMs"] is not None and tree["durationMs"] >= 550
    assert "duration runs until this was detected at" in tree["error"]["message"]
    assert summary["durationMs"] == tree["durationMs"]
    assert summary["error"] is not None and "detected at" in str(summary["error"]["message"])
    assert abs(_epoch(tree["finishedAt"]) - detected) < 1.0


def _epoch(iso: str | None) -> float:
    from datetime import datetime

    assert iso is not None
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


async def test_two_files_with_one_workflow_id_keep_their_own_statistics(tmp_path: Path) -> None:
    for folder, value in (("a", "1"), ("b", "nodes.missing.output.x")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "deploy.workflow.yml").write_text(ONE_NODE % value)
    a, b = (tmp_path / f / "deploy.workflow.yml" for f in "ab")
    store = await HistoryStore.open(tmp_path / "history.sqlite3")
    try:
        await run(store, a)
        await run(store, a)
        await run(store, b)
        stats_a = await store.workflow_stats("deploy", str(a.resolve()))
        stats_b = await store.workflow_stats("deploy", str(b.resolve()))
    finally:
        await store.close()
    assert stats_a is not None and stats_b is not None
    assert (stats_a["executionCount"], stats_a["successCount"]) == (2, 2)
    assert stats_b["executionCount"] == 1


def test_migration_3_splits_the_statistics_of_one_id_by_file(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite3"
    conn = sqlite3.connect(db, isolation_level=None)
    migrations.migrate(conn, str(db), target=2)
    for seq, (file, status) in enumerate(
        [("/a/deploy.yml", "succeeded"), ("/b/deploy.yml", "failed"), ("/a/deploy.yml", "failed")]
    ):
        conn.execute(
            "INSERT INTO executions (id, workflow_id, file, status, created_at, duration_ms) "
            "VALUES (?, 'deploy', ?, ?, ?, ?)",
            (f"e{seq}", file, status, 1000.0 + seq, 10 * (seq + 1)),
        )
    conn.execute(
        "INSERT INTO executions (id, workflow_id, file, status, created_at) "
        "VALUES ('solo', 'alone', '/c/alone.yml', 'succeeded', 1.0)"
    )
    conn.execute(  # the old, mixed row of `deploy`, and a counter that outlived retention
        "INSERT INTO workflows (id, file, last_status, execution_count, success_count) VALUES "
        "('deploy', '/a/deploy.yml', 'failed', 3, 1), ('alone', '/c/alone.yml', 'x', 40, 39)"
    )
    migrations.migrate(conn, str(db))
    rows = conn.execute(
        "SELECT id, file, execution_count, success_count, last_status, last_duration_ms "
        "FROM workflows ORDER BY id, file"
    ).fetchall()
    conn.close()
    assert rows == [
        ("alone", "/c/alone.yml", 40, 39, "succeeded", None),
        ("deploy", "/a/deploy.yml", 2, 1, "failed", 30),
        ("deploy", "/b/deploy.yml", 1, 0, "failed", 20),
    ]
