"""`flowrun pin ID NODE`, `flowrun unpin FILE NODE` and the `stale-pin` warning of `flowrun
validate` (issue 17), each a real `python -m flowrun` process on a real SQLite history: the pin
file is the node's output of that execution, a test-mode run gives it, an edit of the node
makes `validate` warn as the editor does (exit code still 0), and unpin removes the file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from flowrun.runs.pins import read_pins, stale_message

FLOW = """\
version: 1
id: cli-pins
nodes:
  - {id: fetch, type: python, with: {code: "def main(): return {'live': True}"}}
  - {id: use, type: transform, needs: [fetch], with: {value: "${{ nodes.fetch.output }}"}}
outputs:
  got: ${{ nodes.use.output }}
"""


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()
    return tmp_path


def flowrun(workspace: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, XDG_CACHE_HOME=str(workspace / "cache"), COLUMNS="200")
    return subprocess.run(
        [sys.executable, "-m", "flowrun", *args],
        cwd=workspace, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def run_json(workspace: Path) -> dict[str, object]:
    done = flowrun(workspace, "run", "flow.workflow.yml", "--json", "--python", sys.executable)
    assert done.returncode == 0, done.stderr
    tree: dict[str, object] = json.loads(done.stdout)
    return tree


def test_pin_validate_stale_unpin(workspace: Path) -> None:
    path = workspace / "flow.workflow.yml"
    path.write_text(FLOW)
    first = run_json(workspace)
    pin_file = workspace / ".flowrun" / "pins" / "cli-pins" / "fetch.json"

    done = flowrun(workspace, "pin", str(first["id"])[:8], "fetch")
    assert done.returncode == 0, done.stderr
    assert str(pin_file) in done.stdout
    content = json.loads(pin_file.read_text())
    assert content["output"] == {"live": True} and content["fromExecution"] == first["id"]
    fetch = next(n for n in first["children"] if n["id"] == "fetch")  # type: ignore[attr-defined]
    assert content["hash"] == fetch["configHash"]

    pin_file.write_text(pin_file.read_text().replace('"live": true', '"live": false'))
    second = run_json(workspace)
    assert second["outputs"] == {"got": {"live": False}}  # the pin, not a run of fetch
    done = flowrun(workspace, "validate", "flow.workflow.yml")
    assert done.returncode == 0 and "stale-pin" not in done.stdout

    path.write_text(FLOW.replace("'live': True", "'live': 2"))  # the pinned node changed
    done = flowrun(workspace, "validate", "flow.workflow.yml", "--format", "json")
    assert done.returncode == 0, done.stdout  # a warning: the exit code stays 0
    [warning] = json.loads(done.stdout)
    pin = read_pins(path, "cli-pins")["fetch"]
    assert (warning["code"], warning["severity"]) == ("stale-pin", "warning")
    assert warning["message"] == stale_message("fetch", "cli-pins", pin)
    line = FLOW.splitlines()[3]  # the editor's range: the node's id
    assert warning["range"]["start"] == {"line": 3, "character": line.index("fetch")}
    done = flowrun(workspace, "validate", ".")
    assert done.returncode == 0 and "warning[stale-pin]" in done.stdout

    done = flowrun(workspace, "unpin", "flow.workflow.yml", "fetch")
    assert done.returncode == 0 and not pin_file.exists()
    done = flowrun(workspace, "unpin", "flow.workflow.yml", "fetch")
    assert done.returncode == 0 and "no pin file" in done.stdout
    done = flowrun(workspace, "validate", "flow.workflow.yml")
    assert done.returncode == 0 and "stale-pin" not in done.stdout


def test_pin_refuses_a_node_without_output(workspace: Path) -> None:
    (workspace / "flow.workflow.yml").write_text(FLOW)
    first = run_json(workspace)
    done = flowrun(workspace, "pin", str(first["id"]), "nope")
    assert done.returncode == 1
    assert f"flowrun pin: `nope` has no output in execution {str(first['id'])[:8]}" in done.stderr
    assert not (workspace / ".flowrun" / "pins").exists()
    done = flowrun(workspace, "unpin", "missing.workflow.yml", "fetch")
    assert done.returncode == 1 and "is not a workflow file" in done.stderr
    pins = workspace / ".flowrun" / "pins"
    pins.write_text("")  # a file where the pins folder goes: said, not a traceback
    done = flowrun(workspace, "pin", str(first["id"]), "fetch")
    assert done.returncode == 1 and "flowrun pin: could not write the pin file" in done.stderr
    assert "Traceback" not in done.stderr
    done = flowrun(workspace, "unpin", "flow.workflow.yml", "fetch")
    assert done.returncode == 1 and "flowrun unpin: could not remove" in done.stderr
    pins.unlink()
    outside = workspace / ".flowrun" / "outside.json"  # a NODE is not a path
    outside.write_text("{}")
    done = flowrun(workspace, "unpin", "flow.workflow.yml", "../../outside")
    assert done.returncode == 1 and "`../../outside` is not a node id" in done.stderr
    assert outside.exists()
