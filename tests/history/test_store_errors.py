"""The FlowrunError hierarchy: what the CLI prints and the LSP sends."""

from __future__ import annotations

from flowrun.runs.errors import (
    DependencyError,
    FlowrunError,
    InvalidTrigger,
    PythonNotFound,
    UnknownExecution,
    WorkflowInvalid,
)


def test_error_dicts() -> None:
    assert FlowrunError("boom").error == {"type": "FlowrunError", "message": "boom"}
    assert PythonNotFound("no python", suggestion="install it").error == {
        "type": "PythonNotFound", "message": "no python", "suggestion": "install it",
    }  # fmt: skip
    assert InvalidTrigger("bad").error["type"] == "InvalidTrigger"
    assert str(UnknownExecution("nope")) == "nope"


def test_workflow_invalid_counts_its_diagnostics() -> None:
    one = WorkflowInvalid(["d1"])
    assert one.diagnostics == ["d1"]
    assert one.error["type"] == "ValidationError"
    assert one.message == "The workflow has 1 error; nothing was run."
    assert "flowrun validate" in one.error["suggestion"]
    assert WorkflowInvalid(["a", "b"]).message.startswith("The workflow has 2 errors")
    custom = WorkflowInvalid([], "custom", suggestion="do this")
    assert custom.error == {"type": "ValidationError", "message": "custom", "suggestion": "do this"}


def test_dependency_error_names_packages_and_command() -> None:
    error = DependencyError(["httpx", "rich"], ["/py", "-m", "pip", "install", "httpx", "rich"])
    assert error.message == "Missing Python packages: httpx, rich."
    assert error.error["missing"] == ["httpx", "rich"]
    assert error.error["command"][-1] == "rich"
    assert error.error["suggestion"] == "Install them with: /py -m pip install httpx rich"


def test_dependency_error_quotes_version_specifiers_for_the_shell() -> None:
    error = DependencyError(["httpx>=0.27"], ["/py", "-m", "pip", "install", "httpx>=0.27"])
    assert error.error["suggestion"] == "Install them with: /py -m pip install 'httpx>=0.27'"
