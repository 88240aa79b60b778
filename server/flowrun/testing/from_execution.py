""" "Add as test": a recorded execution → a new entry of the file's `tests:`.

The test has the execution's inputs and trigger, mocks for its `llm`, `http` and `agent`
nodes taken from what they returned (or their error), and expects its status, its outputs
and (when it failed) its error type. The text is inserted after the last test, or as a new
`tests:` section at the end of the file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from flowrun.spec.loader import load_yaml

MOCKED_TYPES = ("llm", "http", "agent")
_TRIGGER_KEYS = ("method", "path", "headers", "query", "body")


@dataclass(frozen=True)
class TestEdit:
    __test__ = False  # not a pytest class

    line: int  # where the text goes (0-based line and character)
    character: int
    text: str
    name: str
    name_line: int  # 0-based line of the new `- name:` once inserted


def entry_of(tree: Mapping[str, Any], name: str) -> dict[str, Any]:
    """The test entry (plain data) for an execution tree (design §7)."""
    entry: dict[str, Any] = {"name": name}
    if tree.get("inputs"):
        entry["inputs"] = tree["inputs"]
    trigger = _trigger(tree.get("trigger"))
    if trigger:
        entry["trigger"] = trigger
    mock: dict[str, Any] = {}
    for node_id, runs in _nodes(tree).items():
        results = [_mock(n) for n in runs if n.get("type") in MOCKED_TYPES]
        if results and None not in results:  # a loop node: one result per iteration
            mock[node_id] = results if runs[0].get("iteration") is not None else results[0]
    if mock:
        entry["mock"] = mock
    expect: dict[str, Any] = {"status": tree.get("status")}
    if tree.get("outputs"):
        expect["outputs"] = tree["outputs"]
    error = tree.get("error")
    if isinstance(error, Mapping) and error.get("type"):
        expect["error"] = {"type": error["type"]}
    entry["expect"] = expect
    return entry


def new_test_edit(text: str, path: Path, tree: Mapping[str, Any]) -> TestEdit:
    loaded = load_yaml(text)
    data = loaded.data if isinstance(loaded.data, dict) else {}
    found = data.get("tests")
    tests: list[Any] = found if isinstance(found, list) else []
    taken = {str(t.get("name")) for t in tests if isinstance(t, dict)}
    name = _unique(f"execution {str(tree.get('id', ''))[:8]}", taken)
    entry = entry_of(tree, name)
    lines = text.splitlines()
    index = loaded.source.index
    if tests:
        end = loaded.source.values[("tests",)][1]
        column = index.position(loaded.source.values[("tests", 0)][0]).character - 2
        item = _yaml_item(entry, " " * max(column, 0))
        at = index.position(end)
        if at.character > 0:  # the last test ends inside a line: start on the next one
            return TestEdit(at.line, at.character, "\n" + item.rstrip("\n"), name, at.line + 1)
        return TestEdit(at.line, 0, item, name, at.line)
    block = ("" if not text or text.endswith("\n") else "\n") + "tests:\n" + _yaml_item(entry, "  ")
    last = len(lines)
    if text and not text.endswith("\n"):
        return TestEdit(last - 1, len(lines[-1]), block, name, last + 1)
    return TestEdit(last, 0, block, name, last + 1)


def _yaml_item(entry: dict[str, Any], indent: str) -> str:
    dumped = yaml.safe_dump(
        [entry], sort_keys=False, allow_unicode=True, default_flow_style=False, width=100
    )
    return "".join(indent + line if line.strip() else line for line in dumped.splitlines(True))


def _unique(name: str, taken: set[str]) -> str:
    candidate, number = name, 2
    while candidate in taken:
        candidate, number = f"{name} ({number})", number + 1
    return candidate


def _trigger(trigger: Any) -> dict[str, Any]:
    if not isinstance(trigger, Mapping):
        return {}
    return {k: trigger[k] for k in _TRIGGER_KEYS if trigger.get(k) not in (None, {}, "")}


def _mock(node: Mapping[str, Any]) -> Any:
    if node.get("status") == "succeeded":
        return node.get("output")
    error = node.get("error")
    if node.get("status") == "failed" and isinstance(error, Mapping):
        return {"error": {"type": error.get("type"), "message": error.get("message")}}
    return None


def _nodes(tree: Mapping[str, Any]) -> dict[str, list[Mapping[str, Any]]]:
    """Each node's elements (in a loop: one per iteration, in order)."""
    found: dict[str, list[Mapping[str, Any]]] = {}
    for child in tree.get("children") or []:
        for node in child.get("children") or [] if child.get("kind") == "stage" else [child]:
            found.setdefault(str(node.get("id")), []).append(node)
    return found
