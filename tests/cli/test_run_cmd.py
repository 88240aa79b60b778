"""`flowrun run`: in-process through `main()` and as a real `python -m flowrun` process."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from flowrun.cli import live, main, progress, render, run_view

OK = """\
version: 1
inputs:
  name: {type: string, default: world}
  times: {type: number, default: 1}
trigger:
  type: http
  method: POST
  path: /hello
  sample:
    body: {text: sample}
nodes:
  - id: greet
    type: transform
    with: {value: "hello ${{ inputs.name }} x${{ inputs.times }} ${{ trigger.body.text }}"}
  - id: count
    type: python
    needs: [greet]
    with:
      code: |
        def main(text):
            print("counting", text)
            return {"words": len(text.split())}
      args: {text: "${{ nodes.greet.output }}"}
outputs:
  greeting: ${{ nodes.greet.output }}
"""

FAILS = """\
version: 1
nodes:
  - id: boom
    type: python
    with:
      code: |
        def main():
            raise ValueError("the data is wrong")
  - id: after
    type: transform
    needs: [boom]
    with: {value: 1}
"""

SLEEPS = """\
version: 1
nodes:
  - id: sleeper
    type: shell
    with:
      run: "sleep 300 & echo $! > {pidfile}; echo $$ >> {pidfile}; wait"
"""


@pytest.fixture(autouse=True)
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def write(folder: Path, name: str, text: str) -> Path:
    (folder / ".git").mkdir(exist_ok=True)  # the history goes to folder/.flowrun
    path = folder / name
    path.write_text(text)
    return path


def run_main(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["run", *argv, "--python", sys.executable])
    out, err = capsys.readouterr()
    return code, out, err


def executions(folder: Path) -> list[Any]:
    db = folder / ".flowrun" / "history.sqlite3"
    if not db.exists():
        return []
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT id, status FROM executions").fetchall()


def test_json_prints_only_the_execution_tree(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "ok.workflow.yml", OK)
    code, out, err = run_main(
        [str(path), "--json", "--input", "name=bob", "-i", "times=3", "--max-parallel", "1"],
        capsys,
    )
    assert code == 0, err
    tree = json.loads(out)
    assert tree["status"] == "succeeded"
    assert tree["outputs"] == {"greeting": "hello bob x3 sample"}
    assert tree["inputs"] == {"name": "bob", "times": 3}
    assert [child["id"] for child in tree["children"]] == ["greet", "count"]
    assert err == ""
    assert executions(tmp_path) == [(tree["id"], "succeeded")]


def test_trigger_from_json_or_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "ok.workflow.yml", OK)
    code, out, _ = run_main(
        [str(path), "--json", "--trigger", '{"body": {"text": "inline"}}'], capsys
    )
    assert code == 0 and json.loads(out)["outputs"]["greeting"].endswith("inline")
    request = tmp_path / "request.json"
    request.write_text('{"body": {"text": "from-file"}, "headers": {"X-A": "1"}}')
    code, out, _ = run_main([str(path), "--json", "--trigger", str(request)], capsys)
    tree = json.loads(out)
    assert code == 0 and tree["outputs"]["greeting"].endswith("from-file")
    assert tree["trigger"]["headers"] == {"x-a": "1"}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--trigger", "{not json"], "--trigger is not JSON"),
        (["--trigger", "[1]"], "must be a JSON object"),
        (["--input", "novalue"], "expected NAME=VALUE"),
        (["--timeout", "soon"], "--timeout 'soon'"),
    ],
)
def test_usage_errors_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    path = write(tmp_path, "ok.workflow.yml", OK)
    code, out, err = run_main([str(path), *extra], capsys)
    assert code == 2 and out == ""
    assert message in err
    assert executions(tmp_path) == []


def test_trigger_file_that_is_not_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "ok.workflow.yml", OK)
    bad = tmp_path / "bad.json"
    bad.write_text("nope")
    code, _, err = run_main([str(path), "--trigger", str(bad)], capsys)
    assert code == 2 and f"file {bad} is not JSON" in err


def test_a_missing_trigger_file_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "ok.workflow.yml", OK)
    code, out, err = run_main([str(path), "--trigger", str(tmp_path / "none.json")], capsys)
    assert code == 2 and out == ""
    assert f"--trigger {tmp_path / 'none.json'}: no such file" in err
    assert "not JSON" not in err
    code, _, err = run_main([str(path), "--trigger", str(tmp_path)], capsys)
    assert code == 2 and "cannot read it" in err
    assert executions(tmp_path) == []


@pytest.mark.parametrize("source", ["-", "/dev/stdin"])
def test_trigger_from_stdin(tmp_path: Path, source: str) -> None:
    path = write(tmp_path, "ok.workflow.yml", OK)
    done = subprocess.run(
        [sys.executable, "-m", "flowrun", "run", str(path), "--json", "--trigger", source,
         "--python", sys.executable],
        input='{"body": {"text": "piped"}}', capture_output=True, text=True,
        env={**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["outputs"]["greeting"].endswith("piped")


@pytest.mark.parametrize("value", ["0", "-3", "many"])
def test_max_parallel_must_be_a_positive_number(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], value: str
) -> None:
    path = write(tmp_path, "ok.workflow.yml", OK)
    with pytest.raises(SystemExit) as exited:
        main(["run", str(path), "--max-parallel", value])
    err = capsys.readouterr().err
    assert exited.value.code == 2
    assert "argument --max-parallel:" in err
    assert ("must be at least 1" if value != "many" else "expected a whole number") in err
    assert executions(tmp_path) == []


def test_a_trigger_the_workflow_refuses_is_a_clean_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "ok.workflow.yml", OK)
    code, out, err = run_main([str(path), "--trigger", '{"headers": [1]}'], capsys)
    assert code == 1 and out == ""
    assert err.startswith("error: InvalidTrigger: ok.workflow.yml: ")
    assert "Traceback" not in err and "→ Give a trigger matching" in err
    code, out, err = run_main([str(path), "--json", "--trigger", '{"method": 5}'], capsys)
    assert code == 1
    assert "error: InvalidTrigger: ok.workflow.yml: the trigger's `method`" in err
    error = json.loads(out)["error"]
    assert error["type"] == "InvalidTrigger" and "`method`" in error["message"]
    assert executions(tmp_path) == []


def test_help_lists_the_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    out = capsys.readouterr().out
    assert "exit codes:" in out
    for code in ("0 ", "1 ", "2 ", "130"):
        assert f"  {code}" in out


def test_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_main([str(tmp_path / "none.workflow.yml")], capsys)
    assert code == 2 and "no such file" in err


def test_an_invalid_file_prints_diagnostics_and_spawns_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(
        tmp_path,
        "bad.workflow.yml",
        "version: 1\nnodes:\n  - id: a\n    type: shel\n    with: {run: 'true'}\n",
    )
    code, out, err = run_main([str(path), "--json"], capsys)
    assert code == 1
    first = err.splitlines()[0]
    assert first.startswith(f"{path}:4:11: error[unknown-node-type]: ")
    assert "error: ValidationError: The workflow has 1 error; nothing was run." in err
    assert executions(tmp_path) == []
    # --json: the error object on stdout, the diagnostics in it
    error = json.loads(out)["error"]
    assert error["type"] == "ValidationError" and error["message"].startswith("The workflow")
    (diagnostic,) = error["diagnostics"]
    assert diagnostic["line"] == 4 and diagnostic["code"] == "unknown-node-type"


def test_a_refused_run_prints_the_error_object_with_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "ok.workflow.yml", OK)
    code, out, err = run_main([str(path), "--json", "--input", "times=many"], capsys)
    assert code == 1 and "error: ValidationError:" in err
    error = json.loads(out)["error"]
    assert error["type"] == "ValidationError" and "times" in error["message"]
    code, out, _ = run_main([str(path), "--json", "--timeout", "soon"], capsys)
    assert code == 2 and json.loads(out)["error"]["type"] == "UsageError"


def test_bad_input_value_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "ok.workflow.yml", OK)
    code, _, err = run_main([str(path), "--input", "times=many"], capsys)
    assert code == 1
    assert "error: ValidationError:" in err and "times" in err
    assert "→ Fix the --input values" in err


def test_missing_interpreter(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "ok.workflow.yml", OK)
    code = main(["run", str(path), "--python", str(tmp_path / "python9")])
    err = capsys.readouterr().err
    assert code == 1
    assert "error: PythonNotFound: No Python interpreter at" in err
    assert "--python PATH" in err


def test_a_failure_shows_the_tree_and_the_panel_when_piped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "fails.workflow.yml", FAILS)
    code, out, err = run_main([str(path)], capsys)
    assert code == 1
    assert "▶ boom started" in err
    assert "✗ boom failed" in err and "ExecutionError" in err
    assert "✗ run failed" in err
    assert "boom failed" in out  # the panel's title
    assert "ValueError: the data is wrong" in out
    assert "after" in out
    # the traceback counts lines of the workflow file, where `raise` is line 8
    assert '"<fails.workflow.yml:boom>", line 8' in out


TWO_FAIL = """\
version: 1
nodes:
  - id: fixed
    type: transform
    with: {value: 1}
    pin: {from: pin}
  - id: left
    type: shell
    needs: [fixed]
    with: {run: "echo left says hi; echo left complains >&2; exit 3"}
    on_failure: continue
  - id: right
    type: python
    on_failure: continue
    with:
      code: |
        def main():
            print("right line 1")
            raise RuntimeError("right broke")
"""


def test_logs_stream_live_prefixed_by_node_and_quiet_hides_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "ok.workflow.yml", OK)
    code, _, err = run_main([str(path)], capsys)
    assert code == 0
    lines = err.splitlines()
    started = lines.index("▶ count started")
    logged = lines.index("count | counting hello world x1 sample")
    finished = next(i for i, line in enumerate(lines) if line.startswith("✓ count succeeded"))
    assert started < logged < finished
    code, _, err = run_main([str(path), "--quiet"], capsys)
    assert code == 0 and "▶ count started" in err and "counting" not in err


def test_every_failed_node_is_named_and_pinned_nodes_are_marked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "two.workflow.yml", TWO_FAIL)
    code, out, err = run_main([str(path)], capsys)
    assert code == 1
    assert "left  | left says hi" in err and "left  | left complains" in err
    assert "right | right line 1" in err
    assert "📌 fixed pinned (did not run)" in err
    assert "2 nodes failed: left, right" in out
    assert "left: ExecutionError" in out and "right: ExecutionError" in out
    assert "RuntimeError: right broke" in out
    assert "📌 fixed (transform)  pinned" in out
    code, out, _ = run_main([str(path), "--json"], capsys)
    fixed, left, right = json.loads(out)["children"]
    assert fixed["pinned"] is True and fixed["output"] == {"from": "pin"}
    assert left["pinned"] is False and right["pinned"] is False


def test_live_view_on_a_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    path = write(tmp_path, "ok.workflow.yml", OK)
    code, out, err = run_main([str(path)], capsys)
    assert code == 0
    assert "greet" in out and "succeeded" in out and "greeting" in out
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", err)
    assert "count │ counting hello world x1 sample" in plain  # printed above the live table
    code, _, err = run_main([str(path), "--quiet"], capsys)
    assert code == 0 and "counting" not in err


def test_install_missing_shows_pips_progress(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "installed"
    fake = tmp_path / "fakepython"
    fake.write_text(
        f"""#!/bin/sh
if [ "$1" = "-m" ] && [ "$2" = "pip" ]; then echo "Collecting $4"; \
echo "Successfully installed $4"; echo yes > {state}; exit 0; fi
if [ "$1" = "-c" ] && [ -z "$4" ] && [ -f {state} ]; then \
printf '{{"executable": "%s", "version": "3.11.7", "missing": []}}' "$0"; exit 0; fi
if [ "$1" = "-c" ] && [ -z "$4" ]; then \
printf '{{"executable": "%s", "version": "3.11.7", "missing": ["fancy-pkg"]}}' "$0"; exit 0; fi
exec {sys.executable} "$@"
"""
    )
    fake.chmod(0o755)
    path = write(tmp_path, "req.workflow.yml", "requires: [fancy-pkg]\n" + OK)
    code = main(["run", str(path), "--install-missing", "--python", str(fake), "--quiet"])
    err = capsys.readouterr().err
    assert code == 0, err
    lines = err.splitlines()
    assert lines[:4] == [
        f"pip | Installing fancy-pkg into {fake} …",
        "pip | Collecting fancy-pkg",
        "pip | Successfully installed fancy-pkg",
        "pip | Installed fancy-pkg.",
    ]


def test_timeout_fails_the_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "sleeps.workflow.yml", SLEEPS.format(pidfile=tmp_path / "pids"))
    code, out, _ = run_main([str(path), "--json", "--timeout", "300ms"], capsys)
    assert code == 1
    tree = json.loads(out)
    assert tree["status"] == "timed_out"


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


def test_ctrl_c_stops_the_run_and_exits_130(tmp_path: Path) -> None:
    pidfile = tmp_path / "pids"
    path = write(tmp_path, "sleeps.workflow.yml", SLEEPS.format(pidfile=pidfile))
    cli = subprocess.Popen(
        [sys.executable, "-m", "flowrun", "run", str(path), "--json", "--python", sys.executable],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while (
        time.monotonic() < deadline
        and len(pidfile.read_text().split() if pidfile.exists() else []) < 2
    ):
        time.sleep(0.05)
    pids = [int(pid) for pid in pidfile.read_text().split()]
    assert all(alive(pid) for pid in pids)
    cli.send_signal(signal.SIGINT)
    out, err = cli.communicate(timeout=60)
    assert cli.returncode == 130, err
    assert json.loads(out)["status"] == "stopped"
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(alive(pid) for pid in pids)


def test_run_is_registered_without_heavy_imports() -> None:
    code = (
        "import sys; from flowrun.cli import build_parser; build_parser();"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('rich', 'pygls', 'pydantic', 'aiosqlite', 'yaml') or m.startswith('flowrun.runs')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


# -- render -------------------------------------------------------------------------------


def test_progress_lines_and_durations() -> None:
    line = progress.progress_line
    assert line({"event": "node_started", "node": "a", "attempt": 1}) == "▶ a started"
    assert line({"event": "node_started", "node": "a", "attempt": 2, "iteration": 3}) == (
        "▶ a #3 started (attempt 2)"
    )
    assert line({"event": "node_retry", "node": "a", "attempt": 1, "delay": 0.5}) == (
        "↻ a attempt 1 failed; retrying in 0.5s"
    )
    assert line({"event": "node_finished", "node": "a", "status": "skipped"}) == "↷ a skipped"
    assert line({"event": "node_log", "node": "a"}) is None
    assert line({"event": "node_finished", "node": "p", "status": "succeeded", "pinned": True}) == (
        "📌 p pinned (did not run)"
    )
    assert progress.log_lines({"node": "a", "iteration": 2, "text": "x\ny"}, 6) == [
        "a #2   | x",
        "a #2   | y",
    ]
    assert progress.preview("x" * 400).endswith("…")
    assert progress.preview({"a": 1}) == '{"a": 1}'


def test_node_progress_folds_events() -> None:
    folded = progress.NodeProgress()
    plan = {"stages": [{"id": None, "nodes": [{"id": "a", "type": "shell"}, {"id": "b"}]}]}
    folded.update({"event": "execution_started", "plan": plan})
    assert folded.status == "running" and list(folded.nodes) == ["a", "b"]
    folded.update({"event": "node_started", "node": "a", "attempt": 1})
    folded.update({"event": "node_retry", "node": "a", "attempt": 1})
    folded.update({"event": "node_log", "node": "a"})
    folded.update(
        {"event": "node_finished", "node": "b", "status": "failed", "duration_ms": 3,
         "error": {"type": "X", "message": "bad"}}
    )  # fmt: skip
    folded.update({"event": "execution_finished", "status": "failed"})
    assert folded.nodes["a"]["status"] == "running"
    assert folded.nodes["b"]["status"] == "failed"
    from rich.console import Console

    console = Console(record=True, width=80)
    console.print(live.LiveTable(folded))
    text = console.export_text()
    assert "retry after attempt 1" in text and "bad" in text


def test_tree_with_stages_and_failure_panel() -> None:
    from rich.console import Console

    tree = {
        "id": "abc",
        "workflowId": "wf",
        "status": "failed",
        "durationMs": 1500,
        "outputs": {"x": 1},
        "error": {"type": "ExecutionError", "message": "run failed"},
        "children": [
            {"kind": "stage", "id": "s1", "status": "failed", "children": [
                {"kind": "node", "id": "n1", "type": "shell", "status": "succeeded",
                 "durationMs": 5, "attempts": 2, "output": {"ok": True}, "iteration": 2},
                {"kind": "node", "id": "n2", "type": "python", "status": "failed",
                 "error": {"type": "ExecutionError", "message": "bad",
                           "traceback": "Traceback...\nValueError: bad",
                           "suggestion": "fix it"}},
                {"kind": "node", "id": "n3", "status": "skipped",
                 "error": {"type": "Skipped", "message": "upstream"}},
            ]},
        ],
    }  # fmt: skip
    console = Console(record=True, width=100)
    render.print_execution(console, tree)
    text = console.export_text()
    assert "stage s1" in text and "n1 (shell) #2" in text and "2 attempts" in text
    assert "n2 failed" in text and "ValueError: bad" in text and "→ fix it" in text
    assert "n3" in text and "skipped" in text
    assert "Skipped" not in text
    assert "x: 1" in text
    # no failed node: the execution's own error
    tree["children"] = []
    panel = render.failure_panel(tree)
    assert panel is not None and panel.title == "run failed"
    tree["error"] = None
    assert render.failure_panel(tree) is None
    tree["status"] = "succeeded"
    assert render.failure_panel(tree) is None


def test_view_kinds(monkeypatch: pytest.MonkeyPatch) -> None:
    assert type(run_view.make_view(True, False)) is run_view.View
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False)
    assert type(run_view.make_view(False, False)) is run_view.PlainView
    assert not run_view.make_view(False, True).lines.logs  # type: ignore[attr-defined]


def test_the_run_path_loads_no_language_server(tmp_path: Path) -> None:
    path = write(tmp_path, "ok.workflow.yml", OK)
    code = (
        "import sys; from flowrun.cli import main;"
        f"code = main(['run', {str(path)!r}, '--json', '--python', sys.executable]);"
        "print(code, sorted(m for m in ('pygls', 'lsprotocol', 'watchfiles', 'rich')"
        " if m in sys.modules), file=sys.stderr)"
    )
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert done.stderr.strip().splitlines()[-1] == "0 []"


def test_a_history_that_cannot_open_is_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "ok.workflow.yml", OK)
    (tmp_path / "afile").write_text("")
    for _ in range(2):  # the second run finds the file in the resolved cache
        code, out, err = run_main([str(path), "--db", str(tmp_path / "afile" / "h.db")], capsys)
        assert code == 1 and out == ""
        assert "error: HistoryError: Cannot open the execution history" in err
        assert "→ Pass --db with a writable file path." in err


def test_nothing_survives_a_killed_cli(tmp_path: Path) -> None:
    """SIGKILL cannot be handled: the engine learns it from PR_SET_PDEATHSIG (Linux)."""
    pidfile = tmp_path / "pids"
    path = write(tmp_path, "sleeps.workflow.yml", SLEEPS.format(pidfile=pidfile))
    cli = subprocess.Popen(
        [sys.executable, "-m", "flowrun", "run", str(path), "--json", "--python", sys.executable],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")},
    )
    deadline = time.monotonic() + 60
    while (
        time.monotonic() < deadline
        and len(pidfile.read_text().split() if pidfile.exists() else []) < 2
    ):
        time.sleep(0.05)
    pids = [int(pid) for pid in pidfile.read_text().split()]
    cli.kill()
    cli.wait(10)
    deadline = time.monotonic() + 15
    while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(alive(pid) for pid in pids)
