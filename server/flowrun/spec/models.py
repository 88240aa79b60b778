"""Pydantic models of the workflow file format (design §3): the source of `flowrun schema`.

The validator reports problems itself (with exact positions); these models decide what is
valid and give the resolver typed values. Durations are converted to seconds here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError

from flowrun.spec.params import NODE_TYPE_SPECS, NODE_TYPES, NodeTypeSpec

WORKFLOW_ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
NODE_ID_PATTERN = r"^[A-Za-z_][A-Za-z0-9_-]*$"
NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
# What flowrun_engine.durations.parse_duration accepts: "90", "1.5s", "500ms", "1m30s".
DURATION_PATTERN = r"^\s*(\d+(\.\d+)?|(\d+(\.\d+)?([mM][sS]|[sSmMhH]))+)\s*$"
# Top-level keys starting with `x-` are ignored (a place for YAML anchors, as in Compose).
EXTENSION_PREFIX = "x-"

if TYPE_CHECKING:
    NodeType = str
else:  # the node types are spelled once, in spec/params.py
    NodeType = Literal[NODE_TYPES]
OnFailure = Literal["stop", "continue"]


def _to_seconds(value: Any) -> Any:
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


def _none_to_dict(value: Any) -> Any:
    return {} if value is None else value


def _to_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


def _whole(value: Any) -> Any:
    """`2.0` is the whole number 2: JSON Schema's `integer` (what editors check) accepts it,
    so the validator does too; `2.5` stays a float and is refused."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# A whole number; `2.0` counts (see `_whole`).
WholeNumber = Annotated[int, BeforeValidator(_whole)]


Duration = Annotated[
    float,
    BeforeValidator(_to_seconds),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 0},
                {"type": "string", "pattern": DURATION_PATTERN},
            ],
            "description": 'Seconds, or "500ms", "30s", "2m", "1h".',
        }
    ),
]
NodeId = Annotated[str, Field(pattern=NODE_ID_PATTERN)]
Needs = Annotated[
    list[NodeId],
    BeforeValidator(_to_list),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string"},
                {"type": "array", "items": {"type": "string"}},
            ],
            "description": "Node ids this node runs after (a string is a list of one).",
        }
    ),
]
ExpressionOrBool = str | bool


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)


class Retry(Model):
    attempts: WholeNumber = Field(default=1, ge=1, description="Total tries (1 = no retry).")
    backoff: Duration = 1.0
    factor: float = Field(default=2.0, ge=1)
    max_delay: Duration = 30.0


CACHEABLE_TYPES = ("llm", "http", "python")


class CacheOptions(Model):
    ttl: Duration | None = Field(default=None, description="How long a result is reused.")
    production: bool = Field(
        default=False, description="Also reuse results under `flowrun serve` (off by default)."
    )


Cache = bool | Duration | CacheOptions


class Node(Model):
    id: NodeId
    type: NodeType
    name: str | None = None
    needs: Needs = Field(default_factory=list)
    when: ExpressionOrBool | None = Field(default=None, description="Expression; false → skipped.")
    with_: Annotated[dict[str, Any], BeforeValidator(_none_to_dict)] = Field(
        default_factory=dict, alias="with"
    )
    timeout: Duration | None = None
    retry: Retry | None = None
    on_failure: OnFailure | None = None
    pin: Any = Field(default=None, description="Fixed output: the node is not run (test data).")
    cache: Cache | None = Field(
        default=None,
        description="Reuse the result of the same resolved request: true, a duration (1h), or "
        "{ttl, production} (llm, http and python nodes).",
    )

    @property
    def has_pin(self) -> bool:
        return "pin" in self.model_fields_set

    @model_validator(mode="after")
    def _cacheable(self) -> Node:
        if self.cache not in (None, False) and self.type not in CACHEABLE_TYPES:
            raise ValueError(f"`cache` works on {', '.join(CACHEABLE_TYPES)} nodes only")
        return self


class Loop(Model):
    max_iters: WholeNumber = Field(ge=1, le=100)
    until: ExpressionOrBool | None = None
    fallback: str | None = Field(
        default=None, description="A later stage to go on at when exhausted."
    )


class Stage(Model):
    id: NodeId
    name: str | None = None
    mode: Literal["sequential", "parallel"] = "sequential"
    on_failure: OnFailure | None = None
    loop: Loop | None = None
    nodes: list[Node] = Field(min_length=1)


INPUT_TYPE_WORDS = {
    "string": "text",
    "number": "a number",
    "boolean": "true or false",
    "object": "a JSON object",
    "array": "a JSON array",
}


class Input(Model):
    type: Literal["string", "number", "boolean", "object", "array"] | None = Field(
        default=None, description="Without a type, any value is accepted."
    )
    default: Any = None
    required: bool | None = Field(
        default=None, description="Default: required when there is no default."
    )
    description: str | None = None

    def accepts(self, value: Any) -> bool:
        """Whether `value` (JSON) has this input's type (any value without a type)."""
        if self.type is None:
            return True
        if self.type == "string":
            return isinstance(value, str)
        if self.type == "number":
            return isinstance(value, int | float) and not isinstance(value, bool)
        if self.type == "boolean":
            return isinstance(value, bool)
        if self.type == "object":
            return isinstance(value, dict)
        return isinstance(value, list)

    @property
    def is_required(self) -> bool:
        if self.required is not None:
            return self.required
        return "default" not in self.model_fields_set


class TriggerSample(Model):
    method: str | None = None
    path: str | None = None
    headers: dict[str, str | int | float | bool] = Field(default_factory=dict)
    query: dict[str, Any] = Field(default_factory=dict)
    body: Any = None


class TriggerResponse(Model):
    """What `flowrun serve` answers once the execution succeeded (values may be expressions)."""

    status: int | str = Field(default=200, description="HTTP status, 100-599, or an expression.")
    headers: dict[str, str | int | float | bool] = Field(default_factory=dict)
    body: Any = Field(default=None, description="JSON body; default: the workflow's outputs.")


class HmacAuth(Model):
    header: str = Field(description="The request header holding the signature.")
    secret: str = Field(description="`${{ secrets.NAME }}`: the shared signing secret.")
    algorithm: Literal["sha1", "sha256", "sha512"] = "sha256"
    prefix: str = Field(default="", description='Before the hex digest, e.g. "sha256=".')


class TriggerAuth(Model):
    bearer: str | None = Field(
        default=None, description="`${{ secrets.NAME }}`: the token of `Authorization: Bearer`."
    )
    hmac: HmacAuth | None = None

    @model_validator(mode="after")
    def _one_scheme(self) -> TriggerAuth:
        if (self.bearer is None) == (self.hmac is None):
            raise PydanticCustomError("auth_scheme", "give exactly one of `bearer` or `hmac`")
        return self


class Trigger(Model):
    type: Literal["manual", "http"] = "manual"
    method: str | None = Field(default=None, pattern=r"^[A-Za-z]+$")
    path: str | None = Field(default=None, pattern=r"^/")
    sample: TriggerSample | None = None
    respond: Literal["wait", "accepted"] = Field(
        default="wait",
        description="`flowrun serve`: wait for the execution (200) or answer 202 at once.",
    )
    response: TriggerResponse | None = None
    timeout: Duration | None = Field(
        default=None, description="`flowrun serve`, respond: wait: 504 after this (30s)."
    )
    auth: TriggerAuth | None = None
    redeliver: bool = Field(
        default=True,
        description="Queue mode: run again, as a new attempt, when its worker died (at-least-"
        "once); false when side effects must not repeat (it ends `interrupted`).",
    )


class Defaults(Model):
    timeout: Duration | None = None
    retry: Retry | None = None
    on_failure: OnFailure | None = None


# --- tests: (the meaning of mock and matcher values is in flowrun.testing) ---------------

RunStatus = Literal["succeeded", "failed", "stopped", "timed_out"]
NodeStatusName = Literal["succeeded", "failed", "skipped", "stopped"]


class NodeExpectation(Model):
    status: NodeStatusName | None = None
    output: Any = Field(default=None, description="A value or a matcher.")
    error: Any = Field(default=None, description="The node's error: its fields, each a matcher.")


class Expectation(Model):
    status: RunStatus | None = Field(default=None, description="The execution's status.")
    outputs: dict[str, Any] = Field(
        default_factory=dict, description="Output name → a value or a matcher."
    )
    nodes: dict[str, NodeExpectation] = Field(default_factory=dict)
    error: Any = Field(default=None, description="The run's error: its fields, each a matcher.")


class WorkflowTest(Model):
    __test__ = False  # not a pytest class

    name: str = Field(min_length=1, description="Unique in the file.")
    description: str | None = None
    inputs: dict[str, Any] = Field(default_factory=dict)
    trigger: TriggerSample | None = Field(
        default=None, description="The request the test starts with; default: trigger.sample."
    )
    mock: dict[str, Any] = Field(
        default_factory=dict,
        description="Node id → its output, `{error: {type, message}}`, or (in a loop stage) "
        "a list: one per iteration.",
    )
    expect: Expectation = Field(default_factory=lambda: Expectation())


class Workflow(Model):
    version: Literal[1]
    id: Annotated[str, Field(pattern=WORKFLOW_ID_PATTERN)] | None = None
    name: str | None = None
    description: str | None = None
    requires: list[str] = Field(default_factory=list)
    inputs: dict[Annotated[str, Field(pattern=NAME_PATTERN)], Input] = Field(default_factory=dict)
    trigger: Trigger = Field(default_factory=lambda: Trigger())
    secrets: list[Annotated[str, Field(pattern=NAME_PATTERN)]] = Field(default_factory=list)
    env: dict[str, str | int | float | bool] = Field(default_factory=dict)
    defaults: Defaults = Field(default_factory=lambda: Defaults())
    nodes: list[Node] | None = Field(default=None, min_length=1)
    stages: list[Stage] | None = Field(default=None, min_length=1)
    outputs: dict[str, Any] = Field(default_factory=dict)
    tests: list[WorkflowTest] = Field(
        default_factory=list, description="Workflow tests: `flowrun test`, pytest, Test Explorer."
    )

    @model_validator(mode="after")
    def _nodes_or_stages(self) -> Workflow:
        if (self.nodes is None) == (self.stages is None):
            raise PydanticCustomError(
                "nodes_or_stages", "a workflow needs exactly one of `nodes` or `stages`"
            )
        return self


def json_schema() -> dict[str, Any]:
    """The JSON Schema of workflow files (`flowrun schema`), for editors: the models, plus
    the `with` parameters of each node type from the parameter table."""
    schema = Workflow.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Flowrun workflow"
    schema["patternProperties"] = {f"^{EXTENSION_PREFIX}": {}}
    schema["$defs"]["Node"]["allOf"] = [_with_schema(spec) for spec in NODE_TYPE_SPECS.values()]
    # input names that do not match the name pattern are refused, as the validator does
    schema["properties"]["inputs"]["additionalProperties"] = False
    return schema


def _with_schema(spec: NodeTypeSpec) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for param in spec.params:
        params[param.name] = {"description": param.doc}
        if param.choices:
            params[param.name]["anyOf"] = [
                {"enum": list(param.choices)},
                {"type": "string", "pattern": r"\$\{\{"},
            ]
    return {
        "if": {"properties": {"type": {"const": spec.name}}, "required": ["type"]},
        "then": {
            "properties": {
                "with": {
                    "description": f"{spec.doc} Output: {spec.output}.",
                    "properties": params,
                    "additionalProperties": False,
                }
            }
        },
    }
