"""Errors a user sees from the server side (running, history), as design §5 error objects.

Each carries `.error`, the `{type, message, suggestion?}` dict that the CLI prints and the
LSP sends back, so the text is written once, where the problem is found.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from typing import Any


class FlowrunError(Exception):
    """Base class: `str(exc)` is the message, `.error` the structured form."""

    type_name = "FlowrunError"

    def __init__(self, message: str, *, suggestion: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.suggestion = suggestion

    @property
    def error(self) -> dict[str, Any]:
        error: dict[str, Any] = {"type": self.type_name, "message": self.message}
        if self.suggestion:
            error["suggestion"] = self.suggestion
        return error


class WorkflowInvalid(FlowrunError):
    """The workflow file has errors; `.diagnostics` are the validator's Diagnostic objects."""

    type_name = "ValidationError"

    def __init__(
        self,
        diagnostics: Sequence[Any],
        message: str | None = None,
        *,
        suggestion: str | None = None,
    ) -> None:
        self.diagnostics = list(diagnostics)
        count = len(self.diagnostics)
        default = f"The workflow has {count} error{'s' if count != 1 else ''}; nothing was run."
        super().__init__(
            message or default,
            suggestion=suggestion or "Fix the problems `flowrun validate` shows, then run again.",
        )


class PythonNotFound(FlowrunError):
    type_name = "PythonNotFound"


class DependencyError(FlowrunError):
    """Packages of `requires` that the interpreter cannot import; `.command` installs them."""

    type_name = "DependencyError"

    def __init__(
        self,
        missing: Sequence[str],
        command: Sequence[str],
        message: str | None = None,
    ) -> None:
        self.missing = list(missing)
        self.command = list(command)
        names = ", ".join(self.missing)
        super().__init__(
            message or f"Missing Python packages: {names}.",
            suggestion=f"Install them with: {shlex.join(self.command)}",
        )

    @property
    def error(self) -> dict[str, Any]:
        error = super().error
        error["missing"] = list(self.missing)
        error["command"] = list(self.command)
        return error


class InvalidTrigger(FlowrunError):
    type_name = "InvalidTrigger"


class InvalidInput(FlowrunError):
    type_name = "ValidationError"

    def __init__(
        self,
        message: str,
        *,
        suggestion: str | None = None,
        missing: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(message, suggestion=suggestion)
        self.missing = missing or []

    @property
    def error(self) -> dict[str, Any]:
        error = super().error
        if self.missing:
            error["missingInputs"] = self.missing  # the editor asks for these
        return error


class MissingSecret(FlowrunError):
    """A declared secret is neither in the environment nor in the nearest `.env`."""

    type_name = "MissingSecret"


class UnknownExecution(FlowrunError):
    """No execution (or more than one) matches the id or prefix the user gave."""

    type_name = "UnknownExecution"


class NotResumable(FlowrunError):
    """`flowrun resume` / `flowrun/resume` of an execution that is not paused, or from a node
    its workflow does not have."""

    type_name = "NotResumable"
