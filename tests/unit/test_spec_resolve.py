from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from flowrun.spec.models import Workflow
from flowrun.spec.resolve import (
    InputError,
    TriggerError,
    resolve,
    resolve_inputs,
    workflow_id,
)
from flowrun.validate import validate_text

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def load(text: str, name: str = "demo.workflow.yml") -> tuple[Workflow, Any]:
    result = validate_text(textwrap.dedent(text).lstrip("\n"), name)
    assert result.workflow is not None, result.diagnostics
    return result.workflow, result.source


FLAT = """
version: 1
name: Flat
env: {LEVEL: info, N: 3, ON: true, OFF: false}
secrets: [TOKEN]
defaults:
  timeout: 10s
  retry: {attempts: 3, backoff: 2s}
  on_failure: continue
nodes:
  - id: a
    type: transform
    with: {value: 1}
  - id: b
    type: python
    needs: a
    timeout: 500ms
    retry: {max_delay: 1m}
    on_failure: stop
    pin: {fixed: true}
    with:
      code: |
        def main():
            return 1
outputs:
  out: ${{ nodes.b.output }}
"""


def test_flat_workflow_becomes_one_unnamed_parallel_stage(tmp_path: Path) -> None:
    workflow, source = load(FLAT)
    path = tmp_path / "demo.workflow.yml"
    resolved = resolve(workflow, path, source=source)
    wf = resolved["workflow"]
    assert wf["id"] == "demo" and wf["name"] == "Flat" and wf["file"] == str(path)
    assert wf["env"] == {"LEVEL": "info", "N": "3", "ON": "true", "OFF": "false"}
    assert wf["secrets"] == ["TOKEN"]
    assert wf["outputs"] == {"out": "${{ nodes.b.output }}"}
    [stage] = wf["stages"]
    assert (stage["id"], stage["mode"], stage["loop"]) == (None, "parallel", None)
    a, b = stage["nodes"]
    assert len(a.pop("hash")) == 16  # tests/unit/test_node_hash.py
    assert a == {
        "id": "a",
        "type": "transform",
        "name": None,
        "needs": [],
        "when": None,
        "with": {"value": 1},
        "timeout": 10.0,
        "retry": {"attempts": 3, "backoff": 2.0, "factor": 2.0, "max_delay": 30.0},
        "on_failure": "continue",
        "has_pin": False,
        "pin": None,
    }
    assert b["needs"] == ["a"] and b["timeout"] == 0.5 and b["on_failure"] == "stop"
    assert b["retry"] == {"attempts": 3, "backoff": 2.0, "factor": 2.0, "max_delay": 60.0}
    assert b["has_pin"] and b["pin"] == {"fixed": True}
    assert b["code_line"] == 22  # the first line of the code block, 1-based
    assert "code_line" not in a
    assert resolved["options"] == {
        "max_parallel": 16,
        "timeout": 600.0,
        "given_outputs": {},
        "cwd": str(tmp_path),
    }


def test_stages_carry_mode_loop_and_on_failure_defaults() -> None:
    workflow, _ = load(
        """
        version: 1
        stages:
          - id: one
            on_failure: continue
            nodes:
              - {id: a, type: transform, with: {value: 1}}
              - {id: b, type: transform, on_failure: stop, with: {value: 2}}
          - id: two
            mode: parallel
            loop: {max_iters: 3, until: "${{ nodes.c.output }}"}
            nodes:
              - {id: c, type: transform, with: {value: true}}
        """
    )
    stages = resolve(workflow, Path("x.workflow.yaml"))["workflow"]["stages"]
    assert [s["id"] for s in stages] == ["one", "two"]
    assert stages[0]["mode"] == "sequential" and stages[0]["on_failure"] == "continue"
    assert [n["on_failure"] for n in stages[0]["nodes"]] == ["continue", "stop"]
    assert stages[1]["loop"] == {"max_iters": 3, "until": "${{ nodes.c.output }}", "fallback": None}
    assert stages[1]["nodes"][0]["timeout"] == 60.0
    assert stages[1]["nodes"][0]["on_failure"] == "stop"


def test_workflow_id_is_the_id_or_the_file_stem() -> None:
    workflow, _ = load("version: 1\nnodes: [{id: a, type: transform, with: {value: 1}}]\n")
    assert workflow_id(workflow, Path("/w/my-flow.workflow.yml")) == "my-flow"
    assert workflow_id(workflow, Path("/w/my-flow.workflow.yaml")) == "my-flow"
    assert workflow_id(workflow, Path("/w/other.yml")) == "other"
    assert workflow_id(workflow, Path("/w/plain.txt")) == "plain"
    named, _ = load("version: 1\nid: named\nnodes: [{id: a, type: transform, with: {value: 1}}]\n")
    assert workflow_id(named, Path("/w/x.workflow.yml")) == "named"


INPUTS = """
version: 1
inputs:
  name: {type: string}
  count: {type: number, default: 2}
  loud: {type: boolean, default: false}
  tags: {type: array, default: []}
  extra: {type: object, required: false}
  anything: {default: 5}
nodes: [{id: a, type: transform, with: {value: 1}}]
"""


def test_inputs_get_defaults_and_text_is_converted_to_the_declared_type() -> None:
    workflow, _ = load(INPUTS)
    given = {"name": "Ada", "count": "3.5", "loud": "true", "tags": '["x"]'}
    assert resolve(workflow, Path("a.workflow.yml"), inputs=given)["inputs"] == {
        "name": "Ada",
        "count": 3.5,
        "loud": True,
        "tags": ["x"],
        "extra": None,
        "anything": 5,
    }


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({}, "missing required input `name` (text); give it with --input name=VALUE"),
        ({"name": "a", "count": "many"}, 'input `count` must be a number, not "many"'),
        ({"name": "a", "loud": 1}, "input `loud` must be true or false, not 1"),
        ({"name": 5}, "input `name` must be text, not 5"),
        ({"name": "a", "tags": {}}, "input `tags` must be a JSON array"),
        ({"name": "a", "extra": []}, "input `extra` must be a JSON object"),
        ({"name": "a", "nme": 1}, "unknown input `nme`: this workflow declares `name`, `count`"),
        ({"name": "a", "count": "1e999"}, "input `count` holds a number that is not finite"),
        ({"name": "a", "extra": {"x": [float("nan")]}}, "input `extra` holds a number that is not"),
    ],
)
def test_bad_inputs_raise_input_error(given: dict[str, Any], message: str) -> None:
    workflow, _ = load(INPUTS)
    with pytest.raises(InputError) as info:
        resolve_inputs(workflow.inputs, given)
    assert message in str(info.value)
    assert isinstance(info.value, ValueError)


def test_unknown_input_without_declared_inputs() -> None:
    with pytest.raises(InputError, match="declares none"):
        resolve_inputs({}, {"x": 1})


def test_an_input_without_type_takes_any_value_as_given() -> None:
    workflow, _ = load(
        "version: 1\ninputs: {x: {}}\nnodes: [{id: a, type: transform, with: {value: 1}}]\n"
    )
    assert resolve_inputs(workflow.inputs, {"x": "3"}) == {"x": "3"}
    with pytest.raises(InputError, match="missing required input `x`; give it"):
        resolve_inputs(workflow.inputs, {})


HTTP = """
version: 1
trigger:
  type: http
  method: put
  path: /hook
  sample:
    headers: {Content-Type: application/json, X-N: 1}
    query: {q: a}
    body: {text: hi}
nodes: [{id: a, type: transform, with: {value: 1}}]
"""


def test_trigger_defaults_to_the_sample() -> None:
    workflow, _ = load(HTTP)
    trigger = resolve(workflow, Path("h.workflow.yml"))["trigger"]
    assert trigger == {
        "method": "PUT",
        "path": "/hook",
        "headers": {"content-type": "application/json", "x-n": "1"},
        "query": {"q": "a"},
        "body": {"text": "hi"},
        "params": {},
    }


def test_given_trigger_wins_and_method_defaults_follow_the_body() -> None:
    workflow, _ = load("version: 1\nnodes: [{id: a, type: transform, with: {value: 1}}]\n")
    resolved = resolve(workflow, Path("m.workflow.yml"), trigger={"body": {"a": 1}})
    assert resolved["trigger"] == {
        "method": "POST",
        "path": "/",
        "headers": {},
        "query": {},
        "body": {"a": 1},
        "params": {},
    }
    assert resolve(workflow, Path("m.workflow.yml"))["trigger"]["method"] == "GET"


def test_path_parameters_come_from_the_path_or_are_given() -> None:
    text = HTTP.replace("path: /hook", "path: /orders/{id}/lines/{n}")
    workflow, _ = load(text)
    given = {"path": "/orders/7/lines/2"}
    assert resolve(workflow, Path("h.workflow.yml"), trigger=given)["trigger"]["params"] == {
        "id": "7",
        "n": "2",
    }
    other = {"path": "/elsewhere"}
    assert resolve(workflow, Path("h.workflow.yml"), trigger=other)["trigger"]["params"] == {}
    stored = {"path": "/orders/7/lines/2", "params": {"id": "x"}}  # a production trigger
    assert resolve(workflow, Path("h.workflow.yml"), trigger=stored)["trigger"]["params"] == {
        "id": "x"
    }


@pytest.mark.parametrize(
    ("trigger", "message"),
    [
        ([1], "must be a JSON object"),
        ({"verb": "GET"}, "unknown trigger key `verb`"),
        ({"headers": [1]}, "must be JSON objects"),
        ({"method": 5}, 'the trigger\'s `method` must be text such as "POST", not a number'),
        ({"path": ["/"]}, 'the trigger\'s `path` must be text such as "/hook", not a list'),
        ({"body": {"n": float("inf")}}, "the trigger holds a number that is not finite"),
    ],
)
def test_bad_triggers_raise_trigger_error(trigger: Any, message: str) -> None:
    workflow, _ = load(HTTP)
    with pytest.raises(TriggerError, match=message):
        resolve(workflow, Path("h.workflow.yml"), trigger=trigger)


def test_code_line_only_where_it_is_exact() -> None:
    workflow, source = load(
        """
        version: 1
        nodes:
          - {id: one, type: python, with: {code: "def main(): return 1"}}
          - id: folded
            type: python
            with:
              code: >
                def main(): return 2
          - id: multi
            type: python
            with:
              code: "def main():
                return 3"
        """
    )
    nodes = resolve(workflow, Path("c.workflow.yml"), source=source)["workflow"]["stages"][0]
    lines = {n["id"]: n.get("code_line") for n in nodes["nodes"]}
    assert lines == {"one": 3, "folded": None, "multi": None}


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.workflow.yml")), ids=lambda p: p.name)
def test_every_example_resolves(path: Path) -> None:
    result = validate_text(path.read_text(), path)
    assert result.workflow is not None
    resolved = resolve(result.workflow, path, source=result.source)
    assert resolved["workflow"]["stages"]


def test_every_missing_input_is_listed_for_the_editor() -> None:
    workflow, _ = load(
        "version: 1\n"
        "inputs:\n"
        "  who: {type: string, description: Whom to greet}\n"
        "  times: {type: number}\n"
        "  loud: {type: boolean, default: false}\n"
        "nodes: [{id: a, type: transform, with: {value: 1}}]\n"
    )
    with pytest.raises(InputError) as info:
        resolve_inputs(workflow.inputs, {})
    assert info.value.missing == [
        {"name": "who", "type": "string", "description": "Whom to greet"},
        {"name": "times", "type": "number", "description": None},
    ]
    assert "missing required input `who` (text); missing required input `times`" in str(info.value)
    assert "give them with --input NAME=VALUE" in str(info.value)
