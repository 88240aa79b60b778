"""The statuses of executions, stages and nodes (design §9): the server's one vocabulary.

`NodeStatus` is the engine's own (`flowrun_engine.state`, stdlib only), so the child and the
history share one set of names. The extension mirrors these in `protocol.ts`.
"""

from __future__ import annotations

from enum import StrEnum

from flowrun_engine.state import NodeStatus as NodeStatus


class ExecutionStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    PAUSED = "paused"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    STOPPED = "stopped"
    TIMED_OUT = "timed_out"
    INTERRUPTED = "interrupted"

    @property
    def is_terminal(self) -> bool:
        return self not in ACTIVE


# An execution in one of these has not ended: it may still change, and it keeps its slot.
ACTIVE: tuple[ExecutionStatus, ...] = (
    ExecutionStatus.QUEUED,
    ExecutionStatus.RUNNING,
    ExecutionStatus.PAUSED,
)
ACTIVE_VALUES: tuple[str, ...] = tuple(str(status) for status in ACTIVE)

# Active and owned by a process (queued or running): ended once, or interrupted when that
# process is gone. A paused execution is active but owned by nobody: it is a checkpoint in the
# history that a resume (a new execution) starts from, whatever process pauses or resumes.
LIVE_VALUES: tuple[str, ...] = (ExecutionStatus.QUEUED.value, ExecutionStatus.RUNNING.value)


def is_active(status: str | None) -> bool:
    """True for an execution status that has not ended (unknown text counts as ended)."""
    return status in ACTIVE_VALUES
