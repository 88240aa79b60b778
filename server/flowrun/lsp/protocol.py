"""Params and results of Flowrun's custom LSP requests, notifications and commands (design §7).

Every model speaks camelCase on the wire. Params arrive as plain dicts (see `converter`); the
models also accept pygls' namedtuple-like objects (`from_attributes`) so they work either way.
Method and command names live here too, mirrored by `extension/src/protocol.ts`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, TypeVar

from cattrs import Converter
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams
from pygls.protocol import JsonRPCNotification, JsonRPCRequestMessage, default_converter

from flowrun.spec.checks import NODE_ID_PATTERN

EXECUTE = "flowrun/execute"
STOP = "flowrun/stop"
PAUSE = "flowrun/pause"
RESUME = "flowrun/resume"
HISTORY = "flowrun/history"
EXECUTION = "flowrun/execution"
PYTHON_ENVIRONMENT = "flowrun/pythonEnvironment"
INSTALL_DEPENDENCIES = "flowrun/installDependencies"
EXECUTION_EVENT = "flowrun/executionEvent"
EXECUTIONS_CHANGED = "flowrun/executionsChanged"
LIST_TESTS = "flowrun/listTests"
RUN_TESTS = "flowrun/runTests"
TEST_EVENT = "flowrun/testEvent"
CANCEL_TESTS = "flowrun/cancelTests"
PIN = "flowrun/pin"
UNPIN = "flowrun/unpin"
DEBUG_STATE = "flowrun/debugState"
EVALUATE = "flowrun/evaluate"
BREAKPOINT_LOCATIONS = "flowrun/breakpointLocations"
SET_BREAKPOINTS = "flowrun/setBreakpoints"

CMD_RUN_TEST = "flowrun.runTest"
CMD_STOP = "flowrun.stop"
CMD_RUN_FROM_NODE = "flowrun.runFromNode"
CMD_INSTALL_DEPENDENCIES = "flowrun.installDependencies"
CMD_ADD_AS_TEST = "flowrun.addAsTest"
CMD_PIN_OUTPUT = "flowrun.pinOutput"
CMD_UNPIN = "flowrun.unpin"
CMD_REPIN = "flowrun.repin"
# The extension's own command (it asks for the request before it runs): not a server command.
CLIENT_CMD_RUN_WITH_REQUEST = "flowrun.runTestWithRequest"
# The extension's debugger starts a `flowrun` debug session on the file (CodeLens "⏵ Debug").
CLIENT_CMD_DEBUG_WORKFLOW = "flowrun.debugWorkflow"

# The JSON-RPC error code (server-defined range) of user-facing Flowrun errors.
FLOWRUN_ERROR = -32001


class WireModel(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, from_attributes=True, extra="ignore"
    )

    def wire(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


M = TypeVar("M", bound=WireModel)


class Breakpoint(WireModel):
    """The debugger's breakpoint on a node: plain, conditional (`condition`: a `${{ }}` or bare
    expression, true pauses), or a logpoint (`logMessage`: logged, no pause)."""

    node_id: str = Field(min_length=1)
    condition: str | None = None
    log_message: str | None = None


class PauseOptions(WireModel):
    """Where a run pauses (issue 17): before these nodes (`breakBefore`, `breakpoints`), on a
    node's failure, after a step (the nodes ready first run, then it pauses before the next)."""

    break_before: list[str] = Field(default_factory=list)
    breakpoints: list[Breakpoint] = Field(default_factory=list)
    pause_on_failure: bool = False
    step: bool = False

    def pause_options(self) -> dict[str, Any]:
        """The engine's `options` (snake_case: `flowrun_engine.pausing`)."""
        return {
            "break_before": self.break_before,
            "breakpoints": [point.model_dump() for point in self.breakpoints],
            "pause_on_failure": self.pause_on_failure,
            "step": self.step,
        }


class ExecuteParams(PauseOptions):
    uri: str = Field(min_length=1)
    inputs: dict[str, Any] | None = None
    trigger: dict[str, Any] | None = None
    from_execution: str | None = None
    from_node: str | None = None
    # reuse the unchanged nodes' outputs of the file's last success (`runs.changed`)
    changed: bool = False


class RunFromNodeArgs(ExecuteParams):
    from_node: str = Field(min_length=1)


class ExecuteResult(WireModel):
    execution_id: str
    # a `changed` run: the nodes given their base's output, the ones that run (node → why),
    # and why nothing was reused (no base, other inputs); all null otherwise
    reused: list[str] | None = None
    run: dict[str, str] | None = None
    note: str | None = None


class ExecutionRef(WireModel):
    execution_id: str = Field(min_length=1)


class StopResult(WireModel):
    stopped: bool


class PauseResult(WireModel):
    paused: bool


class ResumeParams(PauseOptions):
    execution_id: str = Field(min_length=1)
    from_node: str | None = Field(default=None, min_length=1)


class ResumeResult(WireModel):
    execution_id: str
    changed: list[str]  # completed nodes whose definition changed since the pause


# flowrun.status.ExecutionStatus, spelled out for the JSON schema (a test keeps them equal)
Status = Literal[
    "queued", "running", "paused", "succeeded", "failed", "stopped", "timed_out", "interrupted"
]


# design §9: where an execution came from
Mode = Literal["test", "production", "batch"]


class HistoryParams(WireModel):
    uri: str | None = None
    workflow_id: str | None = None
    status: Status | None = None
    mode: Mode | None = None
    limit: int = Field(default=50, ge=1, le=1000)
    before: str | None = None


class HistoryResult(WireModel):
    executions: list[dict[str, Any]]


class PythonEnvironmentParams(WireModel):
    python: str | None = None


class PythonEnvironmentResult(WireModel):
    path: str
    version: str | None
    ok: bool
    problems: list[str]
    missing: list[str]


class DocumentRef(WireModel):
    uri: str = Field(min_length=1)


class InstallDependenciesResult(WireModel):
    installed: list[str]
    output: str


class WirePosition(WireModel):
    line: int = Field(ge=0)
    character: int = Field(ge=0)


class WireRange(WireModel):
    start: WirePosition
    end: WirePosition


class FixEdit(WireModel):
    range: WireRange
    new_text: str


class Fix(WireModel):
    """A quick fix, carried in a diagnostic's `data.fix` and read back by code actions."""

    title: str = Field(min_length=1)
    edits: list[FixEdit] = Field(default_factory=list)
    command: str | None = None


class DiagnosticData(WireModel):
    fix: Fix | None = None


# --- pin files (issue 17: flowrun/pin, flowrun/unpin; flowrun.pinOutput, .unpin, .repin) ----


class PinParams(WireModel):
    """Pin the node's output of this execution (the Executions view's "Pin output")."""

    execution_id: str = Field(min_length=1)
    node_id: str = Field(min_length=1)


class UnpinParams(WireModel):
    """The node's workflow named by an execution of it (the Executions view) or its file
    (`uri`: the quick fixes of `stale-pin`). `nodeId` names the pin file: a node id only, so
    that `../` cannot remove a file outside the pins folder."""

    node_id: str = Field(pattern=NODE_ID_PATTERN)
    execution_id: str | None = None
    uri: str | None = None


class PinResult(WireModel):
    path: str  # the pin file
    stale: bool  # its hash is not the node's current one (the output of an older definition)


class UnpinResult(WireModel):
    removed: bool  # false: there was no pin file


# --- workflow tests (flowrun/listTests, flowrun/runTests, flowrun/testEvent) ----------------


class ListTestsParams(WireModel):
    uri: str | None = None  # one file; default: every workflow file of the workspace


class TestItem(WireModel):
    id: str  # `path::name`
    name: str
    range: WireRange  # its `- name:` line


class TestFile(WireModel):
    uri: str
    tests: list[TestItem]
    problem: str | None = None  # why its tests cannot run (the file's first error)


class ListTestsResult(WireModel):
    files: list[TestFile]


class TestSelection(WireModel):
    uri: str = Field(min_length=1)
    name: str | None = None  # one test; default: every test of the file


class RunTestsParams(WireModel):
    items: list[TestSelection] | None = None  # default: every test of the workspace
    run_id: str | None = None  # the client's; default: a new one


class RunTestsResult(WireModel):
    run_id: str
    tests: list[str]  # ids, in the order they run


class CancelTestsParams(WireModel):
    run_id: str = Field(min_length=1)


class CancelTestsResult(WireModel):
    cancelled: bool  # false: no such run going on (it ended, or never was)


class TestMessage(WireModel):
    message: str
    expected: str | None = None
    actual: str | None = None
    uri: str
    range: WireRange


class TestEvent(WireModel):
    """`state`: started (with executionId), passed, failed, errored; then one `finished`
    for the run (no `id`)."""

    run_id: str
    state: Literal["started", "passed", "failed", "errored", "finished"]
    id: str | None = None
    uri: str | None = None
    name: str | None = None
    execution_id: str | None = None
    duration_ms: int | None = None
    messages: list[TestMessage] = Field(default_factory=list)


class AddedTest(WireModel):
    """`flowrun.addAsTest`: the test written into `uri` (its `- name:` at `line`)."""

    uri: str
    name: str
    line: int
    applied: bool


class ExecutionEvent(WireModel):
    execution_id: str
    event: dict[str, Any]
    # the part of the tree the event changed (history/tree_patches.py): clients render it
    patch: Mapping[str, Any] | None = None


def parse(model: type[M], params: Any) -> M:
    """Validate request params; a problem becomes -32602 naming the field."""
    try:
        return model.model_validate(to_plain(params) if params is not None else {})
    except ValidationError as exc:
        raise JsonRpcInvalidParams(_describe(model, exc)) from None


def _describe(model: type[WireModel], exc: ValidationError) -> str:
    problems = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"]) or "params"
        field = model.model_fields.get(str(error["loc"][0])) if error["loc"] else None
        if field is not None and field.alias:
            where = ".".join([field.alias, *(str(p) for p in error["loc"][1:])])
        problems.append(f"{where}: {error['msg']}")
    return "Invalid params: " + "; ".join(problems)


def to_plain(value: Any) -> Any:
    """Dicts, lists and namedtuple-like objects → plain JSON data."""
    if isinstance(value, Mapping):
        return {str(key): to_plain(item) for key, item in value.items()}
    if hasattr(value, "_asdict"):
        return {key: to_plain(item) for key, item in value._asdict().items()}
    if isinstance(value, list | tuple):
        return [to_plain(item) for item in value]
    return value


def flowrun_error(error: Mapping[str, Any], code: int = FLOWRUN_ERROR) -> JsonRpcException:
    """A JSON-RPC error carrying a design §5 error object as `data`."""
    message = str(error.get("message", "Flowrun error"))
    if suggestion := error.get("suggestion"):
        message = f"{message} {suggestion}"
    return JsonRpcException(message, code=code, data=dict(error))


def converter() -> Converter:
    """pygls' converter, but `flowrun/*` params stay plain dicts.

    pygls turns unknown params into namedtuples with `rename=True`, which silently renames
    keys such as `content-type` in a trigger's headers; our params must reach us as sent.
    """
    conv: Converter = default_converter()  # type: ignore[no-untyped-call]
    for cls in (JsonRPCRequestMessage, JsonRPCNotification):
        previous = conv.get_structure_hook(cls)
        conv.register_structure_hook(cls, _keep_flowrun_params(previous))
    return conv


def _keep_flowrun_params(previous: Any) -> Any:
    def hook(obj: dict[str, Any], cls: type[Any]) -> Any:
        if str(obj.get("method", "")).startswith("flowrun/"):
            return cls(**obj)
        return previous(obj, cls)

    return hook
