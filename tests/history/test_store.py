"""The history store on real SQLite files in temp folders, and what both backends share (the
`store` fixture, conftest.py: SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from flowrun.history import migrations, payloads
from flowrun.history.store import HistoryError, HistoryStore, default_db_path
from flowrun.runs.errors import UnknownExecution

FIXTURES = Path(__file__).parent / "fixtures"
NULL_PLAN = {"stages": [{"id": None, "loop": False, "nodes": [{"id": "a", "type": "shell"}]}]}


def node(event: str, node_id: str, **fields: Any) -> dict[str, Any]:
    return {"event": event, "t": time.time(), "node": node_id, "stage": None,
            "iteration": None, **fields}  # fmt: skip


async def run_once(
    store: HistoryStore,
    execution_id: str,
    *,
    workflow_id: str = "wf",
    status: str = "succeeded",
    output: Any = None,
    inputs: dict[str, Any] | None = None,
) -> None:
    await store.create_execution(
        execution_id=execution_id, workflow_id=workflow_id, file=f"/ws/{workflow_id}.yml",
        trigger={"method": "POST", "path": "/hook"}, inputs=inputs,
    )  # fmt: skip
    await store.record_event(execution_id, {"event": "execution_started", "plan": NULL_PLAN})
    await store.record_event(execution_id, node("node_started", "a", attempt=1, input={"x": 1}))
    await store.record_event(
        execution_id,
        node("node_finished", "a", attempt=1, status=status, output=output, duration_ms=3),
    )
    error = None if status == "succeeded" else {"type": "ExecutionError", "message": "boom"}
    await store.finish(execution_id, status=status, outputs={"out": output}, error=error)


def read(db: Path, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(db, timeout=10)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


async def test_open_creates_folder_gitignore_wal_and_latest_schema(tmp_path: Path) -> None:
    db = tmp_path / "ws" / ".flowrun" / "history.sqlite3"
    store = await HistoryStore.open(db)
    await store.close()
    assert (db.parent / ".gitignore").read_text() == "*\n"
    assert read(db, "PRAGMA journal_mode") == [("wal",)]
    assert read(db, "SELECT max(version) FROM schema_version") == [(migrations.LATEST,)]
    assert read(db, "PRAGMA auto_vacuum") == [(2,)]  # incremental


async def test_other_folder_gets_no_gitignore(tmp_path: Path) -> None:
    store = await HistoryStore.open(tmp_path / "elsewhere" / "h.sqlite3")
    await store.close()
    assert not (tmp_path / "elsewhere" / ".gitignore").exists()


def test_default_db_path_walks_up_to_the_workspace_root(tmp_path: Path) -> None:
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    deep = tmp_path / "repo" / "a" / "b"
    deep.mkdir(parents=True)
    (deep / "x.workflow.yml").write_text("version: 1\n")
    expected = tmp_path / "repo" / ".flowrun" / "history.sqlite3"
    assert default_db_path(deep) == expected
    assert default_db_path(deep / "x.workflow.yml") == expected
    (tmp_path / "repo" / "a" / ".flowrun").mkdir()
    assert default_db_path(deep) == tmp_path / "repo" / "a" / ".flowrun" / "history.sqlite3"
    lone = tmp_path / "lone"
    lone.mkdir()
    found = default_db_path(lone)
    assert found.name == "history.sqlite3" and found.parent.name == ".flowrun"


async def test_a_run_is_recorded_listed_and_counted(store: HistoryStore) -> None:
    await run_once(store, "e1", inputs={"name": "Ada"}, output={"v": 1})
    await run_once(store, "e2", status="failed")
    summaries = await store.list_executions(workflow_id="wf")
    assert [s["id"] for s in summaries] == ["e2", "e1"]
    assert summaries[0]["status"] == "failed"
    assert summaries[0]["error"] == {"type": "ExecutionError", "message": "boom"}
    assert summaries[1]["trigger"] == "POST /hook"
    assert summaries[1]["startedAt"].endswith("Z")
    assert isinstance(summaries[1]["durationMs"], int)
    stats = await store.workflow_stats("wf")
    assert stats is not None
    assert stats["executionCount"] == 2 and stats["successCount"] == 1
    assert stats["lastStatus"] == "failed"
    assert stats["lastInputs"] is None
    assert await store.workflow_stats("nope") is None
    assert await store.node_outputs("e1") == {"a": {"v": 1}}
    assert await store.status_of("e1") == "succeeded"
    assert await store.status_of("zz") is None


async def test_list_filters_and_paging(store: HistoryStore) -> None:
    for index in range(6):
        await run_once(store, f"r{index}", workflow_id="one" if index % 2 else "two")
    assert [s["id"] for s in await store.list_executions(limit=3)] == ["r5", "r4", "r3"]
    assert [s["id"] for s in await store.list_executions(before="r3", limit=2)] == ["r2", "r1"]
    assert await store.list_executions(before="missing") == []
    assert [s["id"] for s in await store.list_executions(workflow_id="one")] == ["r5", "r3", "r1"]
    assert [s["id"] for s in await store.list_executions(file="/ws/two.yml")] == ["r4", "r2", "r0"]
    assert await store.list_executions(status="failed") == []
    assert len(await store.list_executions(since=time.time() - 3600)) == 6
    assert await store.list_executions(since=time.time() + 3600) == []


def read_other(store: HistoryStore, sql: str) -> list[tuple[Any, ...]]:
    """Rows read through a connection of its own (another reader of the same history)."""
    if not store.location.startswith("postgresql://"):
        return read(Path(store.location), sql)
    import psycopg

    with psycopg.connect(store.location) as conn:
        return conn.execute(sql).fetchall()


async def test_events_are_flushed_without_an_explicit_flush(store: HistoryStore) -> None:
    await store.create_execution(
        execution_id="live", workflow_id="wf", file="/f", trigger=None, inputs=None
    )
    await store.record_event("live", node("node_started", "a", attempt=1, input=None))
    await store.record_event("live", {"event": "something_unknown"})
    deadline = time.monotonic() + 10
    while not read_other(store, "SELECT 1 FROM node_executions WHERE execution_id = 'live'"):
        assert time.monotonic() < deadline, "the buffered event never reached the history"
        await asyncio.sleep(0.01)


async def test_resolve_id_by_unique_prefix(store: HistoryStore) -> None:
    for run_id in ("abcd1111", "abcd2222", "ffff0000"):
        await run_once(store, run_id)
    assert await store.resolve_id("ffff0000") == "ffff0000"
    assert await store.resolve_id("ff") == "ffff0000"
    assert await store.resolve_id("ABCD1") == "abcd1111"
    with pytest.raises(UnknownExecution, match="more than one"):
        await store.resolve_id("abcd")
    with pytest.raises(UnknownExecution, match="starting with '0'") as info:
        await store.resolve_id("0")
    assert info.value.error["suggestion"].startswith("List executions")
    with pytest.raises(UnknownExecution, match="No execution id"):
        await store.resolve_id("  ")
    tree = await store.execution_tree("abcd2")
    assert tree["id"] == "abcd2222"
    with pytest.raises(UnknownExecution):
        await store.execution_tree("nothing")


async def test_process_owner_and_group(store: HistoryStore) -> None:
    await store.create_execution(
        execution_id="p", workflow_id="wf", file="/f", trigger=None, inputs=None, owner_pid=4242
    )
    await store.set_process("p", pgid=777)
    assert await store.process_of("p") == (4242, 777)
    await store.create_execution(
        execution_id="q", workflow_id="wf", file="/f", trigger=None, inputs=None
    )
    assert await store.process_of("q") == (os.getpid(), None)
    with pytest.raises(UnknownExecution):
        await store.process_of("zz")


async def test_finish_only_once(store: HistoryStore) -> None:
    await run_once(store, "once")
    await store.finish("once", status="failed", outputs=None, error={"type": "X", "message": "m"})
    await store.finish("never-created", status="failed", outputs=None, error=None)
    summary = (await store.list_executions())[0]
    assert summary["status"] == "succeeded" and summary["error"] is None
    stats = await store.workflow_stats("wf")
    assert stats is not None and stats["successCount"] == 1


async def test_finish_unstarted_ends_only_the_rows_still_queued(store: HistoryStore) -> None:
    """A batch's Ctrl-C ends its queued rows; one a worker claimed meanwhile runs on (it is
    stopped on its worker instead), and one already ended stays as it ended."""
    for execution_id in ("waiting", "taken"):
        await store.create_execution(
            execution_id=execution_id, workflow_id="wf", file="/f", trigger=None, inputs=None,
            status="queued",
        )  # fmt: skip
    await run_once(store, "done")
    assert await store.claim_delivery("taken", worker="w1", redeliver=True) == "run"
    await store.record_event("taken", {"event": "execution_started", "plan": NULL_PLAN})
    await store.flush()
    error = {"type": "Stopped", "message": "stopped while queued"}
    ended = await store.finish_unstarted(
        ["waiting", "taken", "done"], status="stopped", error=error
    )
    assert ended == ["waiting"]
    statuses = await store.statuses(["waiting", "taken", "done"])
    assert statuses == {"waiting": "stopped", "taken": "running", "done": "succeeded"}


async def test_big_payloads_are_cut_with_a_marker(store: HistoryStore) -> None:
    big = {"text": "x" * (300 * 1024)}
    await run_once(store, "big", output=big)
    output = (await store.execution_tree("big"))["children"][0]["output"]
    assert output["size"] > 300 * 1024
    assert "cut by flowrun" in output[payloads.TRUNCATED_KEY]
    assert len(output["preview"]) < payloads.CAP_BYTES


async def test_long_logs_are_cut_and_say_their_full_size(store: HistoryStore) -> None:
    await store.create_execution(
        execution_id="logs", workflow_id="wf", file="/f", trigger=None, inputs=None
    )
    await store.record_event("logs", node("node_started", "a", attempt=1, input=None))
    line = "y" * 1000
    for _ in range(400):
        await store.record_event("logs", node("node_log", "a", stream="stdout", text=line))
    await store.record_event(
        "logs", node("node_finished", "a", attempt=1, status="succeeded", output=None)
    )
    await store.finish("logs", status="succeeded", outputs=None, error=None)
    logs = (await store.execution_tree("logs"))["children"][0]["logs"]
    texts = [entry["text"] for entry in logs]
    assert 200 < texts.count(line) < 300
    assert any("logs cut by flowrun at 256.0 KiB" in t for t in texts)
    dropped = payloads.human_size(400 * 1000 - texts.count(line) * 1000)
    received = payloads.human_size(400 * 1000)
    assert (
        texts[-1] == f"{dropped} of the {received} of log text that reached flowrun were not stored"
    )


async def test_a_flood_cut_by_the_engine_does_not_claim_a_full_size(store: HistoryStore) -> None:
    """Issue 12.13: after a 200 MiB flood the engine forwards 2 MiB then says so; the note
    must not call what reached flowrun the node's full size."""
    await store.create_execution(
        execution_id="flood", workflow_id="wf", file="/f", trigger=None, inputs=None
    )
    await store.record_event("flood", node("node_started", "a", attempt=1, input=None))
    chunk = "z" * 4096
    for _ in range(512):  # 2 MiB, as the engine forwards at most
        await store.record_event("flood", node("node_log", "a", stream="stdout", text=chunk))
    cut = "… output truncated: further logs of this node are not shown (limit 2 MiB / 20000 lines)"
    await store.record_event("flood", node("node_log", "a", stream="info", text=cut))
    await store.record_event(
        "flood", node("node_finished", "a", attempt=1, status="succeeded", output=None)
    )
    await store.finish("flood", status="succeeded", outputs=None, error=None)
    logs = (await store.execution_tree("flood"))["children"][0]["logs"]
    note = logs[-1]["text"]
    assert "full size 2.0 MiB" not in note
    kept = sum(len(entry["text"]) for entry in logs if entry["text"] == chunk)
    received = 512 * 4096 + len(cut.encode())
    assert note.startswith(
        f"{payloads.human_size(received - kept)} of the {payloads.human_size(received)} "
        "of log text that reached flowrun were not stored; the node wrote more than that"
    )
    assert "its full size is not known" in note


async def test_corrupt_file_is_moved_aside(tmp_path: Path, caplog: Any) -> None:
    db = tmp_path / ".flowrun" / "history.sqlite3"
    db.parent.mkdir()
    db.write_bytes(b"this is not a database, it is a shopping list\n" * 200)
    store = await HistoryStore.open(db)
    await run_once(store, "fresh")
    await store.close()
    moved = list(db.parent.glob("history.sqlite3.corrupt-*"))
    assert len(moved) == 1
    assert moved[0].read_bytes().startswith(b"this is not a database")
    assert store.notices and str(moved[0]) in store.notices[0]
    assert "new, empty history" in caplog.text
    # a second corrupt file the same second gets its own name
    db.unlink()
    db.write_bytes(b"garbage" * 1000)
    again = await HistoryStore.open(db)
    await again.close()
    assert len(list(db.parent.glob("history.sqlite3.corrupt-*"))) == 2


async def test_unopenable_path_says_what_to_do(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite3"
    db.mkdir()
    with pytest.raises(HistoryError, match="Cannot open the history database") as info:
        await HistoryStore.open(db)
    assert "--db" in info.value.error["suggestion"]


async def test_newer_schema_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite3"
    (await HistoryStore.open(db)).notices.clear()
    conn = sqlite3.connect(db)
    conn.execute("INSERT INTO schema_version VALUES (99)")
    conn.commit()
    conn.close()
    with pytest.raises(migrations.SchemaTooNew, match="newer than this flowrun"):
        await HistoryStore.open(db)


async def test_migration_from_the_version_1_fixture(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite3"
    shutil.copy(FIXTURES / "history-v1.sqlite3", db)
    assert read(db, "SELECT max(version) FROM schema_version") == [(1,)]
    store = await HistoryStore.open(db)
    try:
        assert read(db, "SELECT max(version) FROM schema_version") == [(migrations.LATEST,)]
        stats = await store.workflow_stats("greet")
        assert stats is not None
        assert stats["lastInputs"] == {"name": "Bob"}  # backfilled by migration 2
        assert stats["executionCount"] == 2 and stats["lastStatus"] == "failed"
        assert [s["id"][:8] for s in await store.list_executions()] == [
            "ffee0000", "0a1b9999", "0a1b2c3d",
        ]  # fmt: skip
        old = await store.execution_tree("0a1b2")
        assert old["children"][0]["output"] == {"stdout": "hi"}
        assert old["children"][0]["logs"][0]["text"] == "hi"
        await store.create_execution(
            execution_id="new", workflow_id="greet", file="/ws/greet.workflow.yml",
            trigger=None, inputs={"name": "Cy"},
        )  # fmt: skip
        await store.record_event(
            "new", node("node_started", "hello", attempt=1, input=None, config_hash="h1")
        )
        await store.flush()
        assert read(db, "SELECT config_hash FROM node_executions WHERE execution_id = 'new'") == [
            ("h1",)
        ]
    finally:
        await store.close()


async def test_retention_prunes_and_the_file_shrinks(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite3"
    store = await HistoryStore.open(db)
    for index in range(40):
        await run_once(store, f"old{index:02d}", output={"blob": f"{index}" + "z" * 60_000})
    await run_once(store, "keep-other", workflow_id="other")
    await store.close()
    size_before = db.stat().st_size
    store = await HistoryStore.open(db, retention=5)
    try:
        assert await store.prune() == 35
        assert await store.prune("wf") == 0
        kept = [s["id"] for s in await store.list_executions(workflow_id="wf")]
        assert kept == [f"old{index:02d}" for index in range(39, 34, -1)]
        assert len(await store.list_executions(workflow_id="other")) == 1
        assert read(db, "SELECT count(*) FROM node_executions") == [(6,)]
    finally:
        await store.close()
    assert db.stat().st_size < size_before / 3


async def test_finishing_a_run_prunes_in_the_background(tmp_path: Path) -> None:
    store = await HistoryStore.open(tmp_path / "h.sqlite3", retention=3)
    for index in range(6):
        await run_once(store, f"run{index}")
    await store.close()  # waits for the background pruning
    store = await HistoryStore.open(tmp_path / "h.sqlite3")
    try:
        assert [s["id"] for s in await store.list_executions()] == ["run5", "run4", "run3"]
        stats = await store.workflow_stats("wf")
        assert stats is not None and stats["executionCount"] == 6
    finally:
        await store.close()


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


async def test_mark_interrupted_only_touches_runs_whose_owner_is_gone(store: HistoryStore) -> None:
    gone = dead_pid()
    await store.create_execution(
        execution_id="orphan", workflow_id="wf", file="/f", trigger=None, inputs=None,
        status="running", owner_pid=gone,
    )  # fmt: skip
    await store.record_event("orphan", {"event": "execution_started", "plan": NULL_PLAN})
    await store.record_event("orphan", node("node_started", "a", attempt=1, input=None))
    await store.create_execution(
        execution_id="mine", workflow_id="other", file="/f", trigger=None, inputs=None
    )
    assert await store.mark_interrupted() == ["orphan"]
    assert await store.mark_interrupted() == []
    tree = await store.execution_tree("orphan")
    assert tree["status"] == "interrupted"
    assert tree["error"]["type"] == "Interrupted" and str(gone) in tree["error"]["message"]
    assert tree["children"][0]["status"] == "stopped"
    assert await store.status_of("mine") == "queued"
    stats = await store.workflow_stats("wf")
    assert stats is not None and stats["lastStatus"] == "interrupted"


def spawn_writer(db: Path, execution_id: str, count: int, mode: str) -> subprocess.Popen[str]:
    script = FIXTURES / "history_writer.py"
    return subprocess.Popen(
        [sys.executable, str(script), str(db), execution_id, str(count), mode],
        stdout=subprocess.PIPE,
        text=True,
    )


def finished_nodes(tree: dict[str, Any]) -> list[str]:
    return [c["id"] for c in tree["children"] if c["status"] == "succeeded"]


async def test_kill_9_loses_nothing_that_was_committed(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite3"
    writer = spawn_writer(db, "crashed", 100_000, "commit")
    assert writer.stdout is not None
    seen = 0
    while seen < 40:
        line = await asyncio.to_thread(writer.stdout.readline)
        assert line, "the writer ended early"
        seen = int(line.split()[1])
    writer.kill()  # SIGKILL, in the middle of its next transactions
    rest = writer.stdout.read().split()
    writer.wait()
    if rest:
        seen = max(seen, *(int(x) for x in rest if x.isdigit()))
    store = await HistoryStore.open(db)
    try:
        nodes = finished_nodes(await store.execution_tree("crashed"))
        assert len(nodes) >= seen
        assert nodes == [f"n{index:05d}" for index in range(len(nodes))]  # no gaps
        assert await store.mark_interrupted() == ["crashed"]
        assert (await store.execution_tree("crashed"))["status"] == "interrupted"
        assert read(db, "PRAGMA integrity_check") == [("ok",)]
    finally:
        await store.close()


async def test_kill_9_with_timer_flushes_keeps_a_consistent_prefix(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite3"
    writer = spawn_writer(db, "buffered", 100_000, "buffered")
    deadline = time.monotonic() + 60
    while True:
        try:
            rows = read(db, "SELECT count(*) FROM node_executions WHERE status = 'succeeded'")
        except sqlite3.OperationalError:
            rows = [(0,)]  # not created (or not migrated) yet
        if rows[0][0] >= 30:
            break
        assert time.monotonic() < deadline and writer.poll() is None
        await asyncio.sleep(0.02)
    writer.kill()
    writer.wait()
    store = await HistoryStore.open(db)
    try:
        nodes = finished_nodes(await store.execution_tree("buffered"))
        assert len(nodes) >= 30
        assert nodes == [f"n{index:05d}" for index in range(len(nodes))]
        assert await store.mark_interrupted() == ["buffered"]
    finally:
        await store.close()


async def test_two_processes_write_the_same_file(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite3"
    writers = [spawn_writer(db, f"proc{index}", 150, "commit-finish") for index in range(2)]
    reader = await HistoryStore.open(db)
    try:
        outs = await asyncio.gather(*(asyncio.to_thread(w.communicate) for w in writers))
        assert [w.returncode for w in writers] == [0, 0]
        assert all(out[0].strip().endswith("done") for out in outs)
        for index in range(2):
            tree = await reader.execution_tree(f"proc{index}")
            assert tree["status"] == "succeeded"
            assert len(finished_nodes(tree)) == 150
        stats = await reader.workflow_stats("crash")
        assert stats is not None and stats["executionCount"] == 2 and stats["successCount"] == 2
    finally:
        await reader.close()


async def test_a_locked_database_keeps_the_events_for_later(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite3"
    store = await HistoryStore.open(db)
    await store._db._conn.execute("PRAGMA busy_timeout = 50")
    try:
        await store.create_execution(
            execution_id="l", workflow_id="wf", file="/f", trigger=None, inputs=None
        )
        blocker = sqlite3.connect(db, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")
        await store.record_event("l", node("node_started", "a", attempt=1, input=None))
        with pytest.raises(sqlite3.OperationalError):
            await store.flush()
        blocker.execute("COMMIT")
        blocker.close()
        await store.flush()
        assert read(db, "SELECT status FROM node_executions") == [("running",)]
    finally:
        await store.close()


async def test_retries_logs_before_start_and_the_final_event(store: HistoryStore) -> None:
    await store.create_execution(
        execution_id="r", workflow_id="wf", file="/f", trigger=None, inputs=None
    )
    await store.record_event("r", node("node_log", "a", stream="stdout", text="early"))
    await store.record_event("r", node("node_started", "a", attempt=1, input={"k": 1}))
    await store.record_event(
        "r",
        node("node_retry", "a", attempt=1, delay=0.5,
             error={"type": "ExecutionError", "message": "flaky"}),
    )  # fmt: skip
    await store.record_event("r", node("node_started", "a", attempt=2, input={"k": 1}))
    await store.record_event(
        "r", node("node_finished", "a", attempt=2, status="succeeded", output=7, duration_ms=2)
    )
    await store.record_event(
        "r", {"event": "execution_finished", "status": "succeeded", "outputs": {"o": 7},
              "error": None},
    )  # fmt: skip
    await store.finish("r", status="succeeded", outputs=None, error=None)
    tree = await store.execution_tree("r")
    assert tree["outputs"] == {"o": 7}
    (only,) = tree["children"]
    assert only["attempts"] == 2 and only["output"] == 7
    assert only["retries"][0]["error"]["message"] == "flaky"
    texts = [entry["text"] for entry in only["logs"]]
    assert texts == ["early", "attempt 1 failed: flaky; retrying in 0.5 s"]


def test_a_store_nobody_closed_does_not_keep_the_process_alive(tmp_path: Path) -> None:
    code = (
        "import asyncio, sys\n"
        "from pathlib import Path\n"
        "from flowrun.history.store import HistoryStore\n"
        "async def main():\n"
        "    store = await HistoryStore.open(Path(sys.argv[1]))\n"
        "    await store.create_execution(execution_id='x', workflow_id='w', file='/f',\n"
        "                                 trigger=None, inputs=None)\n"
        "asyncio.run(main())\n"
    )
    db = tmp_path / "h.sqlite3"
    done = subprocess.run([sys.executable, "-c", code, str(db)], timeout=60, check=False)
    assert done.returncode == 0
    assert read(db, "SELECT id FROM executions") == [("x",)]


async def test_a_redelivered_execution_keeps_its_interrupted_attempt(store: HistoryStore) -> None:
    async def queued(execution_id: str) -> None:
        await store.create_execution(
            execution_id=execution_id, workflow_id="wf", file="/f", trigger=None, inputs=None,
            status="queued", mode="batch",
        )  # fmt: skip

    await queued("d")
    assert await store.claim_delivery("d", worker="w1@a", redeliver=True) == "run"
    await store.record_event("d", {"event": "execution_started", "plan": NULL_PLAN})
    await store.record_event("d", node("node_started", "a", attempt=1, input=None))
    await store.flush()
    assert await store.worker_of("d") == "w1@a"
    # w1 died; the broker delivers the task again, to w2
    assert await store.claim_delivery("d", worker="w2@b", redeliver=True) == "run"
    assert await store.status_of("d") == "queued"
    (earlier,) = await store.attempts("d")
    assert (earlier["attempt"], earlier["worker"], earlier["status"]) == (1, "w1@a", "interrupted")
    assert (await store.execution_tree("d"))["children"] == []  # the new attempt starts afresh
    await run_events_and_finish(store, "d")
    assert await store.claim_delivery("d", worker="w3@c", redeliver=True) == "ended"
    assert await store.statuses(["d", "nope"]) == {"d": "succeeded"}
    await queued("once")
    await store.claim_delivery("once", worker="w1@a", redeliver=False)
    await store.record_event("once", {"event": "execution_started", "plan": NULL_PLAN})
    await store.flush()
    assert await store.claim_delivery("once", worker="w2@b", redeliver=False) == "ended"
    assert await store.status_of("once") == "interrupted"
    assert await store.claim_delivery("missing", worker="w", redeliver=True) == "missing"
    # a task sent twice: its second delivery finds it claimed and not yet started
    await queued("twice")
    assert await store.claim_delivery("twice", worker="w1@a", redeliver=True) == "run"
    assert await store.claim_delivery("twice", worker="w2@b", redeliver=True) == "run"
    assert await store.attempt_of("twice") == 2 and await store.worker_of("twice") == "w2@b"
    (first,) = await store.attempts("twice")
    assert (first["attempt"], first["worker"], first["status"]) == (1, "w1@a", "interrupted")
    # the same claim again (a write retried after its commit's answer was lost): no new attempt
    assert await store.claim_delivery("twice", worker="w2@b", redeliver=True) == "run"
    assert await store.attempt_of("twice") == 2


async def run_events_and_finish(store: HistoryStore, execution_id: str) -> None:
    await store.record_event(execution_id, {"event": "execution_started", "plan": NULL_PLAN})
    await store.record_event(
        execution_id, node("node_finished", "a", attempt=1, status="succeeded", output=1)
    )
    await store.finish(execution_id, status="succeeded", outputs=None, error=None)
