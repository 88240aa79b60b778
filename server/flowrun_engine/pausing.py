"""Pausing an execution (issue 17): before a node with a breakpoint (`options.break_before`,
or `options.breakpoints` with a condition), after a step (`options.step`), on a node's failure
(`options.pause_on_failure`), or on request (SIGUSR1 from the supervisor).

A breakpoint of `options.breakpoints` is `{node_id, condition?, log_message?}` (the editor's
debugger): its `condition` (`${{ }}` or a bare expression) is evaluated just before the node
would start, with the context the node's own expressions see; true pauses there, and so does
a condition that fails (its error is in the pause's message: the debugger shows it). A
`log_message` makes it a logpoint: no pause, the message (expressions interpolated) is logged
as the node's `node_log` with stream `logpoint`. A step lets the nodes released first run and
pauses before the next node that would start (reason `step`).

A pause starts no node any more: the nodes already running finish (their outputs are part of
the checkpoint), the nodes that were ready stay `pending`, no later stage begins, and the
execution finishes `paused` with `error.pausedAt` naming the node(s) it stopped before or
on. The server resumes it in a new child, the completed nodes given (`options.given_outputs`)
and the nodes it paused before in `options.resume_past`: their breakpoint is passed once.

While it runs, the editor's breakpoints can change (`flowrun/setBreakpoints`): the supervisor
writes the new full list to the file `FLOWRUN_BREAKPOINTS` names and sends SIGUSR2, and
`replace` takes it for the nodes that have not started yet (`break_before` stays).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from flowrun_engine import expr
from flowrun_engine.attempts import render_value, truthy

PAUSED = "paused"
LOGPOINT = "logpoint"  # the `stream` of a logpoint's node_log


@dataclass(frozen=True)
class Breakpoint:
    node_id: str
    condition: str | None = None
    log_message: str | None = None

    @classmethod
    def of(cls, raw: Mapping[str, Any]) -> Breakpoint:
        condition, message = raw.get("condition"), raw.get("log_message")
        return cls(
            str(raw["node_id"]),
            str(condition) if condition not in (None, "") else None,
            str(message) if message not in (None, "") else None,
        )


def _breakpoints(
    break_before: Iterable[str], points: Iterable[Mapping[str, Any]]
) -> dict[str, list[Breakpoint]]:
    found: dict[str, list[Breakpoint]] = {}
    for raw in [*({"node_id": n} for n in break_before), *points]:
        point = Breakpoint.of(raw)
        found.setdefault(point.node_id, []).append(point)
    return found


class Pausing:
    def __init__(self, options: Mapping[str, Any], breakpoints_file: str | None = None) -> None:
        self._file = breakpoints_file  # FLOWRUN_BREAKPOINTS: the editor's changed breakpoints
        self._break_before = [str(n) for n in options.get("break_before") or ()]
        self.breakpoints = _breakpoints(self._break_before, options.get("breakpoints") or ())
        self.on_failure = bool(options.get("pause_on_failure"))
        self.step = bool(options.get("step"))
        self._stepped = False  # a step's nodes have started: the next node pauses
        # a resume goes past the breakpoints it paused at once (a debugger's Continue)
        self._past = set(str(n) for n in options.get("resume_past") or ())
        self.requested = False
        self.reason: str | None = None  # "breakpoint" | "failure" | "request" | "step"
        self.at: list[str] = []  # the nodes it paused before (or on, for a failure)
        self.notes: list[str] = []  # conditions that failed, for the pause's message
        self.iteration: int | None = None  # the loop iteration it paused in (before a node)

    @property
    def paused(self) -> bool:
        return self.reason is not None

    def request(self) -> None:
        """SIGUSR1: pause before the next node that would start."""
        self.requested = True

    def reload(self) -> None:
        """SIGUSR2: the breakpoints file was replaced; a file that cannot be read as a list
        of breakpoints changes nothing (the supervisor writes it whole: tmp + rename)."""
        if not self._file:
            return
        try:
            with open(self._file, encoding="utf-8") as f:
                points = json.load(f)
            if isinstance(points, list):
                self.replace(points)
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            pass

    def replace(self, points: Iterable[Mapping[str, Any]]) -> None:
        """The editor's new breakpoints (`{node_id, condition?, log_message?}` each) for the
        nodes still to start; a resume's `resume_past` is kept."""
        self.breakpoints = _breakpoints(self._break_before, points)

    def holds(self, node_id: str, context: Mapping[str, Any]) -> bool:
        """Whether `node_id`, ready to run, must wait for the resume instead; `context` is
        what its expressions see (for breakpoint conditions)."""
        past = node_id in self._past
        self._past.discard(node_id)
        if self.paused:
            reason = self.reason
        elif not past and self._breaks(node_id, context):
            reason = "breakpoint"
        elif self.requested:
            reason = "request"
        elif self._stepped:
            reason = "step"
        else:
            return False
        if not self.at:
            self.iteration = (context.get("loop") or {}).get("iteration")
        self.reason = reason
        self.at.append(node_id)
        return True

    def started(self) -> None:
        """Nodes were started: with `step`, the next node to start pauses."""
        self._stepped = self.step

    def _breaks(self, node_id: str, context: Mapping[str, Any]) -> bool:
        for point in self.breakpoints.get(node_id, ()):
            if point.log_message is not None:
                continue
            if point.condition is None:
                return True
            try:
                if truthy(render_value(point.condition, context)):
                    return True
            except (expr.ExprSyntaxError, expr.ExprEvalError) as exc:
                self.notes.append(f"the condition of `{node_id}`'s breakpoint failed: {exc}")
                return True
        return False

    def logpoints(self, node_id: str, context: Mapping[str, Any]) -> list[str]:
        """The messages of `node_id`'s logpoints (whose condition, if any, holds), expressions
        interpolated; an expression that fails is logged as such."""
        messages = []
        for point in self.breakpoints.get(node_id, ()):
            if point.log_message is None:
                continue
            try:
                if point.condition is not None and not truthy(
                    render_value(point.condition, context)
                ):
                    continue
                messages.append(expr.to_text(expr.render(point.log_message, context)))
            except (expr.ExprSyntaxError, expr.ExprEvalError) as exc:
                messages.append(f"logpoint failed: {exc}")
        return messages

    def failed(self, node_id: str) -> bool:
        """A node failed: True when that pauses the run (the failure does not halt it)."""
        if not self.on_failure:
            return False
        self.reason = self.reason or "failure"
        self.at.append(node_id)
        return True

    def error(self, failures: list[dict[str, Any]]) -> dict[str, Any]:
        """The `error` of `execution_finished` for a paused run: where, why, the failures."""
        nodes = ", ".join(f"`{n}`" for n in self.at)
        where = {
            "breakpoint": f"before {nodes} (a breakpoint)",
            "request": f"before {nodes} (on request)",
            "failure": f"on the failure of {nodes}",
            "step": f"before {nodes} (a step)",
        }[self.reason or "request"]
        notes = "".join(f" {note[0].upper()}{note[1:]}." for note in self.notes)
        error: dict[str, Any] = {
            "type": "Paused",
            "message": f"Paused {where}.{notes}",
            "suggestion": "Resume with `flowrun resume <id>` (or Resume in the editor); "
            "edit the file first to change the nodes still to run.",
            "pausedAt": list(self.at),
            "reason": self.reason,
        }
        if self.iteration is not None:
            error["iteration"] = self.iteration
        if failures:
            error["errors"] = failures
        return error
