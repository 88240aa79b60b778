"""plan.py: edges, loops, pins and given outputs, before anything runs."""

from __future__ import annotations

from conftest import node, stage, workflow
from flowrun_engine.plan import RetryPolicy, build_plan, referenced_nodes


def test_sequential_stage_chains_nodes_and_parallel_stage_keeps_explicit_needs() -> None:
    wf = workflow(
        stages=[
            stage("seq", node("a"), node("b"), node("c")),
            stage("par", node("x"), node("y", needs=["x"]), node("z", needs="a"), mode="parallel"),
        ]
    )["workflow"]
    plan = build_plan(wf)
    assert plan.nodes["a"].after == frozenset()
    assert plan.nodes["b"].after == {"a"}
    assert plan.nodes["c"].after == {"b"}
    assert plan.nodes["x"].after == frozenset()
    assert plan.nodes["y"].after == {"x"}
    # a need on an earlier stage is data only: the stage barrier already orders it
    assert plan.nodes["z"].after == frozenset()
    assert plan.nodes["z"].data == {"a"}
    assert plan.nodes["z"].stage == "par" and plan.nodes["z"].stage_index == 1


def test_data_edges_include_nodes_read_by_expressions() -> None:
    params = {
        "value": ["${{ nodes.a.output }}", {"k": "x ${{ nodes['b'].output.k }}"}],
        "bad": "${{ nodes. }}",
        "n": 3,
        "s": "${{ nodes.c.status }}",
    }
    assert referenced_nodes(params) == {"a", "b"}
    plan = build_plan(
        workflow(node("a"), node("b"), node("c", with_=params, needs=["a"]))["workflow"]
    )
    assert plan.nodes["c"].data == {"a", "b"}
    assert plan.nodes["c"].after == {"a"}


def test_loop_pin_given_retry_and_plan_event() -> None:
    wf = workflow(
        stages=[
            stage(
                "review",
                node("check", name="Check it", retry={"attempts": 3, "backoff": 0.5}),
                loop={"max_iters": 3, "until": "${{ true }}", "fallback": "report"},
            ),
            stage("report", node("r", has_pin=True, pin={"ok": 1}), node("g")),
        ]
    )["workflow"]
    plan = build_plan(wf, {"g": 5})
    assert plan.stages[0].loop is not None
    assert plan.stages[0].loop.max_iters == 3 and plan.stages[0].loop.fallback == "report"
    assert plan.stages[1].loop is None
    assert plan.nodes["r"].pinned and plan.nodes["r"].fixed and plan.nodes["r"].pin == {"ok": 1}
    assert plan.nodes["g"].given and plan.nodes["g"].fixed
    assert not plan.nodes["check"].fixed
    assert plan.nodes["check"].retry == RetryPolicy(
        attempts=3, backoff=0.5, factor=2.0, max_delay=30.0
    )
    assert plan.stage_index("report") == 1
    assert plan.to_event() == {
        "stages": [
            {
                "id": "review",
                "loop": True,
                "nodes": [{"id": "check", "type": "transform", "name": "Check it"}],
            },
            {
                "id": "report",
                "loop": False,
                "nodes": [
                    {"id": "r", "type": "transform", "name": None},
                    {"id": "g", "type": "transform", "name": None},
                ],
            },
        ]
    }


def test_retry_delay_is_exponential_and_capped() -> None:
    policy = RetryPolicy(attempts=5, backoff=1.0, factor=3.0, max_delay=5.0)
    assert [policy.delay(n) for n in (1, 2, 3, 4)] == [1.0, 3.0, 5.0, 5.0]


def test_defaults_for_sparse_nodes() -> None:
    wf = {"stages": [{"id": None, "nodes": [{"id": "a", "type": "shell"}]}]}
    plan = build_plan(wf)
    a = plan.nodes["a"]
    assert (a.timeout, a.on_failure, a.retry.attempts, a.params, a.code_line) == (
        60.0,
        "stop",
        1,
        {},
        None,
    )
    assert plan.outputs == {}
