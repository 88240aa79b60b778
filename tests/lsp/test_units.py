"""In-process checks of the pure helpers behind the LSP features (no server process)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pygls.exceptions import JsonRpcInvalidParams

from flowrun.humanize import format_duration
from flowrun.lsp import protocol
from flowrun.lsp.codelens import last_run_title
from flowrun.lsp.completion import ancestors, complete, keys_for
from flowrun.lsp.convert import path_to_uri_or
from flowrun.lsp.hover import walk
from flowrun.lsp.outline import Outline, build_outline, workflow_stem
from flowrun.lsp.settings import Settings
from flowrun.spec.loader import load_yaml
from lsp.workflows import NODES, STAGES


def test_settings_merge() -> None:
    base = Settings()
    assert base.max_concurrent_runs == 4
    merged = base.merged({"python": "/py", "maxConcurrentRuns": 2, "historyPath": "${x}/h"})
    assert (merged.python, merged.max_concurrent_runs, merged.history_path) == ("/py", 2, None)
    assert base.merged({"flowrun": {"max_concurrent_runs": 0}}) == base
    assert base.merged({"flowrun.python": "/p"}).python == "/p"
    assert base.merged(None) == base
    assert base.merged("nonsense") == base
    root = Path("/ws")
    assert base.history_file(root) == root / ".flowrun" / "history.sqlite3"
    assert Settings(history_path="/abs/h.db").history_file(root) == Path("/abs/h.db")
    assert Settings(history_path="rel/h.db").history_file(root) == root / "rel" / "h.db"


def test_durations_and_titles() -> None:
    assert format_duration(12) == "12 ms"
    assert format_duration(2100) == "2.1 s"
    assert format_duration(125_000) == "2 min 5 s"
    stats = {"lastStatus": "failed", "executionCount": 1, "lastDurationMs": None}
    assert last_run_title(stats) == "✗ failed · 1 run"
    stats = {"lastStatus": "succeeded", "executionCount": 14, "lastDurationMs": 2100}
    assert last_run_title(stats) == "✓ 2.1 s · 14 runs"
    stats.update(lastLlmCalls=3, lastCostUsd=0.0041)
    assert last_run_title(stats) == "✓ 2.1 s · $0.0041 · 3 LLM calls · 14 runs"
    stats.update(lastLlmCalls=1, lastCostUsd=None)  # a model without a price: no cost shown
    assert last_run_title(stats) == "✓ 2.1 s · 1 LLM call · 14 runs"


def outline_of(text: str, name: str) -> Outline:
    return build_outline(load_yaml(text).source, name)


def test_outline_edges() -> None:
    assert workflow_stem("/x/a.workflow.yaml") == "a"
    assert workflow_stem("/x/b.yml") == "b"
    assert workflow_stem("/x/c") == "c"
    assert outline_of("- a\n- b\n", "x.workflow.yml").parsed is False
    named = outline_of("id: named\nnodes:\n  - type: shell\n", "x.workflow.yml")
    assert (named.workflow_id, named.nodes) == ("named", ())
    stages = outline_of(STAGES + "  - mode: parallel\n", "s.workflow.yml")
    assert [s.id for s in stages.stages] == ["plan", "build"]
    refs = outline_of("v: ${{ nodes.a.output['x-y'][0] }}\n", "r.workflow.yml").refs
    assert refs[0].path == ("output", "x-y", 0)
    assert outline_of("a: [\n", "x.workflow.yml").parsed is False


def test_completion_contexts() -> None:
    outline = outline_of(NODES, "a.workflow.yml")
    lines = NODES.splitlines()
    assert ancestors(lines, 8, "      ") == ["nodes", "[]", "with"]
    assert keys_for(["trigger"], outline, 0)[0] == "type"
    assert keys_for(["inputs", "style"], outline, 0)[0] == "type"
    assert keys_for(["stages", "[]"], outline, 0)[0] == "id"
    assert keys_for(["unknown"], outline, 0) == ()
    trigger = ["version: 1", "trigger:", "  type: "]
    assert [i.label for i in complete(outline, trigger, 2, "  type: ")] == ["manual", "http"]
    inputs = ["inputs:", "  a:", "    type: "]
    assert complete(outline, inputs, 2, "    type: ")[0].label == "string"
    needs = [*lines[:12], "    needs:", "      - "]
    assert [i.label for i in complete(outline, needs, 13, "      - ")] == ["fetch"]
    assert complete(outline, lines, 2, "  style: {") == []
    assert complete(outline, lines, 13, "${{ trigger.")[0].label == "method"
    assert [i.label for i in complete(outline, lines, 13, "${{ env.")] == []
    agent = outline_of("nodes:\n  - id: a\n    type: nope\n", "x.workflow.yml")
    providers = [i.label for i in complete(agent, ["      provider: "], 0, "      provider: ")]
    assert "claude-code" in providers and "groq" in providers


def test_walk_and_uris() -> None:
    assert walk({"a": [1, {"b": 2}]}, ("a", 1, "b")) == 2
    assert walk({"a": [1]}, ("a", 5)) is None
    assert walk(3, ("x",)) is None
    assert path_to_uri_or(None, "file:///a") == "file:///a"
    assert path_to_uri_or("file:///b", "file:///a") == "file:///b"
    assert path_to_uri_or("/c/d.yml", "file:///a") == "file:///c/d.yml"


def test_params() -> None:
    class Tupled:  # what pygls makes of an object it has no type for
        def __init__(self, **values: object) -> None:
            self.values = values

        def _asdict(self) -> dict[str, object]:
            return self.values

    parsed = protocol.parse(protocol.ExecuteParams, Tupled(uri="file:///x", fromNode="n"))
    assert (parsed.uri, parsed.from_node) == ("file:///x", "n")
    assert protocol.parse(protocol.HistoryParams, None).limit == 50
    with pytest.raises(JsonRpcInvalidParams, match=r"^Invalid params: executionId: "):
        protocol.parse(protocol.ExecutionRef, {"executionId": ""})
    error = protocol.flowrun_error({"type": "X", "message": "Broke.", "suggestion": "Fix it."})
    assert (error.message, error.code) == ("Broke. Fix it.", protocol.FLOWRUN_ERROR)
    assert protocol.to_plain([("a", 1)]) == [["a", 1]]
