"""Status functions in `when` (success(), failure(), always(), cancelled(), nodes.X.status),
with GitHub Actions' semantics: a node whose `when` uses one decides for itself."""

from __future__ import annotations

import pytest

from conftest import Engine, node, stage, workflow

FAIL = {"run": "echo boom >&2; exit 3"}
OK = {"run": "true"}


@pytest.mark.parametrize(("risky", "notified"), [(FAIL, "succeeded"), (OK, "skipped")])
def test_a_failure_handler_runs_only_when_what_it_needs_failed(
    engine: Engine, risky: dict[str, str], notified: str
) -> None:
    run = engine(
        workflow(
            node("risky", "shell", with_=risky),
            node("notify", needs=["risky"], when="${{ failure() }}", with_={"value": "sent"}),
            node("plain", needs=["risky"]),
        )
    )
    assert run.node_status("notify") == notified
    assert run.node_status("plain") == ("skipped" if risky is FAIL else "succeeded")
    assert run.status == ("failed" if risky is FAIL else "succeeded")
    if notified == "succeeded":
        assert run.output("notify") == "sent"


def test_always_runs_after_a_failure_that_stops_the_run_and_success_does_not(
    engine: Engine,
) -> None:
    run = engine(
        workflow(
            node("risky", "shell", with_=FAIL),
            node("cleanup", needs=["risky"], when="${{ always() }}"),
            node("explicit", needs=["risky"], when="${{ success() }}"),
            node("by_status", needs=["risky"], when="${{ nodes.risky.status == 'failed' }}"),
            node("unrelated_later", needs=["cleanup"]),
        )
    )
    assert run.node_status("cleanup") == "succeeded"
    assert run.node_status("explicit") == "skipped"
    assert run.node_status("by_status") == "succeeded"
    assert run.node_status("unrelated_later") == "skipped"  # the run is failing: no success()
    assert run.status == "failed" and run.finished["error"]["node"] == "risky"


def test_a_failure_handler_in_a_later_stage_runs_after_the_run_halted(engine: Engine) -> None:
    run = engine(
        workflow(
            stages=[
                stage("build", node("compile", "shell", with_=FAIL)),
                stage("test", node("unit", with_={"value": 1})),
                stage(
                    "report",
                    node("on_fail", when="${{ failure() }}"),
                    node("on_ok", when="${{ success() }}"),
                    mode="parallel",
                ),
            ]
        )
    )
    assert run.node_status("unit") == "skipped"
    assert run.node_status("on_fail") == "succeeded"
    assert run.node_status("on_ok") == "skipped"
    assert run.status == "failed"


def test_status_functions_outside_when_fail_the_node(engine: Engine) -> None:
    run = engine(workflow(node("a", with_={"value": "${{ failure() }}"})))
    assert run.node_status("a") == "failed"
    assert "failure() can only be used in a node's `when`" in run.finished["error"]["message"]
