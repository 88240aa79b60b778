"""What the editor offers (keys, values, node types, expression names), read from the owners.

Nothing is spelled here: keys and choices come from the pydantic models (`spec.models`),
node types, their parameters, choices and docs from `spec.params`, and the expression
language's contexts and functions from the engine (`flowrun_engine.expr`). Adding a node
type or a key therefore changes completion and hover without touching the language server.
"""

from __future__ import annotations

from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel

from flowrun.spec import models
from flowrun.spec.params import NODE_TYPE_SPECS, NODE_TYPES, NodeTypeSpec
from flowrun.validate.expressions import NODE_FIELDS, TRIGGER_FIELDS
from flowrun_engine.expr import CONTEXTS, FUNCTIONS

__all__ = [
    "CONTEXTS",
    "FUNCTIONS",
    "NODE_FIELDS",
    "NODE_TYPES",
    "TRIGGER_FIELDS",
    "keys_of",
    "node_type_doc",
    "parameter_names",
    "providers",
    "value_choices",
]


def keys_of(model: type[BaseModel]) -> tuple[str, ...]:
    """The keys a mapping of `model` may have, as written in the file."""
    return tuple(field.alias or name for name, field in model.model_fields.items())


TOP_LEVEL_KEYS = keys_of(models.Workflow)
NODE_KEYS = keys_of(models.Node)
STAGE_KEYS = keys_of(models.Stage)
TRIGGER_KEYS = keys_of(models.Trigger)
LOOP_KEYS = keys_of(models.Loop)
RETRY_KEYS = keys_of(models.Retry)
DEFAULTS_KEYS = keys_of(models.Defaults)
INPUT_KEYS = keys_of(models.Input)


def literal_choices(model: type[BaseModel], name: str) -> tuple[str, ...]:
    """The values of a `Literal[...]` field (inside `| None` too)."""
    annotation: Any = model.model_fields[name].annotation
    options = [annotation, *get_args(annotation)]
    for option in options:
        if get_origin(option) is Literal:
            return tuple(str(value) for value in get_args(option))
    return ()


LOOP_FIELDS = ("iteration",)  # what the engine puts in `loop` (flowrun_engine.context)
INPUT_TYPES = literal_choices(models.Input, "type")
TRIGGER_TYPES = literal_choices(models.Trigger, "type")
_KEY_CHOICES = {
    "on_failure": literal_choices(models.Node, "on_failure"),
    "mode": literal_choices(models.Stage, "mode"),
}


def parameter_names(node_type: str | None) -> tuple[str, ...]:
    spec = NODE_TYPE_SPECS.get(node_type or "")
    return spec.param_names if spec else ()


def providers(node_type: str | None) -> tuple[str, ...]:
    """The providers of `node_type`; of every type when it is not known yet."""
    specs = (
        [NODE_TYPE_SPECS[node_type]] if node_type in NODE_TYPE_SPECS else NODE_TYPE_SPECS.values()
    )
    return tuple(choice for spec in specs for choice in _choices(spec, "provider"))


def value_choices(key: str, node_type: str | None) -> tuple[str, ...]:
    """Values offered after `key:`: a model's literal, else the node type's parameter's."""
    if key in _KEY_CHOICES:
        return _KEY_CHOICES[key]
    spec = NODE_TYPE_SPECS.get(node_type or "")
    specs = [spec] if spec is not None else list(NODE_TYPE_SPECS.values())
    for candidate in specs:
        if found := _choices(candidate, key):
            return found
    return ()


def _choices(spec: NodeTypeSpec, name: str) -> tuple[str, ...]:
    param = spec.param(name)
    return (param.choices or param.suggestions) if param is not None else ()


def node_type_doc(node_type: str) -> str | None:
    """Markdown for hover: what the type does, its parameters, its output."""
    spec = NODE_TYPE_SPECS.get(node_type)
    if spec is None:
        return None
    params = "\n".join(f"* `{param.name}`: {param.doc}" for param in spec.params)
    return f"{spec.doc}\n\nParameters:\n{params}\n\nOutput: {spec.output}."
