"""tree.py as a pure function: stored rows → the design §7 tree and summaries."""

from __future__ import annotations

import json
from typing import Any

from flowrun.history import payloads
from flowrun.history.tree import build_tree, iso, summary, trigger_summary

T0 = 1_700_000_000.0

PLAN = {
    "stages": [
        {"id": "build", "loop": False, "nodes": [
            {"id": "a", "type": "shell", "name": "Fetch"}, {"id": "b", "type": "python"}]},
        {"id": "review", "loop": True, "nodes": [
            {"id": "c", "type": "agent"}, {"id": "d", "type": "shell"}]},
        {"id": "report", "loop": False, "nodes": [{"id": "e", "type": "transform"}]},
    ]
}  # fmt: skip


def execution(status: str = "succeeded", plan: Any = PLAN, **extra: Any) -> dict[str, Any]:
    row = {
        "id": "e" * 32, "workflow_id": "wf", "file": "/ws/wf.workflow.yml", "status": status,
        "trigger": json.dumps({"method": "POST", "path": "/go", "body": {"x": 1}}),
        "inputs": json.dumps({"n": 1}), "outputs": json.dumps({"r": 2}), "error": None,
        "plan": json.dumps(plan) if plan is not None else None, "created_at": T0,
        "started_at": T0 + 0.5, "finished_at": T0 + 9, "duration_ms": 8500, "mode": "test",
        "worker": "w1@host", "attempt": 2,
    }  # fmt: skip
    row.update(extra)
    return row


def node(node_id: str, stage: str | None, status: str, *, iteration: int = 0,
         attempt: int = 1, t: float = 1.0, **extra: Any) -> dict[str, Any]:  # fmt: skip
    row = {
        "node_id": node_id, "stage": stage, "iteration": iteration, "attempt": attempt,
        "status": status, "input": json.dumps({"in": node_id}),
        "output": json.dumps({"out": node_id}) if status == "succeeded" else None,
        "error": None, "logs": None, "started_at": T0 + t, "finished_at": T0 + t + 0.5,
        "duration_ms": 500, "given": 0,
    }  # fmt: skip
    row.update(extra)
    return row


def stage(stage_id: str, status: str, iteration: int = 0, t: float = 1.0) -> dict[str, Any]:
    return {"stage_id": stage_id, "iteration": iteration, "status": status,
            "started_at": T0 + t, "finished_at": T0 + t + 2}  # fmt: skip


def test_stages_loops_and_nodes_that_never_ran() -> None:
    nodes = [
        node("a", "build", "succeeded"),
        node("b", "build", "succeeded", t=2),
        node("c", "review", "succeeded", iteration=1, t=3),
        node("d", "review", "failed", iteration=1, t=4,
             error=json.dumps({"type": "ExecutionError", "message": "exit 1"})),
        node("c", "review", "succeeded", iteration=2, t=5),
        node("d", "review", "succeeded", iteration=2, t=6),
    ]  # fmt: skip
    stages = [stage("build", "succeeded"), stage("review", "failed", 1, 3),
              stage("review", "succeeded", 2, 5)]  # fmt: skip
    tree = build_tree(execution(), nodes, stages)
    assert tree["trigger"] == {"method": "POST", "path": "/go", "body": {"x": 1}}
    assert tree["inputs"] == {"n": 1} and tree["outputs"] == {"r": 2}
    assert tree["startedAt"] == iso(T0 + 0.5)
    build, review, report = tree["children"]
    assert [build["kind"], build["id"], build["status"], build["durationMs"]] == [
        "stage", "build", "succeeded", 2000,
    ]  # fmt: skip
    assert build["iterations"] is None and build["loop"] is False
    assert build["children"][0]["name"] == "Fetch"
    assert build["children"][0]["output"] == {"out": "a"}
    assert [(n["id"], n["iteration"], n["status"]) for n in review["children"]] == [
        ("c", 1, "succeeded"), ("d", 1, "failed"), ("c", 2, "succeeded"), ("d", 2, "succeeded"),
    ]  # fmt: skip
    assert review["children"][1]["error"]["message"] == "exit 1"
    assert review["status"] == "succeeded" and review["iterations"] == 2
    assert review["durationMs"] == 4000
    assert report["status"] == "skipped"
    assert report["children"][0]["status"] == "skipped"
    assert report["children"][0]["iteration"] is None


def test_an_active_execution_shows_pending_nodes() -> None:
    nodes = [node("a", "build", "running", finished_at=None, duration_ms=None)]
    tree = build_tree(execution("running"), nodes, [stage("build", "running")])
    build, review, report = tree["children"]
    assert build["status"] == "running"
    assert build["children"][0]["status"] == "running"
    assert build["children"][1]["status"] == "pending"
    assert review["status"] == "pending" and report["status"] == "pending"


def test_running_leftovers_of_an_ended_execution_show_stopped() -> None:
    nodes = [node("a", "build", "running")]
    tree = build_tree(execution("interrupted"), nodes, [stage("build", "running")])
    build = tree["children"][0]
    assert build["status"] == "stopped"
    assert build["children"][0]["status"] == "stopped"


def test_stage_status_is_derived_when_no_stage_row_exists() -> None:
    def status_of(statuses: list[str], active: bool = False) -> str:
        nodes = [
            node(n, "build", s, t=i) for i, (n, s) in enumerate(zip("ab", statuses, strict=False))
        ]
        plan = {"stages": [PLAN["stages"][0]]}
        tree = build_tree(execution("running" if active else "failed", plan), nodes, [])
        return str(tree["children"][0]["status"])

    assert status_of(["succeeded", "failed"]) == "failed"
    assert status_of(["succeeded", "stopped"]) == "stopped"
    assert status_of(["skipped", "skipped"]) == "skipped"
    assert status_of(["succeeded", "skipped"]) == "succeeded"
    assert status_of(["succeeded"], active=True) == "running"
    assert status_of([], active=True) == "pending"
    assert status_of([]) == "skipped"


def test_attempts_logs_and_retries_are_merged() -> None:
    first_log = payloads.log_line(T0 + 1, "stdout", "try 1", 1) + "not json\n"
    nodes = [
        node("a", None, "failed", attempt=1, logs=first_log,
             error=json.dumps({"type": "ExecutionError", "message": "flaky"})),
        node("a", None, "succeeded", attempt=2, t=3,
             logs=payloads.log_line(T0 + 3, "stderr", "try 2", 2), given=1),
    ]  # fmt: skip
    plan = {"stages": [{"id": None, "loop": False, "nodes": [{"id": "a", "type": "shell"}]}]}
    (only,) = build_tree(execution(plan=plan), nodes, [])["children"]
    assert only["kind"] == "node" and only["stage"] is None
    assert only["attempts"] == 2 and only["status"] == "succeeded" and only["given"] is True
    assert [entry["text"] for entry in only["logs"]] == ["try 1", "not json", "try 2"]
    assert only["logs"][0]["t"] == iso(T0 + 1) and only["logs"][1]["t"] is None
    assert only["retries"] == [
        {"attempt": 1, "error": {"type": "ExecutionError", "message": "flaky"}}
    ]
    assert only["startedAt"] == iso(T0 + 3)


def test_without_a_plan_rows_make_the_shape() -> None:
    nodes = [node("x", None, "succeeded"), node("y", "late", "failed", t=2),
             node("z", "late", "succeeded", t=3)]  # fmt: skip
    tree = build_tree(execution(plan=None), nodes, [])
    top, late = tree["children"]
    assert top["kind"] == "node" and top["id"] == "x" and top["type"] is None
    assert late["kind"] == "stage" and [n["id"] for n in late["children"]] == ["y", "z"]
    assert late["status"] == "failed"


def test_rows_outside_the_plan_are_still_shown() -> None:
    plan = {"stages": [{"id": None, "loop": False, "nodes": [{"id": "a"}, "junk"]}]}
    tree = build_tree(execution(plan=plan), [node("extra", None, "succeeded")], [])
    assert [c["id"] for c in tree["children"]] == ["a", "extra"]


def test_truncated_payloads_come_back_as_markers() -> None:
    big = payloads.dump({"blob": "z" * 400_000})
    (only,) = build_tree(execution(plan=None), [node("a", None, "succeeded", output=big)], [])[
        "children"
    ]
    assert only["output"]["size"] > 400_000
    assert "cut by flowrun" in only["output"][payloads.TRUNCATED_KEY]


def test_summaries() -> None:
    row = execution("failed", error=json.dumps(
        {"type": "NodeTimeout", "message": "slow", "traceback": "..."}))  # fmt: skip
    assert summary(row) == {
        "id": "e" * 32, "workflowId": "wf", "file": "/ws/wf.workflow.yml", "status": "failed",
        "mode": "test", "testName": None, "worker": "w1@host", "attempt": 2,
        "startedAt": iso(T0 + 0.5), "finishedAt": iso(T0 + 9), "durationMs": 8500,
        "trigger": "POST /go", "error": {"type": "NodeTimeout", "message": "slow"},
        "llmCalls": None, "inputTokens": None, "outputTokens": None, "costUsd": None,
        "traceId": None,
        "parentExecutionId": None,
        "fromNode": None,
    }  # fmt: skip
    queued = summary(execution("queued", started_at=None, finished_at=None, trigger=None))
    assert queued["startedAt"] == iso(T0) and queued["finishedAt"] is None
    assert queued["trigger"] == "manual"
    assert trigger_summary({"type": "manual"}) == "manual"
    assert trigger_summary({"path": "/only"}) == "/only"
    assert trigger_summary({"method": "GET", "path": "/", "headers": {}, "body": None}) == "manual"
    assert trigger_summary({"method": "GET", "path": "/", "query": {"q": 1}}) == "GET /"
    assert trigger_summary({}) == "manual"
    assert iso(None) is None and iso(0).startswith("1970-01-01T00:00:00.000Z")


def test_payload_helpers() -> None:
    assert payloads.load("not json") == "not json"
    assert payloads.load(None) is None and payloads.dump(None) is None
    assert payloads.load_logs(None) == [] and payloads.load_logs("") == []
    assert payloads.human_size(10) == "10 bytes"
    assert payloads.human_size(2048) == "2.0 KiB"
    assert payloads.human_size(3 * 1024 * 1024) == "3.0 MiB"
