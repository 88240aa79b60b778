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

from flowrun.spec import checks
from flowrun.spec.checks import (
    DURATION_PATTERN,
    EXTENSION_PREFIX,
    NAME_PATTERN,
    NODE_ID_PATTERN,
    WORKFLOW_ID_PATTERN,
)
from flowrun.spec.params import NODE_TYPE_SPECS, NODE_TYPES, NodeTypeSpec

if TYPE_CHECKING:
    NodeType = str
else:  # the node types are spelled once, in spec/params.py
    NodeType = Literal[NODE_TYPES]
OnFailure = Literal["stop", "continue"]


# A whole number; `2.0` counts (see `checks.whole`).
WholeNumber = Annotated[int, BeforeValidator(checks.whole)]


Duration = Annotated[
    float,
    BeforeValidator(checks.to_seconds),
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
    BeforeValidator(checks.to_list),
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
    # built when first used: validating files goes through `core_schema`, which needs
    # the classes only
    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True, defer_build=True)


class Retry(Model):
    attempts: WholeNumber = Field(default=1, ge=1, description="Total tries (1 = no retry).")
    backoff: Duration = 1.0
    factor: float = Field(default=2.0, ge=1)
    max_delay: Duration = 30.0


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
    with_: Annotated[dict[str, Any], BeforeValidator(checks.none_to_dict)] = Field(
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

    _cacheable = model_validator(mode="after")(checks.cacheable)


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
        return checks.accepts(self.type, value)

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

    _one_scheme = model_validator(mode="after")(checks.one_scheme)


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
    expect: Expectation = Field(default_factory=Expectation)


class Workflow(Model):
    version: Literal[1]
    id: Annotated[str, Field(pattern=WORKFLOW_ID_PATTERN)] | None = None
    name: str | None = None
    description: str | None = None
    requires: list[str] = Field(default_factory=list)
    inputs: dict[Annotated[str, Field(pattern=NAME_PATTERN)], Input] = Field(default_factory=dict)
    trigger: Trigger = Field(default_factory=Trigger)
    secrets: list[Annotated[str, Field(pattern=NAME_PATTERN)]] = Field(default_factory=list)
    env: dict[str, str | int | float | bool] = Field(default_factory=dict)
    defaults: Defaults = Field(default_factory=Defaults)
    nodes: list[Node] | None = Field(default=None, min_length=1)
    stages: list[Stage] | None = Field(default=None, min_length=1)
    outputs: dict[str, Any] = Field(default_factory=dict)
    tests: list[WorkflowTest] = Field(
        default_factory=list, description="Workflow tests: `flowrun test`, pytest, Test Explorer."
    )

    _nodes_or_stages = model_validator(mode="after")(checks.nodes_or_stages)


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
