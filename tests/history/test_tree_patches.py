"""tree_patches on a real store: a client that only replaces by key stays equal to the tree."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from flowrun.history.store import HistoryStore
from flowrun.history.tree_patches import TreePatch, patch_for

T0 = 1_700_000_000.0
STAGED = {
    "stages": [
        {"id": "prep", "loop": False, "nodes": [{"id": "a", "type": "shell"}]},
        {"id": "review", "loop": True, "nodes": [{"id": "c", "type": "agent"}]},
    ]
}
FLAT = {"stages": [{"id": None, "loop": False, "nodes": [{"id": "a"}, {"id": "b"}]}]}


def at(t: float, event: str, **fields: Any) -> dict[str, Any]:
    return {"event": event, "t": T0 + t, **fields}


def node(t: float, event: str, node_id: str, stage: str | None, it: int | None, **fields: Any):  # type: ignore[no-untyped-def]
    return at(t, event, node=node_id, stage=stage, iteration=it, **fields)


def staged_run() -> list[dict[str, Any]]:
    return [
        at(0, "execution_started", plan=STAGED),
        at(1, "stage_started", stage="prep", iteration=None),
        node(1, "node_started", "a", "prep", None, attempt=1, input={"x": 1}),
        node(2, "node_log", "a", "prep", None, stream="stdout", text="hello"),
        node(3, "node_retry", "a", "prep", None, attempt=1, delay=0, error={"message": "x"}),
        node(3, "node_started", "a", "prep", None, attempt=2, input={"x": 1}),
        node(4, "node_finished", "a", "prep", None, attempt=2, status="succeeded", output=1),
        at(4, "stage_finished", stage="prep", iteration=None, status="succeeded"),
        at(5, "stage_started", stage="review", iteration=1),
        node(5, "node_started", "c", "review", 1, attempt=1, input={}),
        node(6, "node_log", "c", "review", 1, stream="stderr", text="first"),
        node(6, "node_finished", "c", "review", 1, attempt=1, status="succeeded", output=2),
        at(6, "stage_finished", stage="review", iteration=1, status="succeeded"),
        at(7, "stage_started", stage="review", iteration=2),
        node(7, "node_started", "c", "review", 2, attempt=1, input={}),
        node(8, "node_log", "c", "review", 2, stream="stdout", text="second"),
        node(8, "node_finished", "c", "review", 2, attempt=1, status="failed", error={"m": 1}),
        at(8, "stage_finished", stage="review", iteration=2, status="failed"),
        at(9, "execution_finished", status="failed", outputs=None, error={"message": "no"}),
    ]


def flat_run() -> list[dict[str, Any]]:
    return [
        at(0, "execution_started", plan=FLAT),
        node(1, "node_started", "a", None, None, attempt=1, input=None),
        node(1, "node_log", "a", None, None, stream="stdout", text="line"),
        node(2, "node_finished", "a", None, None, attempt=1, status="succeeded", output={}),
        at(3, "execution_finished", status="succeeded", outputs={"ok": True}, error=None),
    ]


def key(element: dict[str, Any]) -> tuple[Any, ...]:
    return (element["kind"], element.get("stage"), element["id"], element.get("iteration"))


def nodes_of(tree: dict[str, Any]) -> list[dict[str, Any]]:
    return [n for c in tree["children"] for n in (c["children"] if c["kind"] == "stage" else [c])]


def keep_logs(new: dict[str, Any], old: dict[str, Any] | None) -> dict[str, Any]:
    """What the extension does: replace by key, keep the log lines it already has."""
    known = {key(n): n.get("logs", []) for n in nodes_of(old)} if old else {}
    for n in nodes_of(new) if "children" in new else [new]:
        n["logs"] = known.get(key(n), [])
    return new


def apply(tree: dict[str, Any] | None, patch: TreePatch) -> dict[str, Any]:
    if "execution" in patch:
        return keep_logs(copy.deepcopy(patch["execution"]), tree)
    assert tree is not None
    if "logs" in patch:
        logs = patch["logs"]
        wanted = ("node", logs["stage"], logs["node"], logs["iteration"])
        [target] = [n for n in nodes_of(tree) if key(n) == wanted]
        target["logs"].extend(logs["lines"])
    elif "stage" in patch:
        index = [c["id"] for c in tree["children"]].index(patch["stage"]["id"])
        old = tree["children"][index]
        tree["children"][index] = keep_logs(copy.deepcopy(patch["stage"]), {"children": [old]})
    else:
        new = copy.deepcopy(patch["node"])
        for siblings in [
            tree["children"],
            *(c["children"] for c in tree["children"] if "children" in c),
        ]:
            for index, old in enumerate(siblings):
                if key(old) == key(new):
                    new["logs"] = old["logs"]
                    siblings[index] = new
    return tree


def lines(tree: dict[str, Any]) -> dict[tuple[Any, ...], list[tuple[str, str]]]:
    """Logs as the events carried them (the store adds its own `info` notes)."""
    return {
        key(n): [(line["stream"], line["text"]) for line in n["logs"] if line["stream"] != "info"]
        for n in nodes_of(tree)
    }


def without_logs(tree: dict[str, Any]) -> dict[str, Any]:
    copied = copy.deepcopy(tree)
    for n in nodes_of(copied):
        del n["logs"]
    return copied


@pytest.fixture
async def store(tmp_path: Path) -> Any:
    opened = await HistoryStore.open(tmp_path / ".flowrun" / "history.sqlite3")
    yield opened
    await opened.close()


@pytest.mark.parametrize("events", [staged_run(), flat_run()], ids=["staged-loop", "flat"])
async def test_patches_keep_a_client_tree_equal_to_the_stored_one(
    store: HistoryStore, events: list[dict[str, Any]]
) -> None:
    await store.create_execution(
        execution_id="e1", workflow_id="wf", file="/ws/wf.workflow.yml", trigger=None, inputs=None
    )
    client: dict[str, Any] | None = None
    for event in events:
        await (await store.record_event("e1", event))  # committed: what the announcer waits for
        patch = await patch_for(store, "e1", event)
        assert patch is not None, event
        client = apply(client, patch)
        stored = await store.execution_tree("e1")
        assert without_logs(client) == without_logs(stored), event
        assert lines(client) == lines(stored), event
    assert client is not None and client["status"] == events[-1]["status"]


async def test_a_patch_never_carries_a_whole_log(store: HistoryStore) -> None:
    await store.create_execution(
        execution_id="e1", workflow_id="wf", file="/f", trigger=None, inputs=None
    )
    for event in flat_run()[:3]:
        await store.record_event("e1", event)
    await store.flush()
    patch = await patch_for(store, "e1", flat_run()[0])
    assert patch is not None
    assert all("logs" not in n for n in nodes_of(patch["execution"]))
    assert await patch_for(store, "e1", {"event": "something_else"}) is None
