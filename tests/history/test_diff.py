"""diff.py: two execution trees → what changed node by node."""

from __future__ import annotations

from typing import Any

from flowrun.history.diff import MAX_CHANGES, diff_trees, value_changes


def node(node_id: str, status: str = "succeeded", *, output: Any = None, error: Any = None,
         duration: int | None = 10, iteration: int | None = None) -> dict[str, Any]:  # fmt: skip
    return {"kind": "node", "id": node_id, "status": status, "output": output, "error": error,
            "durationMs": duration, "iteration": iteration}  # fmt: skip


def tree(run_id: str, status: str, children: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    base = {"id": run_id, "workflowId": "wf", "status": status, "startedAt": "2026-01-01T00:00Z",
            "durationMs": 100, "outputs": None, "children": children}  # fmt: skip
    base.update(extra)
    return base


def test_yesterday_passed_today_failed() -> None:
    a = tree("a1", "succeeded", [
        node("fetch", output={"status": 200, "body": {"items": [1, 2]}}),
        node("parse", output=[1, 2], duration=5),
        node("old"),
    ], outputs={"count": 2})  # fmt: skip
    b = tree("b2", "failed", [
        node("fetch", output={"status": 200, "body": {"items": [1, 2, 3]}, "extra": True}),
        node("parse", "failed", error={"type": "ExecutionError", "message": "bad row"},
             duration=7),
        node("new"),
    ], outputs={"count": None})  # fmt: skip
    result = diff_trees(a, b)
    assert result["a"]["id"] == "a1" and result["b"]["status"] == "failed"
    assert result["sameWorkflow"] is True
    assert result["summary"] == {"changed": 2, "added": 1, "removed": 1, "same": 0}
    fetch, parse, old, new = result["nodes"]
    assert fetch["change"] == "changed"
    assert fetch["output"]["changes"] == [
        {"path": "body.items[2]", "a": None, "b": 3},
        {"path": "extra", "a": None, "b": True},
    ]
    assert parse["status"] == {"a": "succeeded", "b": "failed"}
    assert parse["durationMs"] == {"a": 5, "b": 7, "delta": 2}
    assert parse["error"] == {"a": None, "b": "ExecutionError: bad row"}
    assert parse["output"]["changes"] == [{"path": "(whole value)", "a": [1, 2], "b": None}]
    assert old["change"] == "removed" and old["status"]["b"] is None
    assert new["change"] == "added" and new["durationMs"]["delta"] is None
    assert result["outputs"]["changes"] == [{"path": "count", "a": 2, "b": None}]


def test_stages_and_iterations_are_matched() -> None:
    def staged(outputs: list[Any]) -> dict[str, Any]:
        loop = [node("check", output=o, iteration=i + 1) for i, o in enumerate(outputs)]
        return tree("x", "succeeded", [{"kind": "stage", "id": "review", "children": loop}])

    result = diff_trees(staged([1, 2]), staged([1, 5, 6]))
    rows = [(r["stage"], r["id"], r["iteration"], r["change"]) for r in result["nodes"]]
    assert rows == [
        ("review", "check", 1, "same"),
        ("review", "check", 2, "changed"),
        ("review", "check", 3, "added"),
    ]
    other = diff_trees(staged([1]), {**staged([1]), "workflowId": "other"})
    assert other["sameWorkflow"] is False


def test_value_changes_are_capped_and_shortened() -> None:
    a = {f"k{i}": i for i in range(MAX_CHANGES + 5)}
    b = {f"k{i}": -i - 1 for i in range(MAX_CHANGES + 5)}
    result = value_changes(a, b)
    assert len(result["changes"]) == MAX_CHANGES and result["more"] == 5
    long = value_changes("x" * 500, {"big": "y" * 500})["changes"][0]
    assert long["a"].endswith("…") and len(long["a"]) == 120
    assert isinstance(long["b"], str) and long["b"].startswith('{"big"')
    assert value_changes([1, 2, 3], [1])["changes"] == [
        {"path": "[1]", "a": 2, "b": None},
        {"path": "[2]", "a": 3, "b": None},
    ]
    assert value_changes({"a": 1}, {"a": 1}) == {"changes": [], "more": 0}
    assert value_changes(1, True)["changes"] == [{"path": "(whole value)", "a": 1, "b": True}]
    assert value_changes({"x": [1]}, {"x": [1]})["changes"] == []
    assert value_changes({"gone": 1}, {})["changes"] == [{"path": "gone", "a": 1, "b": None}]
    small = value_changes(None, {"s": 1})["changes"][0]
    assert small["b"] == {"s": 1}


def test_string_errors_are_compared_as_text() -> None:
    a = tree("a", "failed", [node("n", "failed", error="plain text")])
    b = tree("b", "failed", [node("n", "failed", error="plain text")])
    (row,) = diff_trees(a, b)["nodes"]
    assert row["change"] == "same" and row["error"]["a"] == "plain text"
