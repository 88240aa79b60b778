"""Durable pause and resume from the CLI (issue 17): `flowrun run --break-before NODE` and
`--pause-on-failure` end the run `paused` (exit 3), `flowrun resume ID` goes on in a new
execution (the completed nodes given, never run again), with the file as it is now; the
`--from-execution` re-run takes that execution's request unless overridden.

Engines are real children, the history a real SQLite file; node runs are counted by the
history's rows of nodes that started (a given node has none)."""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path
from typing import Any

import pytest

from flowrun.cli import main

CHAIN = """\
version: 1
inputs:
  start: {type: number, default: 1}
nodes:
  - id: first
    type: python
    with:
      args: {n: "${{ inputs.start }}"}
      code: |
        def main(n):
            return {"n": n}
  - id: second
    type: python
    needs: [first]
    with:
      args: {n: "${{ nodes.first.output.n }}"}
      code: |
        def main(n):
            BODY
  - id: third
    type: transform
    needs: [second]
    with: {value: "${{ nodes.second.output }}"}
outputs:
  result: ${{ nodes.third.output }}
"""
BROKEN = 'raise ValueError("second is broken")'
FIXED = 'return {"m": n + 10}'


@pytest.fixture(autouse=True)
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.chdir(tmp_path)  # `flowrun resume` finds the workspace's history from here
    (tmp_path / ".git").mkdir()
    return tmp_path


def chain(folder: Path, body: str = FIXED) -> Path:
    path = folder / "chain.workflow.yml"
    path.write_text(CHAIN.replace("BODY", body))
    return path


def flowrun(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any], str]:
    """Exit code, the tree (--json) and stderr of `flowrun ARGV --json --python ...`."""
    code = main([*argv, "--json", "--python", sys.executable])
    out, err = capsys.readouterr()
    return code, json.loads(out), err


def statuses(tree: dict[str, Any]) -> dict[str, str]:
    return {node["id"]: node["status"] for node in tree["children"]}


def runs_per_node(folder: Path) -> dict[str, int]:
    """How many times each node ran, over every execution of the history."""
    with sqlite3.connect(folder / ".flowrun" / "history.sqlite3") as conn:
        rows = conn.execute(
            "SELECT node_id, count(*) FROM node_executions WHERE started_at IS NOT NULL "
            "AND given = 0 GROUP BY node_id"
        ).fetchall()
    return dict(rows)


def test_a_breakpoint_pauses_before_its_node_and_resume_goes_on(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = chain(workspace)
    code, paused, err = flowrun(capsys, "run", str(path), "--break-before", "third")
    assert code == 3, err
    assert paused["status"] == "paused"
    assert statuses(paused) == {"first": "succeeded", "second": "succeeded", "third": "pending"}
    assert paused["error"]["pausedAt"] == ["third"] and paused["error"]["reason"] == "breakpoint"
    assert f"flowrun resume {paused['id'][:8]}" in err

    # the breakpoint still set (as a debugger sends it again): Continue goes past it once
    code, resumed, err = flowrun(capsys, "resume", paused["id"][:8], "--break-before", "third")
    assert code == 0, err
    assert resumed["status"] == "succeeded" and resumed["outputs"] == {"result": {"m": 11}}
    assert resumed["parentExecutionId"] == paused["id"] and resumed["fromNode"] is None
    given = {node["id"]: node["given"] for node in resumed["children"]}
    assert given == {"first": True, "second": True, "third": False}
    assert runs_per_node(workspace) == {"first": 1, "second": 1, "third": 1}
    assert "changed since the pause" not in err

    # the checkpoint stays: a resume of it again is refused by nothing, a resume of the
    # succeeded execution is
    code, refused, err = flowrun(capsys, "resume", resumed["id"])
    assert code == 1 and refused["error"]["type"] == "NotResumable"
    assert "is succeeded, not paused" in refused["error"]["message"]


def test_pause_on_failure_then_fix_the_file_and_resume(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = chain(workspace, BROKEN)
    code, paused, err = flowrun(capsys, "run", str(path), "--pause-on-failure")
    assert code == 3, err
    assert statuses(paused) == {"first": "succeeded", "second": "failed", "third": "pending"}
    assert paused["error"]["reason"] == "failure" and paused["error"]["pausedAt"] == ["second"]
    assert paused["error"]["errors"][0]["node"] == "second"

    chain(workspace, FIXED)  # edit and continue: the failed node runs again with the fix
    code, resumed, err = flowrun(capsys, "resume", paused["id"])
    assert code == 0, err
    assert resumed["outputs"] == {"result": {"m": 11}}
    assert runs_per_node(workspace) == {"first": 1, "second": 2, "third": 1}
    assert "changed since the pause" not in err  # `first` (given) did not change

    # without --pause-on-failure the same failure fails the run (exit 1), nothing pending
    chain(workspace, BROKEN)
    code, failed, _ = flowrun(capsys, "run", str(path))
    assert code == 1 and failed["status"] == "failed" and statuses(failed)["third"] == "skipped"


def test_resume_from_a_node_and_the_changed_upstream_nodes_reported(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = chain(workspace)
    code, paused, _ = flowrun(capsys, "run", str(path), "--break-before", "third")
    assert code == 3
    hashes = {node["id"]: node["configHash"] for node in paused["children"]}
    assert hashes["first"] and hashes["second"] and hashes["third"] is None  # never started

    # `first`'s code changed, and with it `second`'s hash (it uses `first`); `third` is to run
    path.write_text(path.read_text().replace('return {"n": n}', 'return {"n": n * 2}'))
    code, resumed, err = flowrun(capsys, "resume", paused["id"])
    assert code == 0
    assert "changed since the pause, their recorded outputs used: first, second" in err
    assert resumed["outputs"] == {"result": {"m": 11}}  # the recorded outputs were given

    code, again, err = flowrun(capsys, "resume", paused["id"], "--from-node", "second")
    assert code == 0, err
    assert again["fromNode"] == "second" and again["parentExecutionId"] == paused["id"]
    given = {node["id"]: node["given"] for node in again["children"]}
    assert given == {"first": True, "second": False, "third": False}
    assert again["outputs"] == {"result": {"m": 11}}  # first's recorded n = 1, second re-ran
    assert "their recorded outputs used: first (" in err  # second runs: not reported
    assert runs_per_node(workspace) == {"first": 1, "second": 2, "third": 2}

    code, refused, _ = flowrun(capsys, "resume", paused["id"], "--from-node", "nope")
    assert code == 1 and "No node `nope`" in refused["error"]["message"]


def test_from_execution_takes_its_request_unless_overridden(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = chain(workspace)
    code, source, _ = flowrun(capsys, "run", str(path), "--input", "start=7")
    assert code == 0 and source["outputs"] == {"result": {"m": 17}}

    code, rerun, _ = flowrun(capsys, "run", str(path), "--from-execution", source["id"][:8])
    assert code == 0 and rerun["inputs"] == {"start": 7}
    assert rerun["parentExecutionId"] == source["id"]
    assert rerun["trigger"] == source["trigger"]

    code, override, _ = flowrun(
        capsys, "run", str(path), "--from-execution", source["id"], "--input", "start=2",
        "--trigger", '{"body": {"x": 1}}',
    )  # fmt: skip
    assert code == 0 and override["inputs"] == {"start": 2}
    assert override["trigger"]["body"] == {"x": 1}

    code, from_node, _ = flowrun(
        capsys, "run", str(path), "--from-execution", source["id"], "--from-node", "third"
    )
    assert code == 0 and from_node["fromNode"] == "third"
    given = {node["id"]: node["given"] for node in from_node["children"]}
    assert given == {"first": True, "second": True, "third": False}
    assert from_node["outputs"] == {"result": {"m": 17}}


LOOP = """\
version: 1
stages:
  - id: prepare
    nodes:
      - {id: seed, type: transform, with: {value: 2}}
  - id: repeat
    loop: {max_iters: 5, until: "${{ nodes.count.output >= nodes.seed.output }}"}
    nodes:
      - {id: count, type: transform, with: {value: "${{ loop.iteration }}"}}
      - {id: check, type: transform, with: {value: "${{ nodes.count.output }}"}}
outputs:
  last: ${{ nodes.check.output }}
"""


def test_a_pause_inside_a_loop_stage_resumes_the_stage_from_its_first_iteration(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = workspace / "loop.workflow.yml"
    path.write_text(LOOP)
    code, paused, _ = flowrun(capsys, "run", str(path), "--break-before", "check")
    assert code == 3
    prepare, repeat = paused["children"]
    assert (prepare["status"], repeat["status"]) == ("succeeded", "paused")
    assert [(n["id"], n["status"], n["iteration"]) for n in repeat["children"]] == [
        ("count", "succeeded", 1),
        ("check", "pending", 1),
    ]
    code, resumed, err = flowrun(capsys, "resume", paused["id"])
    assert code == 0, err
    prepare, repeat = resumed["children"]
    assert [n["given"] for n in prepare["children"]] == [True]
    assert [(n["id"], n["iteration"], n["given"]) for n in repeat["children"]] == [
        ("count", 1, False),
        ("check", 1, False),
        ("count", 2, False),
        ("check", 2, False),
    ]
    assert resumed["outputs"] == {"last": 2}
