"""CodeLens: `▶ Run Test`, `⏵ Debug` (the extension's debugger) / `■ Stop`, the last run and
`↻ Re-run changed` (when nodes changed since the last success) above the workflow;
`▶ Run from here`.

A workflow with an HTTP trigger also gets `▶ Run Test with Request…`, which hands its
`trigger.sample` to the extension to edit first.

The workflow lenses sit on the `nodes:`/`stages:` line (line 0 without one); the last run reads
`✓ 2.1 s · 14 runs` (`✓ 2.1 s · $0.004 · 3 LLM calls · 14 runs` when the last run called
an LLM) from the history store. Lenses are refreshed (when the client supports
`workspace/codeLens/refresh`) as runs start and end: see `runs.py`, which ends a run's Stop
lens before the client hears its last event.
"""

from __future__ import annotations

from typing import Any

from lsprotocol import types

from flowrun.humanize import format_cost, format_duration
from flowrun.lsp.outline import Outline
from flowrun.lsp.protocol import (
    CLIENT_CMD_DEBUG_WORKFLOW,
    CLIENT_CMD_RUN_WITH_REQUEST,
    CMD_RUN_FROM_NODE,
    CMD_RUN_TEST,
    CMD_STOP,
)
from flowrun.lsp.server import FlowrunServer, uri_to_path
from flowrun.runs.changed import changed_nodes, last_success_id
from flowrun.status import is_active

STATUS_ICONS = {
    "succeeded": "✓",
    "failed": "✗",
    "stopped": "■",
    "timed_out": "⏱",
    "interrupted": "⚠",
    "running": "…",
    "queued": "…",
}


def setup(server: FlowrunServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_CODE_LENS)
    async def code_lens(params: types.CodeLensParams) -> list[types.CodeLens]:
        uri = params.text_document.uri
        outline = await server.outline(uri)
        if outline is None:
            return []
        anchor = _line_range(outline.anchor_line)
        lenses = [
            _lens(anchor, "▶ Run Test", CMD_RUN_TEST, {"uri": uri}),
            _lens(anchor, "⏵ Debug", CLIENT_CMD_DEBUG_WORKFLOW, {"uri": uri}),
        ]
        if outline.http_trigger:
            request = {"uri": uri, "trigger": outline.trigger_sample}
            lenses.append(
                _lens(anchor, "▶ Run Test with Request…", CLIENT_CMD_RUN_WITH_REQUEST, request)
            )
        stats = await _stats(server, outline.workflow_id, uri)
        lenses += await _rerun_changed(server, outline, uri, anchor)
        # read after the last await: a run that ended meanwhile has no Stop (runs.py)
        stops = [eid for eid, run_uri in server.active_runs.items() if run_uri == uri]
        lenses += [_lens(anchor, "■ Stop", CMD_STOP, {"executionId": eid}) for eid in stops]
        # the history's last status is the run's own while it goes (`queued` until it ends):
        # the Stop lens says it runs
        if stats and not (stops and is_active(stats.get("lastStatus"))):
            lenses.append(types.CodeLens(range=anchor, command=_last_run(stats)))
        lenses += [
            _lens(
                _line_range(node.range.start.line),
                "▶ Run from here",
                CMD_RUN_FROM_NODE,
                {"uri": uri, "fromNode": node.id},
            )
            for node in outline.nodes
        ]
        return lenses


async def _stats(server: FlowrunServer, workflow_id: str, uri: str) -> dict[str, Any] | None:
    """The statistics of this file: another file with the same workflow id keeps its own."""
    path = uri_to_path(uri)
    if server.store is None or path is None:
        return None
    found = await server.store.workflow_stats(workflow_id, str(path.resolve()))
    return None if found is None else dict(found.items())


async def _rerun_changed(
    server: FlowrunServer, outline: Outline, uri: str, anchor: types.Range
) -> list[types.CodeLens]:
    """`↻ Re-run changed (2 nodes changed since the last success)` when some did: the hashes
    of the file as validated against those its last success recorded (`runs.changed`)."""
    path = uri_to_path(uri)
    if server.store is None or path is None or not outline.hashes:
        return []
    base = await last_success_id(server.store, path)
    if base is None:
        return []
    changed = changed_nodes(dict(outline.hashes), await server.store.node_hashes(base))
    if not changed:
        return []
    count = f"{len(changed)} node{'s' if len(changed) != 1 else ''}"
    title = f"↻ Re-run changed ({count} changed since the last success)"
    return [_lens(anchor, title, CMD_RUN_TEST, {"uri": uri, "changed": True})]


def last_run_title(stats: dict[str, Any]) -> str:
    icon = STATUS_ICONS.get(str(stats.get("lastStatus")), "•")
    count = int(stats.get("executionCount") or 0)
    runs = f"{count} run" if count == 1 else f"{count} runs"
    duration = stats.get("lastDurationMs")
    took = str(stats.get("lastStatus")) if duration is None else format_duration(int(duration))
    return " · ".join([f"{icon} {took}", *_cost(stats), runs])


def _cost(stats: dict[str, Any]) -> list[str]:
    """`$0.004`, `3 LLM calls` of the last run, when it called an LLM (issue 18)."""
    calls = stats.get("lastLlmCalls")
    if not calls:
        return []
    cost = format_cost(stats.get("lastCostUsd"))
    return [part for part in (cost, f"{calls} LLM call{'s' if calls != 1 else ''}") if part]


def _last_run(stats: dict[str, Any]) -> types.Command:
    # A title-only lens: the history view is the extension's, not a server command.
    return types.Command(title=last_run_title(stats), command="")


def _lens(rng: types.Range, title: str, command: str, argument: dict[str, Any]) -> types.CodeLens:
    return types.CodeLens(
        range=rng, command=types.Command(title=title, command=command, arguments=[argument])
    )


def _line_range(line: int) -> types.Range:
    position = types.Position(line=line, character=0)
    return types.Range(start=position, end=position)
