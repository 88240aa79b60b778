"""One vocabulary of statuses (issue 13.2): the server's enums, the engine's, the protocol's."""

from __future__ import annotations

import typing

from flowrun.lsp import protocol
from flowrun.status import ACTIVE_VALUES, ExecutionStatus, NodeStatus, is_active
from flowrun_engine import state


def test_the_statuses_are_design_9s() -> None:
    assert [str(s) for s in ExecutionStatus] == [
        "queued", "running", "paused", "succeeded", "failed", "stopped", "timed_out",
        "interrupted",
    ]  # fmt: skip
    terminal = {s for s in ExecutionStatus if s.is_terminal}
    assert terminal == {"succeeded", "failed", "stopped", "timed_out", "interrupted"}
    assert set(ACTIVE_VALUES) == {"queued", "running", "paused"}
    assert {s for s in NodeStatus if not s.is_terminal} == {"pending", "running", "paused"}
    assert is_active("running") and not is_active("succeeded") and not is_active(None)


def test_the_server_and_the_engine_share_one_node_status() -> None:
    assert NodeStatus is state.NodeStatus


def test_the_protocol_spells_the_same_execution_statuses() -> None:
    assert list(typing.get_args(protocol.Status)) == [str(s) for s in ExecutionStatus]


def test_every_status_has_one_style() -> None:
    from flowrun.status_style import STATUS_STYLES

    assert {str(s) for s in ExecutionStatus} | {str(s) for s in NodeStatus} == set(STATUS_STYLES)
