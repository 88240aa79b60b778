"""One vocabulary of node types: the engine runs exactly the types the spec describes, and
the editor offers what the spec and the models say (issue 13.2)."""

from __future__ import annotations

from typing import get_args

from flowrun.lsp import vocabulary
from flowrun.spec import models
from flowrun.spec.params import NODE_TYPE_SPECS, NODE_TYPES
from flowrun_engine import expr
from flowrun_engine.nodes import REGISTRY


def test_the_engine_runs_exactly_the_node_types_of_the_spec() -> None:
    assert sorted(REGISTRY) == sorted(NODE_TYPES)
    assert get_args(models.Node.model_fields["type"].annotation) == NODE_TYPES


def test_completion_and_hover_read_the_spec() -> None:
    assert vocabulary.NODE_TYPES == NODE_TYPES
    for name, spec in NODE_TYPE_SPECS.items():
        assert vocabulary.parameter_names(name) == spec.param_names
        doc = vocabulary.node_type_doc(name)
        assert doc is not None and spec.doc in doc and spec.output in doc
    llm = NODE_TYPE_SPECS["llm"].param("provider")
    assert llm is not None and vocabulary.providers("llm") == llm.choices
    assert vocabulary.value_choices("parse", "shell") == ("text", "json", "lines")
    assert vocabulary.value_choices("on_failure", None) == ("stop", "continue")
    assert (
        tuple(f.alias or n for n, f in models.Workflow.model_fields.items())
        == vocabulary.TOP_LEVEL_KEYS
    )


def test_expression_names_have_one_owner() -> None:
    assert vocabulary.CONTEXTS is expr.CONTEXTS
    assert vocabulary.FUNCTIONS is expr.FUNCTIONS
