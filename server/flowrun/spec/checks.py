"""The checks inside the workflow models, as plain functions: the field conversions, the
checks of a whole mapping (`cache` only on cacheable types, one auth scheme, `nodes` or
`stages`) and the patterns and words they use.

Pydantic-free (only pydantic-core's error type), so that the precompiled validator
(`flowrun.spec.core_schema`) calls them without importing pydantic or building the models.
The mapping checks get the validated mapping as attributes: a model, or the plain record the
precompiled validator makes.
"""

from __future__ import annotations

from typing import Any

from pydantic_core import PydanticCustomError

WORKFLOW_ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
NODE_ID_PATTERN = r"^[A-Za-z_][A-Za-z0-9_-]*$"
NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
# What flowrun_engine.durations.parse_duration accepts: "90", "1.5s", "500ms", "1m30s".
DURATION_PATTERN = r"^\s*(\d+(\.\d+)?|(\d+(\.\d+)?([mM][sS]|[sSmMhH]))+)\s*$"
# Top-level keys starting with `x-` are ignored (a place for YAML anchors, as in Compose).
EXTENSION_PREFIX = "x-"
CACHEABLE_TYPES = ("llm", "http", "python")

INPUT_TYPE_WORDS = {
    "string": "text",
    "number": "a number",
    "boolean": "true or false",
    "object": "a JSON object",
    "array": "a JSON array",
}


def schema_input(data: dict[str, Any]) -> dict[str, Any]:
    """What the models validate of a file's top level: all but the `x-` keys."""
    return {k: v for k, v in data.items() if not k.startswith(EXTENSION_PREFIX)}


def accepts(input_type: str | None, value: Any) -> bool:
    """Whether `value` (JSON) has the input type `input_type` (any value without a type)."""
    if input_type is None:
        return True
    if input_type == "string":
        return isinstance(value, str)
    if input_type == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if input_type == "boolean":
        return isinstance(value, bool)
    if input_type == "object":
        return isinstance(value, dict)
    return isinstance(value, list)


def to_seconds(value: Any) -> Any:
    from flowrun_engine.durations import parse_duration

    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise PydanticCustomError(
            "bad_duration", "expected a duration such as 30s, 500ms, 2m or 1h, or seconds"
        )
    try:
        seconds = parse_duration(value)
    except ValueError as exc:
        raise PydanticCustomError("bad_duration", "{reason}", {"reason": str(exc)}) from exc
    if seconds < 0:
        raise PydanticCustomError("bad_duration", "a duration cannot be negative")
    return float(seconds)


def none_to_dict(value: Any) -> Any:
    return {} if value is None else value


def to_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


def whole(value: Any) -> Any:
    """`2.0` is the whole number 2: JSON Schema's `integer` (what editors check) accepts it,
    so the validator does too; `2.5` stays a float and is refused."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def cacheable(node: Any) -> Any:
    """A node's `cache` is for the cacheable types only."""
    if node.cache not in (None, False) and node.type not in CACHEABLE_TYPES:
        raise ValueError(f"`cache` works on {', '.join(CACHEABLE_TYPES)} nodes only")
    return node


def one_scheme(auth: Any) -> Any:
    """A trigger's `auth` gives exactly one scheme."""
    if (auth.bearer is None) == (auth.hmac is None):
        raise PydanticCustomError("auth_scheme", "give exactly one of `bearer` or `hmac`")
    return auth


def nodes_or_stages(workflow: Any) -> Any:
    if (workflow.nodes is None) == (workflow.stages is None):
        raise PydanticCustomError(
            "nodes_or_stages", "a workflow needs exactly one of `nodes` or `stages`"
        )
    return workflow
