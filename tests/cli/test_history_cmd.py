"""`flowrun history | show | diff | stop` against real history files and real processes."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from flowrun.cli import main
from flowrun.cli.history_cmd import parse_since, relative_time
from flowrun.history.store import HistoryStore
from flowrun.humanize import format_duration
from flowrun.runs.errors import FlowrunError

FIXTURES = Path(__file__).parents[1] / "history" / "fixtures"
STAGED_PLAN = {
    "stages": [
        {"id": "build", "loop": False, "nodes": [{"id": "fetch", "type": "http"}]},
        {"id": "review", "loop": True, "nodes": [{"id": "check", "type": "shell"}]},
    ]
}
FIRST = "aaaa1111" + "0" * 24
SECOND = "bbbb2222" + "0" * 24
OTHER = "cccc3333" + "0" * 24


def ev(
    event: str, node: str | None = None, stage: str | None = None, **fields: Any
) -> dict[str, Any]:
    base: dict[str, Any] = {"event": event, "t": time.time()}
    if node is not None:
        base.update(node=node, stage=stage, iteration=fields.pop("iteration", None))
    return {**base, **fields}


async def record_run(store: HistoryStore, run_id: str, *, good: bool, workflow: str = "wf") -> None:
    await store.create_execution(
        execution_id=run_id, workflow_id=workflow, file=f"/ws/{workflow}.workflow.yml",
        trigger={"method": "POST", "path": "/hook"}, inputs={"n": 1},
    )  # fmt: skip
    events = [
        ev("execution_started", plan=STAGED_PLAN),
        ev("stage_started", stage="build", iteration=None),
        ev("node_started", "fetch", "build", attempt=1, input={"url": "http://x"}),
        ev("node_log", "fetch", "build", stream="stdout", text="GET http://x [ok]"),
        ev("node_finished", "fetch", "build", attempt=1, status="succeeded",
           output={"items": [1, 2] if good else [1]}, duration_ms=12),
        ev("stage_finished", stage="build", iteration=None, status="succeeded"),
    ]  # fmt: skip
    for iteration in (1, 2):
        status = "succeeded" if good or iteration == 1 else "failed"
        error = (
            None
            if status == "succeeded"
            else {"type": "ExecutionError", "message": "exit 3", "suggestion": "Look at stderr."}
        )
        events += [
            ev("node_started", "check", "review", attempt=1, input=None, iteration=iteration),
            ev("node_log", "check", "review", stream="stderr", text="[warn]", iteration=iteration),
            ev("node_finished", "check", "review", attempt=1, status=status, output=None,
               error=error, duration_ms=3, iteration=iteration),
        ]  # fmt: skip
    for event in events:
        await store.record_event(run_id, event)
    error = None if good else {"type": "ExecutionError", "message": "node check failed"}
    await store.finish(
        run_id, status="succeeded" if good else "failed", outputs={"ok": good}, error=error
    )


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / ".flowrun" / "history.sqlite3"

    async def fill() -> None:
        store = await HistoryStore.open(path)
        await record_run(store, FIRST, good=True)
        await record_run(store, SECOND, good=False)
        await record_run(store, OTHER, good=True, workflow="other")
        await store.close()

    asyncio.run(fill())
    return path


def run_cli(capsys: Any, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_history_table_newest_first(db: Path, capsys: Any) -> None:
    code, out, _ = run_cli(capsys, "history", "--db", str(db))
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == [
        "ID",
        "WORKFLOW",
        "STATUS",
        "MODE",
        "STARTED",
        "DURATION",
        "COST",
        "TRIGGER",
    ]
    assert [line.split()[0] for line in lines[1:]] == ["cccc3333", "bbbb2222", "aaaa1111"]
    assert "failed" in lines[2] and "POST /hook" in lines[2] and "s ago" in lines[2]


def test_history_filters_and_json(db: Path, capsys: Any, tmp_path: Path) -> None:
    code, out, _ = run_cli(capsys, "history", "wf", "--status", "failed", "--json", "--db", str(db))
    assert code == 0
    executions = json.loads(out)["executions"]
    assert [e["id"] for e in executions] == [SECOND]
    assert executions[0]["error"] == {"type": "ExecutionError", "message": "node check failed"}
    code, out, _ = run_cli(capsys, "history", "--since", "2d", "--limit", "1", "--db", str(db))
    assert code == 0 and len(out.splitlines()) == 2
    code, out, _ = run_cli(capsys, "history", "--since", "2000-01-01", "--json", "--db", str(db))
    assert len(json.loads(out)["executions"]) == 3
    code, out, _ = run_cli(capsys, "history", "nothing-here", "--db", str(db))
    assert code == 0 and "No executions match" in out
    workflow_file = tmp_path / "wf.workflow.yml"
    workflow_file.write_text("version: 1\n")
    code, out, _ = run_cli(capsys, "history", str(workflow_file), "--json", "--db", str(db))
    assert json.loads(out) == {"executions": []}  # recorded under /ws/, not this file


def test_history_input_errors(db: Path, capsys: Any) -> None:
    code, _, err = run_cli(capsys, "history", "--since", "soon", "--db", str(db))
    assert code == 1 and "--since 'soon' is not an age or a date" in err and "2d" in err
    code, _, err = run_cli(capsys, "history", "--limit", "0", "--db", str(db))
    assert code == 1 and "--limit must be at least 1" in err


def test_history_without_a_database(tmp_path: Path, capsys: Any) -> None:
    missing = tmp_path / "none" / "history.sqlite3"
    code, out, _ = run_cli(capsys, "history", "--db", str(missing))
    assert code == 0 and "No history yet" in out
    code, out, _ = run_cli(capsys, "history", "--json", "--db", str(missing))
    assert json.loads(out) == {"executions": []}
    assert not missing.parent.exists()
    code, _, err = run_cli(capsys, "show", "abc", "--db", str(missing))
    assert code == 1 and "There is no history at" in err


def test_history_uses_the_workspace_database(db: Path, capsys: Any, monkeypatch: Any) -> None:
    sub = db.parent.parent / "deep" / "er"
    sub.mkdir(parents=True)
    monkeypatch.chdir(sub)
    code, out, _ = run_cli(capsys, "history", "--json")
    assert code == 0 and len(json.loads(out)["executions"]) == 3


def test_show_by_prefix_as_a_tree(db: Path, capsys: Any) -> None:
    code, out, _ = run_cli(capsys, "show", "bbbb", "--db", str(db))
    assert code == 0
    assert "✗ wf  failed" in out and "bbbb2222" in out  # the renderer of `flowrun run`
    assert "stage build" in out and "stage review" in out and "(2 iterations)" in out
    assert "check (shell) #2" in out
    assert "ExecutionError: exit 3" in out and "Look at stderr." in out
    assert "GET http://x [ok]" in out and "[warn]" in out
    assert 'output {"items": [1]}' in out and 'input {"url": "http://x"}' in out
    assert "outputs" in out and "ok: false" in out
    assert "check #2 failed" in out  # the failure panel


def test_show_json_is_the_tree(db: Path, capsys: Any) -> None:
    code, out, _ = run_cli(capsys, "show", "aaaa1", "--json", "--db", str(db))
    tree = json.loads(out)
    assert code == 0 and tree["id"] == FIRST and tree["status"] == "succeeded"
    build, review = tree["children"]
    assert build["children"][0]["output"] == {"items": [1, 2]}
    assert [n["iteration"] for n in review["children"]] == [1, 2]


def test_show_unknown_or_ambiguous(db: Path, capsys: Any) -> None:
    code, _, err = run_cli(capsys, "show", "ffff", "--db", str(db))
    assert code == 1 and "No execution with an id starting with 'ffff'" in err
    assert "flowrun history" in err


def test_show_many_logs_and_long_values(tmp_path: Path, capsys: Any) -> None:
    path = tmp_path / "h.sqlite3"

    async def fill() -> None:
        store = await HistoryStore.open(path)
        await store.create_execution(
            execution_id="long", workflow_id="wf", file="/f", trigger=None, inputs=None
        )
        await store.record_event("long", ev("node_started", "n", attempt=1, input="i" * 500))
        for index in range(30):
            await store.record_event("long", ev("node_log", "n", stream="stdout", text=f"l{index}"))
        await store.finish("long", status="failed", outputs=None, error="plain")  # type: ignore[arg-type]
        await store.close()

    asyncio.run(fill())
    code, out, _ = run_cli(capsys, "show", "long", "--db", str(path))
    assert code == 0
    assert "logs (30 lines, last 20)" in out and "l29" in out and "l9\n" not in out
    assert "…" in out and "error: plain" in out
    assert "■ n  stopped" in out  # the node was still running when the run ended


def test_diff_human_and_json(db: Path, capsys: Any, monkeypatch: Any) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    code, out, _ = run_cli(capsys, "diff", "aaaa", "bbbb", "--db", str(db))
    assert code == 0
    assert "A: aaaa1111" in out and "B: bbbb2222" in out
    assert "output items[1]: 2 → null" in out
    assert "review/check #2" in out and "error: ExecutionError: exit 3" in out
    assert "2 changed, 0 added, 0 removed, 1 unchanged" in out
    assert "Workflow outputs: ok: true → false" in out
    code, out, _ = run_cli(capsys, "diff", "aaaa", "cccc", "--json", "--db", str(db))
    result = json.loads(out)
    assert code == 0 and result["sameWorkflow"] is False
    code, out, _ = run_cli(capsys, "diff", "aaaa", "cccc", "--db", str(db))
    assert "different workflows" in out


def test_diff_of_real_runs_where_nodes_exist_on_one_side_only(
    tmp_path: Path, capsys: Any, monkeypatch: Any
) -> None:
    """Loops of different lengths: some node iterations are only in A (rendered as `-`)."""
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    example = Path(__file__).parents[2] / "examples" / "stages-loop.workflow.yml"
    db = str(tmp_path / "h.sqlite3")
    for target in ("9", "3"):  # 5 iterations and a fallback, then 3 iterations
        args = ["run", str(example), "--input", f"target={target}", "--python", sys.executable]
        assert run_cli(capsys, *args, "--db", db)[0] == 0
    code, out, _ = run_cli(capsys, "history", "--json", "--db", db)
    newer, older = (e["id"] for e in json.loads(out)["executions"])
    code, out, err = run_cli(capsys, "diff", older, newer, "--db", db)
    assert code == 0, err
    assert "attempt/work #5" in out and "only in A" in out
    assert "↷ skipped → ✓ succeeded" in out


def test_a_corrupt_database_is_reported_and_replaced(tmp_path: Path, capsys: Any) -> None:
    path = tmp_path / "h.sqlite3"
    path.write_bytes(b"\x00garbage" * 512)
    code, out, err = run_cli(capsys, "history", "--db", str(path))
    assert code == 0 and "No executions match" in out
    assert "could not be read" in err and ".corrupt-" in err


def test_the_console_script_runs(db: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "flowrun", "history", "--json", "--db", str(db)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)["executions"]) == 3


def test_helpers() -> None:
    now = 1_000_000.0
    assert relative_time(None, now) == "-"
    assert relative_time(now - 5, now) == "5 s ago"
    assert relative_time(now - 300, now) == "5 min ago"
    assert relative_time(now - 7200, now) == "2 h ago"
    assert relative_time(now - 90_000, now) == "yesterday"
    assert relative_time(now - 3 * 86400, now) == "3 days ago"
    assert format_duration(None, unknown="-") == "-" and format_duration(12) == "12 ms"
    assert format_duration(2500) == "2.5 s" and format_duration(125_000) == "2 min 5 s"
    assert parse_since("2d", now) == now - 2 * 86400
    assert parse_since("90m", now) == now - 5400
    with pytest.raises(FlowrunError):
        parse_since("yesterday", now)


# -- stop -------------------------------------------------------------------------------


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def seed(path: Path, run_id: str, *, owner: int, pgid: int | None, status: str = "running") -> None:
    async def go() -> None:
        store = await HistoryStore.open(path)
        await store.create_execution(
            execution_id=run_id, workflow_id="wf", file="/f", trigger=None, inputs=None,
            status=status, owner_pid=owner,
        )  # fmt: skip
        if pgid is not None:
            await store.set_process(run_id, pgid=pgid)
        await store.close()

    asyncio.run(go())


def status_in(path: Path, run_id: str) -> tuple[str | None, Any]:
    async def go() -> tuple[str | None, Any]:
        store = await HistoryStore.open(path)
        try:
            tree = await store.execution_tree(run_id)
            return tree["status"], tree["error"]
        finally:
            await store.close()

    return asyncio.run(go())


def group_child(run_id: str, *, ignore_term: bool) -> subprocess.Popen[bytes]:
    code = "import signal, time\n"
    if ignore_term:
        code += "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    code += "print('up', flush=True)\nwhile True: time.sleep(1)\n"
    env = {**os.environ, "FLOWRUN_EXECUTION_ID": run_id}
    child = subprocess.Popen(
        [sys.executable, "-c", code], env=env, start_new_session=True, stdout=subprocess.PIPE
    )
    assert child.stdout is not None and child.stdout.readline() == b"up\n"
    return child


def test_stop_a_run_owned_by_another_process(tmp_path: Path, capsys: Any) -> None:
    path = tmp_path / "h.sqlite3"
    owner = subprocess.Popen(
        [sys.executable, str(FIXTURES / "fake_owner.py"), str(path), "owned1"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert owner.stdout is not None and owner.stdout.readline().strip() == "ready"
        code, out, _ = run_cli(capsys, "stop", "owned", "--db", str(path))
        assert code == 0 and "Stopped execution owned1 (stopped)" in out
        assert owner.wait(timeout=30) == 0
    finally:
        if owner.poll() is None:
            owner.kill()
            owner.wait()
    assert status_in(path, "owned1")[0] == "stopped"


def test_stop_when_the_owner_is_gone_kills_the_group_and_records_it(
    tmp_path: Path, capsys: Any
) -> None:
    path = tmp_path / "h.sqlite3"
    child = group_child("orphan1", ignore_term=True)
    try:
        seed(path, "orphan1", owner=dead_pid(), pgid=child.pid)
        code, out, _ = run_cli(capsys, "stop", "orphan1", "--grace", "0.3", "--db", str(path))
        assert code == 0 and "owner process was gone" in out
        child.wait(timeout=30)  # ended (`flowrun stop` may collect its status)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    status, error = status_in(path, "orphan1")
    assert status == "stopped" and "flowrun stop" in error["message"]


def test_stop_never_signals_a_group_it_cannot_prove_is_the_run(tmp_path: Path, capsys: Any) -> None:
    path = tmp_path / "h.sqlite3"
    stranger = group_child("somebody-else", ignore_term=False)
    try:
        seed(path, "orphan2", owner=dead_pid(), pgid=stranger.pid)
        code, _, _ = run_cli(capsys, "stop", "orphan2", "--db", str(path))
        assert code == 0
        assert alive(stranger.pid)
    finally:
        stranger.kill()
        stranger.wait()
    assert status_in(path, "orphan2")[0] == "stopped"


def test_stop_refuses_finished_and_queued_runs(tmp_path: Path, capsys: Any) -> None:
    path = tmp_path / "h.sqlite3"
    seed(path, "done1", owner=dead_pid(), pgid=None, status="succeeded")
    code, _, err = run_cli(capsys, "stop", "done1", "--db", str(path))
    assert code == 1 and "is not running (it is succeeded)" in err
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        seed(path, "queued1", owner=holder.pid, pgid=None, status="queued")
        code, _, err = run_cli(capsys, "stop", "queued1", "--db", str(path))
        assert code == 1 and f"queued in flowrun process {holder.pid}" in err
    finally:
        holder.kill()
        holder.wait()


def test_history_marks_runs_of_dead_processes_interrupted(tmp_path: Path, capsys: Any) -> None:
    path = tmp_path / "h.sqlite3"
    seed(path, "lost1", owner=dead_pid(), pgid=None)
    code, out, _ = run_cli(capsys, "history", "--json", "--db", str(path))
    assert code == 0
    (only,) = json.loads(out)["executions"]
    assert only["status"] == "interrupted" and only["error"]["type"] == "Interrupted"


def test_run_and_show_draw_an_execution_with_one_renderer(tmp_path: Path, capsys: Any) -> None:
    (tmp_path / ".git").mkdir()
    path = tmp_path / "two.workflow.yml"
    path.write_text(
        "version: 1\nnodes:\n"
        "  - {id: fixed, type: transform, with: {value: 1}, pin: 7}\n"
        "  - {id: bad, type: shell, needs: [fixed], with: {run: 'echo out; exit 3'}}\n"
    )
    db = str(tmp_path / "h.sqlite3")
    code, ran, _ = run_cli(capsys, "run", str(path), "--python", sys.executable, "--db", db)
    assert code == 1
    code, out, _ = run_cli(capsys, "history", "--json", "--db", db)
    (execution,) = json.loads(out)["executions"]
    code, shown, _ = run_cli(capsys, "show", execution["id"], "--db", db)
    assert code == 0
    run_lines, show_lines = ran.splitlines(), shown.splitlines()
    assert show_lines[0].startswith(run_lines[0] + "  ")  # show adds the start time and file
    for label in ("📌 fixed (transform)  pinned", "✗ bad (shell)  failed", "bad failed"):
        assert any(label in line for line in run_lines), label
        assert any(label in line for line in show_lines), label
    assert any(line.strip("│ └─") == "out" for line in show_lines)  # show adds the logs


def test_the_status_table_loads_no_rich() -> None:
    code = (
        "import sys; from flowrun.status_style import STATUS_ICONS, PINNED;"
        "print(STATUS_ICONS['failed'], PINNED.icon, 'rich' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["✗", "📌", "False"]
