"""state.py: ready sets, skips, on_failure and loops, without running anything."""

from __future__ import annotations

from conftest import node, stage, workflow
from flowrun_engine.plan import build_plan
from flowrun_engine.state import Action, ExecutionState, NodeStatus

S, F = NodeStatus.SUCCEEDED, NodeStatus.FAILED


def state_of(*nodes: dict, stages: list | None = None, given: dict | None = None) -> ExecutionState:
    st = ExecutionState(build_plan(workflow(*nodes, stages=stages)["workflow"], given))
    st.begin_stage(0)
    return st


def test_fan_out_then_fan_in() -> None:
    st = state_of(
        node("a"), node("b", needs=["a"]), node("c", needs=["a"]), node("d", needs=["b", "c"])
    )
    assert st.release() == [("a", Action.RUN)]
    assert st.release() == []
    st.finish("a", S, output=1)
    assert st.release() == [("b", Action.RUN), ("c", Action.RUN)]
    st.finish("b", S)
    assert st.release() == []
    st.finish("c", S)
    assert st.release() == [("d", Action.RUN)]
    assert not st.stage_done()
    st.finish("d", S, output=4)
    assert st.stage_done() and st.stage_status(0) == "succeeded"
    assert st.outputs == {"a": 1, "b": None, "c": None, "d": 4}
    assert st.failures() == []
    assert st.nodes_context()["d"] == {"output": 4, "status": "succeeded"}


def test_skipped_node_skips_its_dependents_but_not_others() -> None:
    st = state_of(
        node("a"),
        node("b", needs=["a"]),
        node("c", with_={"v": "${{ nodes.b.output }}"}, needs=["a"]),
        node("d"),
    )
    assert st.release() == [("a", Action.RUN), ("d", Action.RUN)]
    st.finish("a", NodeStatus.SKIPPED)
    assert st.release() == [("b", Action.SKIP), ("c", Action.SKIP)]
    assert st.blocking_node("b") == "a"
    assert st.blocking_node("d") is None
    st.finish("d", S)
    assert st.stage_done() and st.stage_status(0) == "succeeded"


def test_failure_with_stop_halts_and_skips_pending() -> None:
    st = state_of(node("a"), node("b"), node("c", needs=["a"]))
    st.release()
    assert st.finish("a", F, error={"type": "ExecutionError", "message": "boom"}) is True
    assert st.halt() == ["c"]
    assert st.statuses["c"] is NodeStatus.SKIPPED
    assert st.release() == []
    st.finish("b", NodeStatus.STOPPED)
    assert st.stage_status(0) == "failed"
    assert st.failures() == [{"type": "ExecutionError", "message": "boom", "node": "a"}]


def test_failure_with_continue_lets_independent_branches_go_on() -> None:
    st = state_of(
        node("a", on_failure="continue"), node("b", needs=["a"]), node("c"), node("d", needs=["c"])
    )
    st.release()
    assert st.finish("a", F) is False
    st.finish("c", S)
    assert st.release() == [("b", Action.SKIP), ("d", Action.RUN)]
    st.finish("d", S)
    assert st.failures() == [{"type": "ExecutionError", "message": "failed", "node": "a"}]


def test_implicit_stage_chain_orders_but_does_not_skip() -> None:
    st = state_of(stages=[stage("s", node("a"), node("b"))])
    assert st.release() == [("a", Action.RUN)]
    st.finish("a", NodeStatus.SKIPPED)
    assert st.release() == [("b", Action.RUN)]


def test_pinned_and_given_nodes_are_fixed() -> None:
    st = state_of(
        node("a", has_pin=True, pin=[1]), node("b", needs=["a"]), node("g"), given={"g": "out"}
    )
    assert st.release() == [("a", Action.FIXED), ("b", Action.RUN), ("g", Action.FIXED)]
    assert st.statuses["a"] is S


def test_loop_iteration_resets_the_stage_and_latest_status_counts() -> None:
    st = state_of(
        stages=[
            stage(
                "loop",
                node("a", on_failure="continue"),
                loop={"max_iters": 2, "until": None, "fallback": None},
            ),
            stage("next", node("b")),
            stage("empty"),
        ]
    )
    st.release()
    st.finish("a", F)
    assert len(st.failures()) == 1
    st.begin_stage(0)
    assert st.statuses["a"] is NodeStatus.PENDING and st.failures() == []
    st.release()
    st.finish("a", S, output="ok")
    assert st.failures() == []
    assert st.skip_stage(1) == ["b"]
    assert st.stage_status(1) == "skipped"
    assert st.stage_status(2) == "succeeded"


def test_stopped_stage_status() -> None:
    st = state_of(node("a"))
    st.release()
    st.finish("a", NodeStatus.STOPPED)
    assert st.stage_status(0) == "stopped"
    assert NodeStatus.STOPPED.is_terminal and not NodeStatus.RUNNING.is_terminal
