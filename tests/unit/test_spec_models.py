from __future__ import annotations

import json
import typing

import pytest
from pydantic import ValidationError

from flowrun.spec import models
from flowrun.spec.params import NODE_TYPE_SPECS, NODE_TYPES


def test_node_types_of_the_model_and_the_parameter_table_agree() -> None:
    assert set(typing.get_args(models.NodeType)) == set(NODE_TYPES)
    for spec in NODE_TYPE_SPECS.values():
        for group in spec.required:
            assert all(spec.param(name) is not None for name in group)
        assert spec.param("nope") is None


def test_json_schema_is_generated_from_the_models() -> None:
    schema = models.json_schema()
    assert schema["title"] == "Flowrun workflow"
    assert schema["required"] == ["version"]
    node = schema["$defs"]["Node"]
    assert "with" in node["properties"] and node["additionalProperties"] is False
    assert set(node["properties"]["type"]["enum"]) == set(NODE_TYPES)
    assert "anyOf" in node["properties"]["needs"]
    shell = next(b for b in node["allOf"] if b["if"]["properties"]["type"]["const"] == "shell")
    with_ = shell["then"]["properties"]["with"]
    assert with_["additionalProperties"] is False
    assert with_["properties"]["parse"]["anyOf"][0] == {"enum": ["text", "json", "lines"]}
    json.dumps(schema)


def test_durations_become_seconds() -> None:
    node = models.Node.model_validate(
        {"id": "a", "type": "shell", "timeout": "2m", "retry": {"backoff": "500ms"}}
    )
    assert node.timeout == 120.0
    assert node.retry is not None and node.retry.backoff == 0.5


@pytest.mark.parametrize("value", ["soon", -1, True, [1]])
def test_bad_durations_are_bad_duration_errors(value: object) -> None:
    with pytest.raises(ValidationError) as info:
        models.Node.model_validate({"id": "a", "type": "shell", "timeout": value})
    assert info.value.errors()[0]["type"] == "bad_duration"


def test_needs_accepts_a_single_string() -> None:
    node = models.Node.model_validate({"id": "a", "type": "shell", "needs": "b"})
    assert node.needs == ["b"]


def test_pin_presence_is_remembered_even_when_null() -> None:
    assert models.Node.model_validate({"id": "a", "type": "shell", "pin": None}).has_pin
    assert not models.Node.model_validate({"id": "a", "type": "shell"}).has_pin


def test_input_is_required_without_default_unless_said_otherwise() -> None:
    assert models.Input.model_validate({}).is_required
    assert not models.Input.model_validate({"default": None}).is_required
    assert not models.Input.model_validate({"required": False}).is_required


def test_exactly_one_of_nodes_or_stages() -> None:
    with pytest.raises(ValidationError):
        models.Workflow.model_validate({"version": 1})
    stage = {"id": "s", "nodes": [{"id": "a", "type": "shell"}]}
    workflow = models.Workflow.model_validate({"version": 1, "stages": [stage]})
    assert workflow.stages is not None and [n.id for n in workflow.stages[0].nodes] == ["a"]
    flat = models.Workflow.model_validate({"version": 1, "nodes": [{"id": "b", "type": "llm"}]})
    assert flat.nodes is not None and [n.id for n in flat.nodes] == ["b"]


@pytest.mark.parametrize("text", ["90", "1.5s", "500ms", "1m30s", " 2H ", "soon", "5 sec", "1x"])
def test_the_schema_duration_pattern_matches_the_engine_parser(text: str) -> None:
    import re

    from flowrun_engine.durations import parse_duration

    try:
        parse_duration(text)
        accepted = True
    except ValueError:
        accepted = False
    assert bool(re.match(models.DURATION_PATTERN, text)) == accepted


def test_json_schema_refuses_input_names_the_validator_refuses() -> None:
    inputs = models.json_schema()["properties"]["inputs"]
    assert inputs["additionalProperties"] is False
    assert list(inputs["patternProperties"]) == [models.NAME_PATTERN]


def test_a_whole_float_is_a_whole_number_as_json_schema_integer_says() -> None:
    """`attempts: 2.0`: JSON Schema's `integer` (what editors check) accepts it, so must we;
    `2.5` is refused by both."""
    schema = models.json_schema()["$defs"]
    assert schema["Retry"]["properties"]["attempts"]["type"] == "integer"
    assert schema["Loop"]["properties"]["max_iters"]["type"] == "integer"
    assert models.Retry.model_validate({"attempts": 2.0}).attempts == 2
    assert models.Loop.model_validate({"max_iters": 3.0}).max_iters == 3
    with pytest.raises(ValidationError):
        models.Retry.model_validate({"attempts": 2.5})
