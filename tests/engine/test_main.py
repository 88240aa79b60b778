"""`python -m flowrun_engine`: fd 3, stdin, exit codes and the crash path."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import Child, child_env, node, workflow


def test_without_fd3_it_says_so() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "flowrun_engine"],
        input=b"{}",
        capture_output=True,
        env=child_env(None),
        timeout=60,
    )
    assert proc.returncode == 2
    assert b"fd 3 is not open" in proc.stderr


def test_bad_stdin() -> None:
    child = Child.start(workflow(node("a")))
    child.finish()  # a normal run, for contrast
    proc = subprocess.Popen(
        ["bash", "-c", 'exec "$0" -m flowrun_engine 3>/dev/null', sys.executable],
        stdin=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=child_env(None),
    )
    _, err = proc.communicate(b"not json", timeout=60)
    assert proc.returncode == 2 and b"stdin is not the resolved workflow JSON" in err


def test_internal_crash_writes_execution_finished_and_exits_1() -> None:
    child = Child.start({"inputs": {}})  # no "workflow": the engine cannot run it
    run = child.finish()
    assert run.returncode == 1
    assert run.status == "failed"
    error = run.finished["error"]
    assert error["type"] == "ExecutionError" and "engine crashed" in error["message"]
    assert "KeyError" in error["traceback"]


def test_workflow_env_reaches_python_nodes() -> None:
    resolved = workflow(
        node(
            "p", "python", with_={"code": "import os\ndef main():\n    return os.environ['LEVEL']"}
        ),
        env={"LEVEL": "debug"},
    )
    run = Child.start(resolved).finish()
    assert run.returncode == 0 and run.output("p") == "debug"
    assert json.loads(run.raw.splitlines()[-1])["event"] == "execution_finished"
