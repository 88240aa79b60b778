"""The structured error a node raises for a failure the user should see (design §5).

Import-light (no `typing` at run time): pyrunner.py, which starts once per python node,
raises it too.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class NodeError(Exception):
    """A node failed: `type` is one of the design §5 error types (`ExecutionError`, ...)."""

    def __init__(
        self,
        type: str,
        message: str,
        *,
        suggestion: str | None = None,
        traceback: str | None = None,
        output: Any = None,
    ) -> None:
        super().__init__(message)
        self.type = type
        self.message = message
        self.suggestion = suggestion
        self.traceback = traceback
        self.output = output

    def to_dict(self) -> dict[str, Any]:
        error: dict[str, Any] = {"type": self.type, "message": self.message}
        if self.traceback is not None:
            error["traceback"] = self.traceback
        if self.suggestion is not None:
            error["suggestion"] = self.suggestion
        return error


def execution_error(message: str, suggestion: str) -> NodeError:
    """An `ExecutionError` with its suggestion: what nodes raise for a parameter they cannot
    use or a program they cannot start."""
    return NodeError("ExecutionError", message, suggestion=suggestion)
