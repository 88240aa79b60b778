"""Nothing a node starts outlives the node, nothing a run starts outlives the run.

Every node process gets `FLOWRUN_NODE_TOKEN` (unique per attempt) in its environment, which
its descendants inherit even when they detach. The engine process is a child subreaper
(`enable()`, called by `__main__`), so a detached descendant is re-parented to it and stays
among its descendants: at a node's end the engine ends that node's process tree and every
descendant of the engine carrying the node's token; at the run's end, every descendant of
the engine. In-process runs (tests) are not subreapers: they look for the token in every
process of the machine instead, and at the run's end for `FLOWRUN_EXECUTION_ID`.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

from flowrun_engine import proctree

TOKEN_VAR = "FLOWRUN_NODE_TOKEN"
RUN_VAR = "FLOWRUN_EXECUTION_ID"
# A node's processes get SIGTERM, then SIGKILL after this: under the supervisor's own stop
# grace (3 s), and within the promise that a stopped node's code burns no CPU 1 s later.
NODE_GRACE = 1.0

_state = {"subreaper": False, "spawning": 0}


def enable() -> bool:
    """Make this process (the engine) the subreaper of everything its nodes start."""
    _state["subreaper"] = proctree.become_subreaper()
    return bool(_state["subreaper"])


def is_subreaper() -> bool:
    return bool(_state["subreaper"])


def node_token(execution_id: str, node_id: str, attempt: int, iteration: int | None) -> str:
    loop = f"#{iteration}" if iteration is not None else ""
    return f"{execution_id}:{node_id}{loop}:{attempt}"


@contextlib.contextmanager
def spawning() -> Iterator[set[int]]:
    """Around a spawn whose exit status asyncio collects: add the pid to the set yielded.
    Orphans are not reaped meanwhile (the new pid is not registered yet)."""
    _state["spawning"] += 1
    try:
        yield proctree.WAITED_FOR
    finally:
        _state["spawning"] -= 1


def reap_orphans() -> None:
    """Collect the exit status of re-parented orphans (SIGCHLD), so none stays a zombie.
    Only as the subreaper: run in-process, our children are the host's to wait for."""
    if is_subreaper() and _state["spawning"] == 0:
        proctree.reap_orphans()


def node_leftovers(token: str) -> list[int]:
    among = proctree.descendants_of(os.getpid()) if is_subreaper() else None
    return proctree.pids_with_env(TOKEN_VAR, token, among)


async def end_node(token: str, root: int | None = None) -> list[int]:
    """End the processes of one node attempt: `root`'s tree and whatever carries `token`.
    Returns the pids that were found (empty, and no waiting, when there were none)."""
    found = node_leftovers(token)
    if root is not None and proctree.is_alive(root):
        found.insert(0, root)
    if not found:
        return []
    await proctree.kill_tree_async(found, grace=NODE_GRACE, rescan=lambda: node_leftovers(token))
    return found


async def end_run(execution_id: str) -> list[int]:
    """End every process the run started (before `execution_finished` is written)."""

    def everything() -> list[int]:
        if is_subreaper():
            return proctree.descendants_of(os.getpid())
        return proctree.pids_with_env(RUN_VAR, execution_id)

    found = everything()
    if found:
        await proctree.kill_tree_async(found, grace=NODE_GRACE, rescan=everything)
    reap_orphans()
    return found
