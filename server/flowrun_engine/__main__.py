"""`python -m flowrun_engine`: read the resolved workflow on stdin, write events on fd 3.

Exit 0 once `execution_finished` is written (whatever the status); 1 after an internal
crash (a best-effort `execution_finished` is written first); 2 when fd 3 is not open or
stdin is not the expected JSON.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import threading
import traceback
from typing import Any

from flowrun_engine import containment, proctree
from flowrun_engine import events as ev
from flowrun_engine.scheduler import Runner

EVENTS_FD = 3


def main() -> int:
    try:
        os.fstat(EVENTS_FD)
    except OSError:
        print(
            "flowrun_engine: fd 3 is not open; the engine writes its events there. "
            "Run it through `flowrun run` (or pass fd 3 with pass_fds).",
            file=sys.stderr,
        )
        return 2
    try:
        resolved = json.load(sys.stdin)
    except ValueError as exc:
        print(f"flowrun_engine: stdin is not the resolved workflow JSON: {exc}", file=sys.stderr)
        return 2
    workflow = resolved.get("workflow") or {}
    secrets = [os.environ[n] for n in workflow.get("secrets") or [] if n in os.environ]
    sink = ev.FdSink(EVENTS_FD, secrets)
    try:
        asyncio.run(_run(resolved, sink))
    except Exception as exc:
        _crashed(sink, secrets, exc)
        return 1
    return 0


async def _run(resolved: dict[str, Any], sink: ev.FdSink) -> None:
    runner = Runner(resolved, sink)
    # python nodes run in this process and read os.environ: give them the evaluated `env:`
    os.environ.update(runner.env.workflow_env)
    loop = asyncio.get_running_loop()
    _watch_children_with_pidfds(loop)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        loop.add_signal_handler(sig, runner.stop)
    loop.add_signal_handler(signal.SIGUSR1, runner.pause)  # flowrun/pause
    loop.add_signal_handler(signal.SIGUSR2, runner.pausing.reload)  # flowrun/setBreakpoints
    if containment.enable():  # detached descendants come back to us: reap them
        loop.add_signal_handler(signal.SIGCHLD, containment.reap_orphans)
    parent = os.getppid()
    if proctree.die_with_parent(signal.SIGTERM) and os.getppid() != parent:
        runner.stop()  # the supervisor died before we asked to be told
    await runner.execute()


def _watch_children_with_pidfds(loop: asyncio.AbstractEventLoop) -> None:
    """Python 3.11 waits for each subprocess in a new thread; pidfds are cheaper (3.12 default)."""
    if sys.version_info >= (3, 12) or not hasattr(os, "pidfd_open"):
        return
    try:
        os.close(os.pidfd_open(os.getpid()))
    except OSError:  # pragma: no cover - kernel < 5.3
        return
    watcher = asyncio.PidfdChildWatcher()
    watcher.attach_loop(loop)
    asyncio.set_child_watcher(watcher)


def _crashed(sink: ev.FdSink, secrets: list[str], exc: BaseException) -> None:
    error = {
        "type": "ExecutionError",
        "message": f"the Flowrun engine crashed: {type(exc).__name__}: {exc}",
        "traceback": "".join(traceback.format_exception(exc)),
        "suggestion": "this is a bug in Flowrun; please report it with the traceback",
    }
    try:
        ev.Emitter(sink, secrets).emit(
            ev.EXECUTION_FINISHED, status="failed", outputs={}, error=error
        )
    except Exception:
        traceback.print_exc()


def _exit(code: int) -> None:
    """Exit now; a user's non-daemon thread (still running) must not keep the engine alive."""
    sys.stdout.flush()
    sys.stderr.flush()
    others = [t for t in threading.enumerate() if t is not threading.current_thread()]
    if any(t.is_alive() and not t.daemon for t in others):
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    _exit(main())
