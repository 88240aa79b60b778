"""A test's `expect` against an execution tree (design §7) → the failed expectations.

Without `expect.status`, a test expects `succeeded`, or `failed` when it expects an `error`.
Outputs and node outputs are matched as values (`matchers.match`); errors by their fields
(`matchers.match_fields`). Each failure keeps the path of the expectation in the file, so a
report can point at its line.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from flowrun.spec.loader import JsonPath
from flowrun.spec.models import Expectation, NodeExpectation
from flowrun.testing.matchers import MISSING, Mismatch, match, match_fields


@dataclass(frozen=True)
class Failure:
    where: JsonPath  # in the file: ("tests", 0, "expect", "outputs", "summary", ...)
    message: str
    expected: Any
    actual: Any  # matchers.MISSING when there was nothing

    @property
    def label(self) -> str:
        """`expect.outputs.summary`: the expectation, as a dotted path."""
        return ".".join(str(p) for p in self.where[2:])


def check(expect: Expectation, tree: Mapping[str, Any], base: JsonPath) -> list[Failure]:
    """`base`: the test's path, ("tests", index)."""
    at = (*base, "expect")
    failures: list[Failure] = []
    failures += _status(expect, tree, at)
    for name, wanted in expect.outputs.items():
        outputs = tree.get("outputs") or {}
        found = match(wanted, outputs.get(name, MISSING) if isinstance(outputs, dict) else MISSING)
        failures += _located(found, (*at, "outputs", name))
    if "error" in expect.model_fields_set:
        found = match_fields(expect.error, tree.get("error") or MISSING)
        failures += _located(found, (*at, "error"))
    nodes = _last_elements(tree)
    for node_id, node_expect in expect.nodes.items():
        failures += _node(node_expect, nodes.get(node_id), (*at, "nodes", node_id))
    return failures


def _status(expect: Expectation, tree: Mapping[str, Any], at: JsonPath) -> list[Failure]:
    wanted = expect.status
    if wanted is None:
        wanted = "failed" if "error" in expect.model_fields_set else "succeeded"
    got = tree.get("status")
    if got == wanted:
        return []
    message = f"expected the execution to end {wanted}, it ended {got}"
    error = tree.get("error")
    if isinstance(error, Mapping) and error.get("message"):
        message += f" ({error.get('type')}: {error.get('message')})"
    return [Failure((*at, "status"), message, wanted, got)]


def _node(expect: NodeExpectation, element: Any, at: JsonPath) -> list[Failure]:
    if not isinstance(element, Mapping):
        return [Failure(at, "the node did not run", "a run of the node", MISSING)]
    failures: list[Failure] = []
    if expect.status is not None and element.get("status") != expect.status:
        message = f"expected the node to end {expect.status}, it ended {element.get('status')}"
        failures.append(Failure((*at, "status"), message, expect.status, element.get("status")))
    if "output" in expect.model_fields_set:
        failures += _located(match(expect.output, element.get("output")), (*at, "output"))
    if "error" in expect.model_fields_set:
        found = match_fields(expect.error, element.get("error") or MISSING)
        failures += _located(found, (*at, "error"))
    return failures


def _located(found: list[Mismatch], at: JsonPath) -> list[Failure]:
    return [Failure((*at, *m.path), m.message, m.expected, m.actual) for m in found]


def _last_elements(tree: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """Each node's element; in a loop, its last iteration's."""
    return {str(e["id"]): e for e in _node_elements(tree.get("children") or [])}


def _node_elements(children: list[Any]) -> Iterator[Mapping[str, Any]]:
    for child in children:
        if child.get("kind") == "stage":
            yield from _node_elements(child.get("children") or [])
        else:
            yield child
