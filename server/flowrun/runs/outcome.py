"""How a run ended: its `RunResult`, and what the supervisor reports for an engine that could
not say so itself (timed out, stopped, crashed), with secret values masked."""

from __future__ import annotations

import json
import signal
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

TAIL_BYTES = 64 * 1024
TAIL_LINES = 20


class RunResult(NamedTuple):
    status: str
    outputs: dict[str, Any] | None
    error: dict[str, Any] | None
    exit_code: int | None
    finished_by_engine: bool


def stopped_result() -> RunResult:
    return RunResult("stopped", None, {"type": "Stopped", "message": "Stopped."}, None, False)


class Tail:
    """The last bytes a stream wrote, for crash reports."""

    def __init__(self) -> None:
        self.data = bytearray()

    def add(self, chunk: bytes) -> None:
        self.data += chunk
        if len(self.data) > TAIL_BYTES:
            del self.data[: len(self.data) - TAIL_BYTES]

    def lines(self, count: int = TAIL_LINES) -> list[str]:
        return self.data.decode("utf-8", "replace").rstrip().splitlines()[-count:]


def stopped_error() -> dict[str, Any]:
    return {"type": "Stopped", "message": "The execution was stopped."}


def timeout_error(timeout: float | None) -> dict[str, Any]:
    return {
        "type": "ExecutionTimeout",
        "message": f"The execution did not finish within {timeout:g} s.",
        "suggestion": "Raise the timeout (`--timeout`, or `defaults.timeout` for nodes) "
        "or make the slow node faster.",
    }


def crash_error(
    python: str, exit_code: int | None, lines: list[str], secrets: Mapping[str, str]
) -> dict[str, Any]:
    """The error of an engine that ended without `execution_finished`; `lines` is the tail
    of its stderr (or stdout)."""
    tail = [redact_text(line, secrets) for line in lines]
    how = f"exit code {exit_code}"
    if exit_code is not None and exit_code < 0:
        how = f"signal {signal.Signals(-exit_code).name}"
    error: dict[str, Any] = {
        "type": "ExecutionError",
        "message": f"The engine process ended ({how}) before finishing the run."
        + (f" Last error output: {tail[-1]}" if tail else ""),
        "suggestion": "Check that the selected interpreter "
        f"({python}) is Python 3.11 or newer and can run the workflow's code.",
    }
    if tail:
        error["traceback"] = "\n".join(tail)
    return error


def missing_events(
    running_nodes: Iterable[dict[str, Any]], status: str, error: dict[str, Any], now: float
) -> list[dict[str, Any]]:
    """What the engine could not send: `node_finished` for its running nodes (given by their
    `node_started` events), then `execution_finished`."""
    node_error = {"type": "Stopped", "message": "The engine stopped before this node ended."}
    if status == "timed_out":
        node_error = error
    events = []
    for started in running_nodes:
        duration_ms = int(max(0.0, now - float(started.get("t", now))) * 1000)
        events.append(
            {
                "event": "node_finished",
                "t": now,
                "node": started.get("node"),
                "stage": started.get("stage"),
                "iteration": started.get("iteration"),
                "attempt": started.get("attempt", 1),
                "status": "stopped",
                "output": None,
                "error": node_error,
                "duration_ms": duration_ms,
            }
        )
    finished = {"event": "execution_finished", "t": now, "status": status}
    finished.update({"outputs": None, "error": error})
    events.append(finished)
    return events


def redact_text(text: str, secrets: Mapping[str, str]) -> str:
    for name_value in secrets.values():
        if len(name_value) >= 4:
            text = text.replace(name_value, "***")
    return text


def redactions(secrets: Mapping[str, str]) -> list[tuple[bytes, bytes]]:
    """(raw, masked) byte pairs for the event stream: each value, plain and JSON-escaped."""
    pairs = []
    for value in secrets.values():
        if len(value) < 4:
            continue
        pairs.append((value.encode("utf-8"), b"***"))
        escaped = json.dumps(value)[1:-1].encode("utf-8")
        if escaped != pairs[-1][0]:
            pairs.append((escaped, b"***"))
    return pairs
