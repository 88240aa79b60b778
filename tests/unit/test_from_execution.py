""" "Add as test": a recorded execution tree → the text of a new test (flowrun.testing)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flowrun.testing.from_execution import new_test_edit
from flowrun.validate import validate_text

WORKFLOW = """\
version: 1
stages:
  - id: work
    nodes:
      - {id: ask, type: llm, with: {provider: ollama, model: m, prompt: hi}}
  - id: review
    loop: {max_iters: 3, until: "${{ nodes.check.output.ok }}"}
    nodes:
      - {id: check, type: http, with: {url: "http://127.0.0.1:9"}}
outputs:
  answer: ${{ nodes.ask.output.content }}"""


def node(node_id: str, type_: str, output: Any, iteration: int | None = None) -> dict[str, Any]:
    return {"kind": "node", "id": node_id, "type": type_, "status": "succeeded",
            "output": output, "iteration": iteration, "error": None}  # fmt: skip


TREE = {
    "id": "0123456789abcdef" * 2,
    "status": "succeeded",
    "inputs": {},
    "trigger": {"method": "GET", "path": "/", "headers": {}, "query": {}, "body": None},
    "outputs": {"answer": "yes"},
    "error": None,
    "children": [
        {"kind": "stage", "id": "work", "children": [node("ask", "llm", {"content": "yes"})]},
        {
            "kind": "stage",
            "id": "review",
            "children": [
                node("check", "http", {"ok": False}, 1),
                node("check", "http", {"ok": True}, 2),
            ],
        },
    ],
}


def apply(text: str, line: int, character: int, new: str) -> str:
    lines = text.splitlines(keepends=True)
    at = sum(map(len, lines[:line])) + character
    return text[:at] + new + text[at:]


def test_a_file_without_tests_gets_a_tests_section_with_mocks_per_iteration() -> None:
    edit = new_test_edit(WORKFLOW, Path("w.workflow.yml"), TREE)
    text = apply(WORKFLOW, edit.line, edit.character, edit.text)
    result = validate_text(text, "w.workflow.yml")
    assert result.diagnostics == [] and result.workflow is not None
    [test] = result.workflow.tests
    assert test.name == "execution 01234567" == edit.name
    assert text.splitlines()[edit.name_line] == "  - name: execution 01234567"
    assert test.mock == {"ask": {"content": "yes"}, "check": [{"ok": False}, {"ok": True}]}
    assert test.expect.status == "succeeded" and test.expect.outputs == {"answer": "yes"}
    assert test.trigger is not None and test.trigger.method == "GET"


def test_a_second_test_of_the_same_execution_gets_a_new_name() -> None:
    first = new_test_edit(WORKFLOW + "\n", Path("w.workflow.yml"), TREE)
    text = apply(WORKFLOW + "\n", first.line, first.character, first.text)
    second = new_test_edit(text, Path("w.workflow.yml"), TREE)
    text = apply(text, second.line, second.character, second.text)
    result = validate_text(text, "w.workflow.yml")
    assert result.diagnostics == [] and result.workflow is not None
    assert [t.name for t in result.workflow.tests] == [
        "execution 01234567",
        "execution 01234567 (2)",
    ]
