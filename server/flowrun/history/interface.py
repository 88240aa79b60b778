"""The history as the rest of the server sees it: one async interface, several backends.

`HistoryStore` (`flowrun.history.store`) implements it, over a SQLite file
(`connection.SqliteDatabase`) or PostgreSQL (`postgres.PgDatabase`), design §9. Callers (the run
service, the CLI, the language server) type against `HistoryBackend`, never against a backend
class, and open one with `open_history` (a path, or a `postgresql://` URL).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, NotRequired, Protocol, TypeAlias, TypedDict, Unpack

from flowrun.history.models import ExecutionSummary, ExecutionTree, WorkflowCost, WorkflowStats
from flowrun.history.stats import CostWindow

Payload: TypeAlias = dict[str, Any] | None
"""A JSON object as the engine sent it (outputs, an error), or none."""


class NewExecution(TypedDict):
    """What `create_execution` takes, as keywords. Left out: `status` queued, `owner_pid` this
    process, `mode` "test", `worker` this machine's name. A key named like a stored column
    of `ExecutionHead` (`mode`, ...) is written to that column as it is
    (`flowrun.history.columns.created`)."""

    execution_id: str
    workflow_id: str
    file: str
    trigger: dict[str, Any] | None
    inputs: dict[str, Any] | None
    status: NotRequired[str]
    owner_pid: NotRequired[int | None]
    mode: NotRequired[str]
    test_name: NotRequired[str | None]  # the workflow test it runs (flowrun.testing)
    worker: NotRequired[str | None]
    parent_execution_id: NotRequired[str | None]  # a re-run or resume (issue 17)
    from_node: NotRequired[str | None]


class ExecutionFilter(TypedDict, total=False):
    """What `list_executions` takes, as keywords; the defaults are `reader.list_executions`'s
    (no filter, the newest 50)."""

    workflow_id: str | None
    file: str | None
    status: str | None
    since: float | None
    before: str | None
    limit: int
    mode: str | None


class HistoryBackend(Protocol):
    @property
    def path(self) -> Path: ...

    @property
    def read_only(self) -> bool: ...

    @property
    def location(self) -> str:
        """The file, or the URL without its password: what to tell the user."""
        ...

    @property
    def notices(self) -> list[str]: ...

    def on_notice(self, show: Callable[[str], None] | None) -> None: ...

    async def close(self) -> None: ...

    # -- writing: an execution's life ------------------------------------------------------

    async def create_execution(self, **execution: Unpack[NewExecution]) -> None: ...

    async def set_process(self, execution_id: str, *, pgid: int) -> None: ...

    async def set_trace_id(self, execution_id: str, trace_id: str) -> None:
        """The OpenTelemetry trace the execution was exported as (`flowrun.telemetry`)."""
        ...

    async def record_event(self, execution_id: str, event: dict[str, Any]) -> Awaitable[None]:
        """Buffer an engine event. The result is done once the event is readable by every
        reader of the history (committed): announce the event only then."""
        ...

    async def flush(self) -> None: ...

    async def finish(
        self, execution_id: str, *, status: str, outputs: Payload, error: Payload
    ) -> None: ...

    async def mark_interrupted(self) -> list[str]: ...

    async def prune(self, workflow_id: str | None = None, file: str | None = None) -> int: ...

    # -- reading -------------------------------------------------------------------------

    async def list_executions(
        self, **filters: Unpack[ExecutionFilter]
    ) -> list[ExecutionSummary]: ...

    async def execution_tree(self, execution_id: str) -> ExecutionTree: ...

    async def execution_part(
        self, execution_id: str, *, stage: Any = ..., node_id: str | None = None
    ) -> ExecutionTree:
        """The tree limited to one stage (None: the nodes outside stages) or one node, without
        logs, as committed: for live updates (`flowrun.history.tree_patches`)."""
        ...

    async def resolve_id(self, prefix: str) -> str: ...

    async def workflow_stats(
        self, workflow_id: str, file: str | None = None
    ) -> WorkflowStats | None: ...

    async def workflow_costs(self, **window: Unpack[CostWindow]) -> list[WorkflowCost]:
        """`flowrun stats`: per workflow file, runs, success, durations, tokens and cost."""
        ...

    async def process_of(self, execution_id: str) -> tuple[int | None, int | None]: ...

    async def node_outputs(self, execution_id: str) -> dict[str, Any]: ...

    async def node_hashes(self, execution_id: str) -> dict[str, str]:
        """The definition hash of each node it recorded (`--changed`, issue 17)."""
        ...

    async def status_of(self, execution_id: str) -> str | None: ...


async def open_history(location: Path | str, *, retention: int = 1000) -> HistoryBackend:
    """The backend for a location: a SQLite file, or a `postgresql://…` URL."""
    from flowrun.history.store import HistoryStore

    return await HistoryStore.open(location, retention=retention)
