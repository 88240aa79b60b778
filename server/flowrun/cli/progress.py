"""Progress of a running execution, folded from engine events, without Rich: the node
statuses (`NodeProgress`, drawn live by `cli.live`) and the plain lines written to a pipe
(`ProgressLines`): one per node start and end, and each log line prefixed by its node id
(like `act` and GitHub Actions)."""

from __future__ import annotations

import json
import sys
import time
from typing import Any, TextIO

from flowrun.humanize import format_duration
from flowrun.status_style import PINNED, icon
from flowrun_engine import events as ev

PREVIEW_CHARS = 300


def preview(value: Any, limit: int = PREVIEW_CHARS) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class NodeProgress:
    """Node statuses and durations folded from engine events (one entry per node)."""

    def __init__(self) -> None:
        self.nodes: dict[str, dict[str, Any]] = {}
        self.status = "queued"
        self.id_width = 0  # the longest node id of the plan: log prefixes line up

    def update(self, event: dict[str, Any]) -> dict[str, Any] | None:
        """Apply an event; returns the node entry it changed, if any."""
        name = event.get("event")
        if name == ev.EXECUTION_STARTED:
            self._plan(event.get("plan") or {})
            return None
        if name == ev.EXECUTION_FINISHED:
            self.status = str(event.get("status"))
            return None
        node = event.get("node")
        if node is None or name not in (ev.NODE_STARTED, ev.NODE_FINISHED, ev.NODE_RETRY):
            return None
        entry = self.nodes.setdefault(str(node), _entry(None))
        if name == ev.NODE_STARTED:
            entry.update(status="running", started=time.monotonic(), attempt=event.get("attempt"))
        elif name == ev.NODE_RETRY:
            entry.update(status="running", retry=event.get("attempt"))
        else:
            entry.update(status=event.get("status"), duration_ms=event.get("duration_ms"))
            entry.update(error=event.get("error"), pinned=bool(event.get("pinned")))
        entry["iteration"] = event.get("iteration")
        return entry

    def _plan(self, plan: dict[str, Any]) -> None:
        self.status = "running"
        for stage in plan.get("stages", []):
            for node in stage.get("nodes", []):
                self.nodes.setdefault(str(node["id"]), _entry(node.get("type")))
        self.id_width = max((len(node_id) for node_id in self.nodes), default=0)


def _entry(node_type: str | None) -> dict[str, Any]:
    return {"status": "pending", "type": node_type, "duration_ms": None, "error": None}


class ProgressLines:
    """Plain progress (piped output): node starts and ends, and, unless `logs` is off,
    every log line of every node as it comes."""

    def __init__(self, stream: TextIO | None = None, *, logs: bool = True) -> None:
        self.stream = stream or sys.stderr
        self.logs = logs
        self.progress = NodeProgress()

    def update(self, event: dict[str, Any]) -> None:
        self.progress.update(event)
        if event.get("event") == ev.NODE_LOG:
            lines = log_lines(event, self.progress.id_width) if self.logs else []
        else:
            line = progress_line(event)
            lines = [line] if line else []
        for line in lines:
            print(line, file=self.stream, flush=True)


def node_label(event: dict[str, Any]) -> str:
    return f"{event.get('node')}" + (f" #{event['iteration']}" if event.get("iteration") else "")


def log_lines(event: dict[str, Any], width: int = 0) -> list[str]:
    """`greet | hello`: a node's log text, one line per line, prefixed by the node."""
    prefix = node_label(event).ljust(width)
    text = str(event.get("text") or "")
    return [f"{prefix} | {line}".rstrip() for line in text.splitlines() or [""]]


def progress_line(event: dict[str, Any]) -> str | None:
    name = event.get("event")
    where = node_label(event)
    if name == ev.NODE_STARTED:
        attempt = event.get("attempt") or 1
        return f"▶ {where} started" + (f" (attempt {attempt})" if attempt > 1 else "")
    if name == ev.NODE_RETRY:
        return f"↻ {where} attempt {event.get('attempt')} failed; retrying in {event.get('delay')}s"
    if name == ev.NODE_FINISHED:
        return _finished_line(event, where)
    if name == ev.EXECUTION_FINISHED:
        return f"{icon(str(event.get('status')))} run {event.get('status')}"
    return None


def _finished_line(event: dict[str, Any], where: str) -> str:
    if event.get("pinned"):
        return f"{PINNED.icon} {where} pinned (did not run)"
    status = str(event.get("status"))
    line = f"{icon(status)} {where} {status}"
    line += f" {format_duration(event.get('duration_ms'))}".rstrip()
    error = event.get("error")
    if isinstance(error, dict) and status != "skipped":
        line += f": {error.get('type')}: {preview(error.get('message', ''), 200)}"
    return line
