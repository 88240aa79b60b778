"""The shapes the history answers with (design §7), defined once: the tree builder makes them,
the CLI, the LSP and the extension (`extension/src/protocol.ts`) read them.

Keys are camelCase because these are wire payloads (`flowrun/history`, `flowrun/execution`,
`flowrun show --json`). Timestamps are ISO-8601 UTC strings ending in `Z`.
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict


class ErrorInfo(TypedDict):
    """A structured error (design §5); the tree keeps every field the engine sent."""

    type: str
    message: str
    traceback: NotRequired[str]
    suggestion: NotRequired[str]
    node: NotRequired[str]
    errors: NotRequired[list[dict[str, Any]]]


class ErrorSummary(TypedDict):
    type: str | None
    message: str | None


class ExecutionHead(TypedDict):
    """What a summary and a tree share. A field not derived by `tree.py` is the column of
    its snake_case name (`flowrun.history.columns`): a new one is a migration, a field here
    and its mirror in `extension/src/protocol.ts` (`ExecutionHeader`)."""

    id: str
    workflowId: str
    file: str
    status: str  # flowrun.status.ExecutionStatus
    mode: str  # test | production | batch
    testName: str | None  # the workflow test it ran (`flowrun test`, Test Explorer), else null
    worker: str | None  # the machine, or the queue worker's name (`flowrun worker --name`)
    attempt: int  # queue mode: the delivery attempt (2+: an earlier worker died)
    startedAt: str | None
    finishedAt: str | None
    durationMs: int | None
    # what the run cost (issue 18, design §9 names): sums over its nodes, null when no node
    # called an LLM; `costUsd` is an estimate (price table, or the agent CLI's own figure),
    # null when no call's price is known
    llmCalls: int | None
    inputTokens: int | None
    outputTokens: int | None
    costUsd: float | None
    traceId: str | None  # the OpenTelemetry trace it was exported as (flowrun.telemetry)
    # a re-run ("Run from here", --from-execution) or a resume (issue 17): the execution its
    # given outputs came from, and the node it started from (null: a whole resume)
    parentExecutionId: str | None
    fromNode: str | None


class ExecutionSummary(ExecutionHead):
    """One line of a history listing."""

    trigger: str  # "POST /path", or "manual"
    error: ErrorSummary | None


class LogEntry(TypedDict):
    t: str | None
    stream: str | None  # "stdout" | "stderr" | "info"
    text: str | None
    attempt: int | None


class RetryInfo(TypedDict):
    attempt: int
    error: Any


class NodeElement(TypedDict):
    """A node (one iteration of it in a loop). A field not derived by `tree.py` is the column
    of its snake_case name in the node's last attempt row (`flowrun.history.columns`): `bool`
    a 0/1 flag, `Any` JSON; a new one is a migration, a field here and its mirror in
    `extension/src/protocol.ts` (`NodeTree`); events fill it from their field of that name."""

    kind: Literal["node"]
    id: str
    type: str | None
    name: str | None
    stage: str | None
    iteration: int | None  # 1-based in a loop stage, else null
    status: str  # flowrun.status.NodeStatus
    attempts: int
    startedAt: str | None
    finishedAt: str | None
    durationMs: int | None
    input: Any
    output: Any
    error: Any  # ErrorInfo or null
    logs: list[LogEntry]
    retries: list[RetryInfo]
    given: bool  # its output was given by "run from here"
    pinned: bool  # its output is the file's `pin`
    mocked: bool  # a workflow test's mock stood in for it
    cached: bool  # its output came from the cache (`cache:`), at no cost
    # what it cost over all its attempts (`node_finished.metrics`), null when it called no LLM
    llmCalls: int | None
    inputTokens: int | None
    outputTokens: int | None
    costUsd: float | None
    metrics: Any  # the rest it measured: provider, model, httpStatus, httpBytes, costUnknown
    configHash: str | None  # its definition hash (flowrun.spec.node_hash), design §9 `hash`


class StageElement(TypedDict):
    kind: Literal["stage"]
    id: str
    status: str  # flowrun.status.NodeStatus
    loop: bool
    iterations: int | None
    startedAt: str | None
    finishedAt: str | None
    durationMs: int | None
    error: Any  # ErrorInfo of the stage as a whole (a loop that never met `until`), or null
    children: list[NodeElement]


class ExecutionTree(ExecutionHead):
    """`flowrun/execution`, `flowrun show --json`: the summary's fields with the full
    trigger and error, and the stages and nodes."""

    trigger: Any
    inputs: Any
    outputs: Any
    error: Any  # ErrorInfo or null
    children: list[NodeElement | StageElement]


class WorkflowStats(TypedDict):
    """The CodeLens line `✓ 2.1 s · 14 runs` of one workflow file."""

    lastExecutionAt: str | None
    lastStatus: str | None
    executionCount: int
    successCount: int
    lastDurationMs: int | None
    lastInputs: Any
    lastCostUsd: float | None
    lastLlmCalls: int | None


class NodeCost(TypedDict):
    """A node in `flowrun stats`: its attempts in the window, durations, tokens, cost."""

    id: str
    runs: int
    avgDurationMs: float | None
    maxDurationMs: int | None
    tokens: int | None
    costUsd: float | None


class WorkflowCost(TypedDict):
    """One workflow file in `flowrun stats --json`."""

    workflowId: str
    file: str
    executions: int
    succeeded: int
    successRate: float
    p50DurationMs: int | None
    p95DurationMs: int | None
    llmCalls: int | None
    inputTokens: int | None
    outputTokens: int | None
    costUsd: float | None
    costPerRunUsd: float | None
    tokensPerRun: float | None
    costliestNodes: list[NodeCost]
    slowestNodes: list[NodeCost]
