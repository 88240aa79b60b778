"""The server's side of the editor's debugger (issue 17) over the real language server:
breakpoints with conditions and logpoints on `flowrun/execute`, a step and a restarted node
on `flowrun/resume`, `flowrun/debugState` and `flowrun/evaluate` from the history (also after
the server was SIGKILLed), and `flowrun/breakpointLocations`. Node runs are counted by
`node_started` events over every execution the session saw."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import pytest
from pygls.exceptions import JsonRpcException

from lsp.harness import Session
from lsp.test_bad_requests import invalid
from lsp.test_execute import SETTINGS, start
from lsp.test_pause_resume import finished, started
from lsp.workflows import write

SECRET = "tok-debugger-secret"
ENV = {"DEBUG_TOKEN": SECRET, "EDITOR_ONLY_KEY": "tok-no-run-sees-this"}

CHAIN = """\
version: 1
inputs:
  n: {type: number, default: 3}
secrets: [DEBUG_TOKEN]
env: {GREETING: "hi ${{ inputs.n }}"}
nodes:
  - id: a
    type: transform
    with: {value: "${{ inputs.n * 2 }}"}
  - id: b
    type: transform
    needs: [a]
    with: {value: "${{ nodes.a.output + 1 }}"}
  - id: c
    type: transform
    needs: [b]
    with: {value: "${{ nodes.b.output + 1 }}"}
outputs:
  c: ${{ nodes.c.output }}
"""


async def paused(session: Session, execution_id: str) -> dict[str, Any]:
    end = await finished(session, execution_id)
    assert end["status"] == "paused", end
    return dict(end["error"])


def nodes_of(state: dict[str, Any]) -> dict[str, tuple[str, Any]]:
    return {n["id"]: (n["status"], n["output"]) for n in state["nodes"]}


async def test_a_breakpoint_state_evaluate_step_and_restart_node(workspace: Path) -> None:
    write(workspace, "chain.workflow.yml", CHAIN)
    session = await start(workspace, env=ENV)
    try:
        uri = session.uri("chain.workflow.yml")
        run = await session.request(
            "flowrun/execute", {"uri": uri, "breakpoints": [{"nodeId": "b"}]}
        )
        execution_id = run["executionId"]
        error = await paused(session, execution_id)
        assert error["pausedAt"] == ["b"] and error["reason"] == "breakpoint"

        state = await session.request("flowrun/debugState", {"executionId": execution_id[:8]})
        assert state == {
            "executionId": execution_id,
            "status": "paused",
            "reason": "breakpoint",
            "pausedAt": ["b"],
            "inputs": {"n": 3},
            "trigger": state["trigger"],
            "env": {"GREETING": "hi 3"},
            "secrets": {"DEBUG_TOKEN": "••••"},
            "loop": None,
            "nodes": [
                {"id": "a", "status": "succeeded", "input": {"value": 6}, "output": 6,
                 "error": None, "iteration": None},
                {"id": "b", "status": "pending", "input": None, "output": None,
                 "error": None, "iteration": None},
                {"id": "c", "status": "pending", "input": None, "output": None,
                 "error": None, "iteration": None},
            ],
        }  # fmt: skip
        assert state["trigger"]["method"] in ("GET", "POST")

        evaluate = {"executionId": execution_id, "expression": "${{ nodes.a.output * 7 }}"}
        assert await session.request("flowrun/evaluate", evaluate) == {"value": 42, "display": "42"}
        bare = {
            "executionId": execution_id,
            "expression": "env.GREETING + ' ' + secrets.DEBUG_TOKEN",
        }
        assert (await session.request("flowrun/evaluate", bare))["display"] == '"hi 3 ••••"'
        # as in a run: the server's environment only as far as a child gets it
        for name, shown in (("EDITOR_ONLY_KEY", "null"), ("PATH", f'"{os.environ["PATH"]}"')):
            asked = {"executionId": execution_id, "expression": f"env.{name}"}
            assert (await session.request("flowrun/evaluate", asked))["display"] == shown
        with pytest.raises(JsonRpcException) as failed:
            bad = {"executionId": execution_id, "expression": "nodes.a.output + 'x'"}
            await session.request("flowrun/evaluate", bad)
        assert failed.value.code == -32001 and "cannot apply '+'" in failed.value.message
        message = await invalid(session, "flowrun/evaluate", {"executionId": execution_id})
        assert message.startswith("Invalid params: expression:")
        message = await invalid(session, "flowrun/debugState", {"executionId": "nope"})
        assert message.startswith("executionId: No execution")
    finally:
        os.kill(session.pid, signal.SIGKILL)  # the daemon dies while the execution is paused
        await session.client.stop()

    session = await start(workspace, env=ENV)
    try:
        again = await session.request("flowrun/debugState", {"executionId": execution_id})
        assert again == state
        assert SECRET not in str(again)

        # Step Over: `b` (ready when the resume starts) runs, the run pauses before `c`
        step = await session.request("flowrun/resume", {"executionId": execution_id, "step": True})
        error = await paused(session, step["executionId"])
        assert error["reason"] == "step" and error["pausedAt"] == ["c"]
        assert started(session, "a") == 0 and started(session, "b") == 1
        stepped = await session.request("flowrun/debugState", {"executionId": step["executionId"]})
        assert nodes_of(stepped) == {
            "a": ("succeeded", 6),  # given by the resume: still shown
            "b": ("succeeded", 7),
            "c": ("pending", None),
        }

        # Restart Node: `b` runs again (its downstream too), then the run goes to its end
        restart = {"executionId": step["executionId"], "fromNode": "b"}
        last = await session.request("flowrun/resume", restart)
        end = await finished(session, last["executionId"])
        assert end["status"] == "succeeded" and end["outputs"] == {"c": 8}
        assert started(session, "a") == 0 and started(session, "b") == 2
        assert started(session, "c") == 1
        done = await session.request("flowrun/debugState", {"executionId": last["executionId"]})
        assert done["status"] == "succeeded" and done["reason"] is None and done["pausedAt"] == []
    finally:
        await session.stop()


async def test_conditions_and_logpoints(workspace: Path) -> None:
    write(workspace, "chain.workflow.yml", CHAIN)
    session = await start(workspace, settings=SETTINGS, env=ENV)
    try:
        uri = session.uri("chain.workflow.yml")

        async def run(*points: dict[str, Any]) -> str:
            params = {"uri": uri, "breakpoints": list(points)}
            return str((await session.request("flowrun/execute", params))["executionId"])

        false = await run(
            {"nodeId": "b", "condition": "${{ nodes.a.output > 100 }}"},
            {"nodeId": "c", "logMessage": "b=${{ nodes.b.output }} t=${{ secrets.DEBUG_TOKEN }}"},
        )
        end = await finished(session, false)
        assert end["status"] == "succeeded" and end["outputs"] == {"c": 8}
        logs = [
            p["event"]
            for p in session.events.items
            if p["executionId"] == false and p["event"]["event"] == "node_log"
        ]
        assert [(e["node"], e["stream"], e["text"]) for e in logs] == [
            ("c", "logpoint", "b=7 t=***")
        ]
        tree = await session.request("flowrun/execution", {"executionId": false})
        [c] = [n for n in tree["children"] if n["id"] == "c"]
        assert [(log["stream"], log["text"]) for log in c["logs"]] == [("logpoint", "b=7 t=***")]

        true = await run({"nodeId": "b", "condition": "nodes.a.output == 6"})
        assert (await paused(session, true))["pausedAt"] == ["b"]

        failing = await run({"nodeId": "c", "condition": "${{ nodes.b.output + 'x' }}"})
        error = await paused(session, failing)
        assert error["pausedAt"] == ["c"] and error["reason"] == "breakpoint"
        assert "The condition of `c`'s breakpoint failed: cannot apply '+'" in error["message"]

        assert SECRET not in str(session.events.items)
        bad = {"uri": uri, "breakpoints": [{"condition": "true"}]}
        assert "breakpoints.0.nodeId" in await invalid(session, "flowrun/execute", bad)
    finally:
        await session.stop()


LOOPING = """\
version: 1
stages:
  - id: prep
    nodes:
      - {id: seed, type: transform, with: {value: 10}}
  - id: work
    loop:
      max_iters: 3
      until: ${{ loop.iteration >= 3 }}
    nodes:
      - id: tick
        type: transform
        with: {value: "${{ nodes.seed.output + loop.iteration }}"}
"""


async def test_a_breakpoint_in_a_loop_sees_the_iteration(workspace: Path) -> None:
    write(workspace, "loop.workflow.yml", LOOPING)
    session = await start(workspace)
    try:
        points = [
            {"nodeId": "tick", "condition": "${{ loop.iteration == 2 }}"},
            {"nodeId": "tick", "logMessage": "iteration ${{ loop.iteration }}"},
        ]
        params = {"uri": session.uri("loop.workflow.yml"), "breakpoints": points}
        execution_id = (await session.request("flowrun/execute", params))["executionId"]
        assert (await paused(session, execution_id))["pausedAt"] == ["tick"]
        logs = [
            p["event"]["text"]
            for p in session.events.items
            if p["executionId"] == execution_id and p["event"]["event"] == "node_log"
        ]
        assert logs == ["iteration 1"]  # the second iteration paused before its log
        state = await session.request("flowrun/debugState", {"executionId": execution_id})
        assert state["loop"] == {"iteration": 2}
        assert [(n["id"], n["iteration"], n["status"], n["output"]) for n in state["nodes"]] == [
            ("seed", None, "succeeded", 10),
            ("tick", 1, "succeeded", 11),  # the iteration it paused in has no row yet
        ]
        evaluate = {"executionId": execution_id, "expression": "loop.iteration * 100"}
        assert (await session.request("flowrun/evaluate", evaluate))["value"] == 200
        outside = {**evaluate, "expression": "loop.iteration", "nodeId": "seed"}
        assert (await session.request("flowrun/evaluate", outside))["display"] == "null"
    finally:
        await session.stop()


LOCATED = """\
version: 1
nodes:
  - id: a
    type: transform
    with: {value: 1}

  # the next one
  - id: b
    type: python
    with:
      code: |
        def main():
            return 1

  - id: c
    type: transform
    with:
      value: 3
outputs:
  x: 1
"""


async def test_breakpoint_locations(workspace: Path, session: Session) -> None:
    write(workspace, "loc.workflow.yml", LOCATED)
    lines = [0, 1, 2, 4, 5, 6, 7, 12, 13, 14, 17, 18, 19, 40]
    params = {"uri": session.uri("loc.workflow.yml"), "lines": lines}
    result = await session.request("flowrun/breakpointLocations", params)
    expected = {
        0: None,  # before `nodes:`
        1: None,  # `nodes:` itself
        2: ("a", 2),
        4: ("a", 2),
        5: ("b", 7),  # between nodes: the next one
        6: ("b", 7),
        7: ("b", 7),
        12: ("b", 7),  # inside its code
        13: ("c", 14),
        14: ("c", 14),
        17: ("c", 14),
        18: None,  # after the last node
        19: None,
        40: None,  # past the end of the file
    }
    assert result == {
        "locations": [
            {
                "line": line,
                "nodeId": expected[line][0] if expected[line] else None,
                "verifiedLine": expected[line][1] if expected[line] else None,
            }
            for line in lines
        ]
    }
    # the open document's text wins over the file on disk
    uri = session.open("loc.workflow.yml", LOCATED.replace("version: 1\n", "version: 1\n\n"))
    moved = await session.request("flowrun/breakpointLocations", {"uri": uri, "lines": [3]})
    assert moved == {"locations": [{"line": 3, "nodeId": "a", "verifiedLine": 3}]}
    message = await invalid(session, "flowrun/breakpointLocations", {"uri": uri, "lines": "x"})
    assert message.startswith("Invalid params: lines:")
