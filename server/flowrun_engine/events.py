"""Engine events: names, sinks, secret redaction and the size cap (design §5, internals.md).

Every event is a JSON object with `event` and `t` (epoch seconds). `Emitter.emit` is the one
path to a sink; it

1. replaces every secret value (length >= 4) by `***` in every string, recursively, keys
   included (logs, inputs, outputs, errors, tracebacks);
2. cuts large values so one event line stays reasonable. Every string longer than
   `STRING_LIMIT` characters, and then, while the event is still over `EVENT_LIMIT` bytes of
   JSON, its largest top-level field, is replaced by the marker

       {"truncated": true, "size": N, "preview": "first PREVIEW_CHARS characters…"}

   where N is the length of the original: characters for a string, bytes of its JSON for
   anything else. The engine keeps the real values; only the event is cut.

`execution_finished.error` of a failed run is the first failure plus `errors`, the list of
every failure (each with `node` when a node failed). `node_started` comes once per attempt;
`node_retry.attempt` is the number of the attempt that failed and `delay` the wait in seconds
before the next one; `node_finished` comes once, with the last attempt's number. Skipped
nodes (and stages) get a `*_finished` event with `status: skipped` and no `*_started`
(a node skipped because a node it uses did not succeed has `reason`). Pinned and given nodes
get only `node_finished` (`attempt: 0`, `pinned`, `given` or `mocked: true`; a mocked error
finishes the node `failed`).
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from flowrun_engine import jsonfinite

EXECUTION_STARTED = "execution_started"
EXECUTION_FINISHED = "execution_finished"
STAGE_STARTED = "stage_started"
STAGE_FINISHED = "stage_finished"
NODE_STARTED = "node_started"
NODE_LOG = "node_log"
NODE_RETRY = "node_retry"
NODE_FINISHED = "node_finished"

EVENT_LIMIT = 256 * 1024
LOG_BYTES_LIMIT = 2 * 1024 * 1024  # a node attempt's logs (NodeContext.log), then one notice
LOG_LINES_LIMIT = 20_000
STRING_LIMIT = 64 * 1024
PREVIEW_CHARS = 2000
MASK = "***"
MIN_SECRET_LENGTH = 4
_KEEP_FIELDS = {"event", "t", "node", "stage", "iteration", "attempt", "status", "stream"}


class EventSink(Protocol):
    def emit(self, event: dict[str, Any]) -> None: ...


class ListSink:
    """Keeps events in memory (tests, in-process runs)."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def emit(self, event: dict[str, Any]) -> None:
        with self._lock:
            self.events.append(event)

    def of(self, name: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["event"] == name]


class FdSink:
    """One JSON line per event on a file descriptor (fd 3 in the child), flushed per line."""

    def __init__(self, fd: int, secrets: Iterable[str] = ()) -> None:
        self._file = os.fdopen(fd, "w", encoding="utf-8", buffering=1, closefd=False)
        self._lock = threading.Lock()
        self._escaped = [
            (json.dumps(s)[1:-1], MASK) for s in _usable(secrets) if json.dumps(s)[1:-1] != s
        ]

    def emit(self, event: dict[str, Any]) -> None:
        line = jsonfinite.dumps_event(event, default=repr)
        for escaped, mask in self._escaped:
            line = line.replace(escaped, mask)
        with self._lock:
            self._file.write(line + "\n")
            self._file.flush()


def _usable(secrets: Iterable[str]) -> list[str]:
    return sorted({s for s in secrets if len(s) >= MIN_SECRET_LENGTH}, key=len, reverse=True)


class Redactor:
    """Masks each secret as written and as JSON writes it inside a string (`a\\"b`)."""

    def __init__(self, secrets: Iterable[str]) -> None:
        usable = _usable(secrets)
        self._secrets = _usable([*usable, *(json.dumps(s)[1:-1] for s in usable)])

    def text(self, value: str) -> str:
        for secret in self._secrets:
            if secret in value:
                value = value.replace(secret, MASK)
        return value

    def value(self, value: Any) -> Any:
        if not self._secrets:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {self.value(k): self.value(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.value(v) for v in value]
        return value


def truncated(value: Any) -> dict[str, Any]:
    text = value if isinstance(value, str) else json.dumps(value, default=repr)
    size = len(value) if isinstance(value, str) else len(text.encode())
    return {"truncated": True, "size": size, "preview": text[:PREVIEW_CHARS] + "…"}


def _cap_strings(value: Any) -> Any:
    if isinstance(value, str):
        return truncated(value) if len(value) > STRING_LIMIT else value
    if isinstance(value, dict):
        return {k: _cap_strings(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_cap_strings(v) for v in value]
    return value


def _size(value: Any) -> int:
    return len(json.dumps(value, default=repr).encode())


def cap_event(event: dict[str, Any]) -> dict[str, Any]:
    if _size(event) <= STRING_LIMIT:
        return event
    event = _cap_strings(event)
    fields = sorted((k for k in event if k not in _KEEP_FIELDS), key=lambda k: -_size(event[k]))
    for key in fields:
        if _size(event) <= EVENT_LIMIT:
            break
        event[key] = truncated(event[key])
    return event


class Emitter:
    """Builds, redacts and caps events, then hands them to the sink."""

    def __init__(self, sink: EventSink, secrets: Iterable[str] = ()) -> None:
        self.sink = sink
        self.redactor = Redactor(secrets)

    def emit(self, name: str, **fields: Any) -> None:
        event: dict[str, Any] = {"event": name, "t": time.time(), **fields}
        self.sink.emit(cap_event(self.redactor.value(event)))
