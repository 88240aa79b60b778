"""The precompiled validator (`flowrun.spec.core_schema`): generated from the models, it
reports what they report, and checking a file with it loads neither pydantic nor the models."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from flowrun.spec import core_schema, models
from flowrun.validate import validate_text
from fresh_validate import fresh_validate

ROOT = Path(__file__).resolve().parents[2]


def test_the_stored_schema_is_the_models_schema() -> None:
    """Generated in a fresh interpreter, as `python -m flowrun.spec.core_schema` does: in this
    one, a test that built a model first makes pydantic inline it elsewhere or refer to it."""
    code = (
        "import json; from flowrun.spec import core_schema;"
        "print(json.dumps(core_schema.generate()))"
    )
    fresh = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    stored = json.loads(core_schema.SCHEMA_FILE.read_text(encoding="utf-8"))
    assert stored == json.loads(fresh.stdout), (
        "the models changed: run `python -m flowrun.spec.core_schema`"
    )


DOCUMENTS: list[dict[str, Any]] = [
    {"version": 1, "nodes": [{"id": "a", "type": "shell", "with": {"run": "ls"}}]},
    {"version": 2, "nodes": [], "stages": [{"id": "s"}], "extra": 1},
    {"version": 1, "nodes": [{"id": "a", "type": "shell", "cache": True, "timeout": "3x"}]},
    {"version": 1, "trigger": {"auth": {}, "method": "G T", "path": "x"}, "nodes": "a"},
    {"version": 1, "trigger": {"auth": {"bearer": "b", "hmac": {"header": "h"}}}},
    {
        "version": 1,
        "inputs": {"bad-name": {"type": "text"}, "n": {"required": "yes"}},
        "defaults": {"retry": {"attempts": 0.5, "factor": 0, "backoff": -1}},
        "stages": [{"id": "s", "loop": {"max_iters": 101}, "nodes": [{"id": "1", "type": "x"}]}],
        "tests": [{"name": "", "expect": {"status": "ok", "nodes": {"a": {"status": 1}}}}],
    },
    {"version": 1, "nodes": [{"id": "a", "type": "llm", "needs": "b", "cache": {"ttl": "1h"}}]},
]


@pytest.mark.parametrize("document", DOCUMENTS)
def test_it_reports_what_the_models_report(document: dict[str, Any]) -> None:
    try:
        models.Workflow.model_validate(document)
        expected: list[Any] = []
    except ValidationError as exc:
        expected = exc.errors(include_url=False)
    try:
        core_schema.checker().validate_python(document)
        found: list[Any] = []
    except ValidationError as exc:
        found = exc.errors(include_url=False)
    assert found == expected


VALID: list[dict[str, Any]] = [
    DOCUMENTS[0],
    {
        "version": 1,
        "inputs": {"n": {"type": "number", "default": 1}},
        "trigger": {"type": "http", "path": "/a", "auth": {"bearer": "${{ secrets.T }}"}},
        "defaults": {"timeout": "1m", "retry": {"attempts": 2.0}},
        "stages": [{"id": "s", "loop": {"max_iters": 2}, "nodes": [{"id": "a", "type": "llm"}]}],
        "tests": [{"name": "t", "expect": {"nodes": {"a": {"status": "succeeded"}}}}],
    },
]


@pytest.mark.parametrize("document", VALID)
def test_it_builds_what_the_models_build(document: dict[str, Any]) -> None:
    built = core_schema.builder().validate_python(document)
    expected = models.Workflow.model_validate(document)
    assert built == expected and built.model_dump() == expected.model_dump()
    assert built.trigger.model_fields_set == expected.trigger.model_fields_set


def test_the_model_of_a_valid_file_is_made_when_asked_for() -> None:
    result = validate_text("version: 1\nnodes: [{id: a, type: shell, with: {run: ls}}]\n", "a")
    assert result.checked is not None
    assert isinstance(result.workflow, models.Workflow)
    assert result.workflow.nodes is not None and result.workflow.nodes[0].with_ == {"run": "ls"}
    invalid = validate_text("version: 1\nnodes: [{id: a, type: nope}]\n", "a")
    assert invalid.checked is None and invalid.workflow is None


def test_validate_loads_neither_pydantic_nor_rich(tmp_path: Path) -> None:
    """`flowrun validate` (piped) runs on pydantic-core alone, and prints without Rich."""
    (tmp_path / "a.workflow.yml").write_text(
        "version: 1\ninputs: {n: {type: number, default: 1}}\n"
        "trigger: {type: http, path: /a}\nnodes: [{id: a, type: shell, with: {run: ls}}]\n"
        "tests: [{name: t, inputs: {n: 2}}]\n"
    )
    (tmp_path / "b.workflow.yml").write_text("version: 1\nnodes: [{id: b, type: nope}]\n")
    done = fresh_validate(tmp_path)
    assert "unknown-node-type" in done.output and done.code == 1
    assert [m for m in ("pydantic", "rich", "flowrun.spec.models") if m in done.loaded] == []
