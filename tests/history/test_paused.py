"""A paused execution in the history (issue 17), on SQLite and PostgreSQL: its pause is
recorded once (the service's own `finish` afterwards changes nothing), a restart never marks
it interrupted (nothing of it runs), node rows keep their definition hash, and a resume's
row names the paused execution and the node it started from."""

from __future__ import annotations

from test_store import NULL_PLAN, dead_pid, node

from flowrun.history.store import HistoryStore

PAUSE = {"type": "Paused", "message": "Paused before `b`.", "pausedAt": ["b"]}


async def test_a_paused_execution_is_a_checkpoint_a_resume_names(store: HistoryStore) -> None:
    await store.create_execution(
        execution_id="paused", workflow_id="wf", file="/f", trigger=None, inputs={"x": 1},
        status="running", owner_pid=dead_pid(),
    )  # fmt: skip
    await store.record_event("paused", {"event": "execution_started", "plan": NULL_PLAN})
    started = node("node_started", "a", attempt=1, input=None, config_hash="h-a")
    await store.record_event("paused", started)
    finished = node("node_finished", "a", attempt=1, status="succeeded", output={"v": 1})
    await store.record_event("paused", finished)
    end = {"event": "execution_finished", "status": "paused", "outputs": {}, "error": PAUSE}
    await store.record_event("paused", end)
    await store.finish("paused", status="paused", outputs={}, error=PAUSE)
    summary = (await store.list_executions(workflow_id="wf"))[0]
    assert summary["status"] == "paused"
    stats = await store.workflow_stats("wf", "/f")
    assert stats is not None and stats["executionCount"] == 1  # recorded once

    assert await store.mark_interrupted() == []  # its owner is gone: it waits for a resume
    tree = await store.execution_tree("paused")
    assert tree["status"] == "paused" and tree["error"]["pausedAt"] == ["b"]
    [a] = tree["children"]
    assert (a["status"], a["configHash"], a["output"]) == ("succeeded", "h-a", {"v": 1})
    assert await store.node_outputs("paused") == {"a": {"v": 1}}
    assert await store.node_hashes("paused") == {"a": "h-a"}  # `--changed` compares them

    await store.create_execution(
        execution_id="resumed", workflow_id="wf", file="/f", trigger=None, inputs={"x": 1},
        parent_execution_id="paused", from_node="a",
    )  # fmt: skip
    given = node("node_finished", "a", attempt=0, status="succeeded", output={"v": 1})
    await store.record_event("resumed", {**given, "given": True, "config_hash": "h-a"})
    await store.finish("resumed", status="succeeded", outputs={}, error=None)
    resumed = await store.execution_tree("resumed")
    assert (resumed["parentExecutionId"], resumed["fromNode"]) == ("paused", "a")
    assert resumed["children"][0]["configHash"] == "h-a"  # a given node keeps its hash
    assert await store.node_hashes("resumed") == {"a": "h-a"}
    listed = {e["id"]: e["parentExecutionId"] for e in await store.list_executions()}
    assert listed == {"paused": None, "resumed": "paused"}
