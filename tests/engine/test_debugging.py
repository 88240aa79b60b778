"""The debugger's side of pausing (issue 17), each run in-process and as a real child:
conditional breakpoints (true, false, failing), logpoints (an expression, a masked secret)
a step (the nodes released first run, then the run pauses before the next one), and the
breakpoints replaced while it runs (`flowrun/setBreakpoints`: a file and SIGUSR2)."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path
from typing import Any

from conftest import Child, Engine, EngineRun, node, workflow


def chain(**options: Any) -> dict[str, Any]:
    """a → b → c, b reading a's output, c reading b's."""
    return workflow(
        node("a", with_={"value": 2}),
        node("b", needs=["a"], with_={"value": "${{ nodes.a.output * 10 }}"}),
        node("c", needs=["b"], with_={"value": "${{ nodes.b.output + 1 }}"}),
        inputs={"limit": 1},
        **options,
    )


def ran(run: EngineRun) -> list[str]:
    return [e["node"] for e in run.of("node_started")]


def test_a_plain_breakpoint_pauses_before_its_node(engine: Engine) -> None:
    run = engine(chain(breakpoints=[{"node_id": "b"}]))
    assert run.status == "paused" and ran(run) == ["a"]
    assert run.finished["error"]["pausedAt"] == ["b"]
    assert run.finished["error"]["reason"] == "breakpoint"
    assert "iteration" not in run.finished["error"]  # not in a loop


def test_a_condition_sees_what_the_node_sees(engine: Engine) -> None:
    true = engine(chain(breakpoints=[{"node_id": "b", "condition": "${{ nodes.a.output > 1 }}"}]))
    assert true.status == "paused" and true.finished["error"]["pausedAt"] == ["b"]
    # a bare expression is accepted as well; false: the run goes on
    false = engine(chain(breakpoints=[{"node_id": "b", "condition": "nodes.a.output > 5"}]))
    assert false.status == "succeeded" and ran(false) == ["a", "b", "c"]
    by_input = engine(chain(breakpoints=[{"node_id": "c", "condition": "inputs.limit == 1"}]))
    assert by_input.finished["error"]["pausedAt"] == ["c"]


def test_a_failing_condition_pauses_and_says_why(engine: Engine) -> None:
    run = engine(chain(breakpoints=[{"node_id": "b", "condition": "${{ nodes.a.output + 'x' }}"}]))
    assert run.status == "paused" and ran(run) == ["a"]
    error = run.finished["error"]
    assert error["pausedAt"] == ["b"] and error["reason"] == "breakpoint"
    assert "The condition of `b`'s breakpoint failed: cannot apply '+'" in error["message"]
    broken = engine(chain(breakpoints=[{"node_id": "b", "condition": "${{ (( }}"}]))
    assert broken.status == "paused" and "failed" in broken.finished["error"]["message"]


def test_a_logpoint_logs_with_expressions_and_masks_secrets(engine: Engine) -> None:
    secret = "hunter2-the-secret"
    resolved = chain(
        secrets=["TOKEN"],
        breakpoints=[
            {
                "node_id": "b",
                "log_message": "a gave ${{ nodes.a.output }} with ${{ secrets.TOKEN }}",
            },
            {"node_id": "c", "log_message": "bad ${{ 1 + 'x' }}"},
            {"node_id": "c", "log_message": "never", "condition": "${{ false }}"},
        ],
    )
    run = engine(resolved, {"TOKEN": secret})
    assert run.status == "succeeded" and ran(run) == ["a", "b", "c"]
    [log] = run.of("node_log", "b")
    assert log["stream"] == "logpoint" and log["text"] == "a gave 2 with ***"
    assert log["iteration"] is None and log["stage"] is None
    [bad] = run.of("node_log", "c")
    assert bad["text"].startswith("logpoint failed:")
    assert secret not in run.raw
    # logged just before the node starts, as a debugger shows it
    names = [(e["event"], e.get("node")) for e in run.events]
    assert names.index(("node_log", "b")) == names.index(("node_started", "b")) - 1


def test_a_step_runs_the_ready_nodes_then_pauses(engine: Engine) -> None:
    fan = workflow(
        node("a"),
        node("b"),
        node("c", needs=["a"]),
        node("d", needs=["c"]),
        step=True,
    )
    run = engine(fan)
    assert run.status == "paused" and sorted(ran(run)) == ["a", "b"]
    assert run.finished["error"]["reason"] == "step"
    assert run.finished["error"]["pausedAt"] == ["c"]
    # a resume past `c` with a step runs `c` alone and pauses before `d`
    given = {"given_outputs": {"a": "a", "b": "b"}, "resume_past": ["c"]}
    resumed = engine({**fan, "options": {**fan["options"], **given}})
    assert ran(resumed) == ["c"] and resumed.finished["error"]["pausedAt"] == ["d"]


def _gated(tmp_path: Path, **options: Any) -> dict[str, Any]:
    """a (waits for the file `go`) → b → c."""
    wait = f"while [ ! -e {tmp_path / 'go'} ]; do sleep 0.02; done"
    return workflow(
        node("a", "shell", with_={"run": wait}),
        node("b", needs=["a"]),
        node("c", needs=["b"]),
        **options,
    )


def _change_breakpoints_mid_run(
    tmp_path: Path, resolved: dict[str, Any], points: list[dict[str, Any]]
) -> EngineRun:
    """While `a` runs, the supervisor's way: the file replaced whole, then SIGUSR2."""
    file = tmp_path / "breakpoints.json"
    child = Child.start(resolved, {"FLOWRUN_BREAKPOINTS": str(file)})
    child.wait_for(lambda e: e["event"] == "node_started" and e["node"] == "a")
    (tmp_path / "new.json").write_text(json.dumps(points))
    os.replace(tmp_path / "new.json", file)
    child.proc.send_signal(signal.SIGUSR2)
    (tmp_path / "go").touch()
    return child.finish()


def test_a_breakpoint_set_mid_run_pauses_before_a_later_node(tmp_path: Path) -> None:
    run = _change_breakpoints_mid_run(tmp_path, _gated(tmp_path), [{"node_id": "c"}])
    assert run.status == "paused" and ran(run) == ["a", "b"]
    assert run.finished["error"]["pausedAt"] == ["c"]


def test_a_breakpoint_removed_mid_run_pauses_nowhere(tmp_path: Path) -> None:
    resolved = _gated(tmp_path, breakpoints=[{"node_id": "c"}])
    run = _change_breakpoints_mid_run(tmp_path, resolved, [])
    assert run.status == "succeeded" and ran(run) == ["a", "b", "c"]


def test_the_editors_breakpoints_are_replaced_and_break_before_stays(tmp_path: Path) -> None:
    resolved = _gated(tmp_path, breakpoints=[{"node_id": "b"}], break_before=["c"])
    run = _change_breakpoints_mid_run(tmp_path, resolved, [{"node_id": "nowhere"}])
    assert run.status == "paused" and ran(run) == ["a", "b"]
    assert run.finished["error"]["pausedAt"] == ["c"]
