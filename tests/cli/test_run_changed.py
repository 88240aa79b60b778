"""`flowrun run FILE --changed` (issue 17): the outputs of the nodes whose definition did not
change since the file's last successful execution are given, the changed nodes and everything
downstream of them run, and stderr says which and why.

Engines are real children, the history a real SQLite file; a node ran when the history has a
row of it that started and was not given."""

from __future__ import annotations

import json
import sqlite3
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from flowrun.cli import main

CHAIN = """\
version: 1
inputs: {start: {type: number, default: 1}}
nodes:
  - id: first
    type: python
    with: {args: {n: "${{ inputs.start }}"}, code: "def main(n): return {'n': n + FIRST}"}
  - id: second
    type: transform
    needs: [first]
    with: {value: "${{ nodes.first.output.n }}"}
  - id: leaf
    type: transform
    needs: [second]
    with: {value: {got: "${{ nodes.second.output }}", tag: LEAF}}
  - id: aside
    type: transform
    with: {value: "${{ inputs.start }}"}
outputs:
  leaf: ${{ nodes.leaf.output }}
"""


@pytest.fixture(autouse=True)
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("COLUMNS", "200")
    (tmp_path / ".git").mkdir()
    return tmp_path


def write(folder: Path, first: int = 0, leaf: str = "a") -> Path:
    path = folder / "chain.workflow.yml"
    path.write_text(CHAIN.replace("FIRST", str(first)).replace("LEAF", leaf))
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any], str]:
    code = main(["run", *argv, "--json", "--python", sys.executable])
    out, err = capsys.readouterr()
    return code, json.loads(out), err


def started(folder: Path) -> Counter[str]:
    """Node runs over every execution of the history (a given node never starts)."""
    with sqlite3.connect(folder / ".flowrun" / "history.sqlite3") as conn:
        found = conn.execute(
            "SELECT node_id FROM node_executions WHERE started_at IS NOT NULL AND given = 0"
        )
        return Counter(node_id for (node_id,) in found)


def test_only_the_edited_leaf_runs_then_an_upstream_edit_runs_its_downstream(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(workspace)
    code, full, err = run(capsys, str(path), "--changed")
    assert code == 0, err
    assert "no successful execution of chain.workflow.yml yet: a full run" in err
    assert started(workspace) == {"first": 1, "second": 1, "leaf": 1, "aside": 1}

    write(workspace, leaf="b")  # the leaf only
    code, leaf_run, err = run(capsys, str(path), "--changed")
    assert code == 0, err
    assert leaf_run["outputs"] == {"leaf": {"got": 1, "tag": "b"}}
    assert started(workspace) == {"first": 1, "second": 1, "leaf": 2, "aside": 1}
    assert f"from {full['id'][:8]}: reused 3 (first, second, aside)" in err
    assert "running 1: leaf (its definition changed)" in err
    assert leaf_run["parentExecutionId"] == full["id"]

    write(workspace, first=10, leaf="b")  # upstream: first, and what uses it
    code, upstream_run, err = run(capsys, str(path), "--changed")
    assert code == 0, err
    assert upstream_run["outputs"] == {"leaf": {"got": 11, "tag": "b"}}
    assert started(workspace) == {"first": 2, "second": 2, "leaf": 3, "aside": 1}
    assert f"from {leaf_run['id'][:8]}: reused 1 (aside)" in err  # the last success
    assert "first (its definition changed), second (uses first), leaf (uses second)" in err

    code, _, err = run(capsys, str(path), "--changed")  # nothing changed: nothing runs
    assert code == 0, err
    assert "reused 4" in err and "running 0: nothing" in err
    assert started(workspace) == {"first": 2, "second": 2, "leaf": 3, "aside": 1}


def test_other_inputs_or_a_failed_last_run_are_not_reused(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(workspace)
    code, base, err = run(capsys, str(path))
    assert code == 0, err
    code, _, err = run(capsys, str(path), "--changed", "--input", "start=5")
    assert code == 0, err
    assert f"the inputs or trigger differ from those of {base['id'][:8]}: a full run" in err
    assert started(workspace) == {"first": 2, "second": 2, "leaf": 2, "aside": 2}

    path.write_text(CHAIN.replace("FIRST", "undefined_name").replace("LEAF", "a"))
    code, failed, err = run(capsys, str(path), "--changed", "--input", "start=5")
    assert code == 1 and failed["status"] == "failed"
    write(workspace, leaf="c")  # the last success (start=5) is the base, not the failure
    code, _, err = run(capsys, str(path), "--changed")
    assert code == 0, err
    assert "reused 3" in err and "running 1: leaf (its definition changed)" in err


def test_changed_and_from_execution_are_a_usage_error(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, refused, err = run(capsys, str(write(workspace)), "--changed", "--from-execution", "x")
    assert code == 2 and "--changed starts from the last success" in err
    assert refused["error"]["type"] == "UsageError"
