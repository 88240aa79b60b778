"""Pausing an execution (issue 17): before a node with a breakpoint (`options.break_before`),
on a node's failure (`options.pause_on_failure`), or on request (SIGUSR1 from the supervisor).

A pause starts no node any more: the nodes already running finish (their outputs are part of
the checkpoint), the nodes that were ready stay `pending`, no later stage begins, and the
execution finishes `paused` with `error.pausedAt` naming the node(s) it stopped before or
on. The server resumes it in a new child, the completed nodes given (`options.given_outputs`)
and the nodes it paused before in `options.resume_past`: their breakpoint is passed once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

PAUSED = "paused"


class Pausing:
    def __init__(self, options: Mapping[str, Any]) -> None:
        self.break_before = frozenset(str(n) for n in options.get("break_before") or ())
        self.on_failure = bool(options.get("pause_on_failure"))
        # a resume goes past the breakpoints it paused at once (a debugger's Continue)
        self._past = set(str(n) for n in options.get("resume_past") or ())
        self.requested = False
        self.reason: str | None = None  # "breakpoint" | "failure" | "request"
        self.at: list[str] = []  # the nodes it paused before (or on, for a failure)

    @property
    def paused(self) -> bool:
        return self.reason is not None

    def request(self) -> None:
        """SIGUSR1: pause before the next node that would start."""
        self.requested = True

    def holds(self, node_id: str) -> bool:
        """Whether `node_id`, ready to run, must wait for the resume instead."""
        past = node_id in self._past
        self._past.discard(node_id)
        if self.paused:
            reason = self.reason
        elif node_id in self.break_before and not past:
            reason = "breakpoint"
        elif self.requested:
            reason = "request"
        else:
            return False
        self.reason = reason
        self.at.append(node_id)
        return True

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
        }[self.reason or "request"]
        error: dict[str, Any] = {
            "type": "Paused",
            "message": f"Paused {where}.",
            "suggestion": "Resume with `flowrun resume <id>` (or Resume in the editor); "
            "edit the file first to change the nodes still to run.",
            "pausedAt": list(self.at),
            "reason": self.reason,
        }
        if failures:
            error["errors"] = failures
        return error
