"""print() inside a python node becomes a `node_log` of that node.

While a run is going, `sys.stdout`/`sys.stderr` are proxies. A worker thread that runs a
node's code registers that node's context (`node_output`); what the thread writes is split
into lines and logged for that node. Writes from any other thread go to the real stream.
"""

from __future__ import annotations

import contextlib
import io
import sys
import threading
from collections.abc import Iterator
from typing import TextIO

from flowrun_engine.context import LINE_LIMIT, NodeContext

_current = threading.local()


class _NodeLines:
    def __init__(self, ctx: NodeContext, stream: str) -> None:
        self._ctx = ctx
        self._stream = stream
        self._pending = ""

    def write(self, text: str) -> None:
        if self._ctx.logs_exhausted:
            return
        *lines, self._pending = (self._pending + text).split("\n")
        for line in lines:
            self._ctx.log(self._stream, _cut(line))
        while len(self._pending) > LINE_LIMIT:  # a line that never ends: log it in pieces
            self._ctx.log(self._stream, self._pending[:LINE_LIMIT])
            self._pending = self._pending[LINE_LIMIT:]

    def flush(self) -> None:
        if self._pending:
            self._ctx.log(self._stream, _cut(self._pending))
            self._pending = ""


def _cut(line: str) -> str:
    if len(line) <= LINE_LIMIT:
        return line
    return f"{line[:LINE_LIMIT]}… [line cut at {LINE_LIMIT} characters]"


class _Proxy(io.TextIOBase):
    def __init__(self, name: str, real: TextIO) -> None:
        self._name = name
        self.real = real

    def _target(self) -> _NodeLines | None:
        return getattr(_current, self._name, None)

    def write(self, text: str) -> int:
        target = self._target()
        if target is None:
            return self.real.write(text)
        target.write(text)
        return len(text)

    def flush(self) -> None:
        if self._target() is None:
            self.real.flush()

    def writable(self) -> bool:
        return True

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        return self.real.fileno()

    @property
    def buffer(self) -> object:
        """Bytes written here bypass the node's logs (the supervisor keeps the engine's stdout)."""
        return self.real.buffer


@contextlib.contextmanager
def redirected() -> Iterator[None]:
    """Install the proxies for the duration of a run."""
    old_out, old_err = sys.stdout, sys.stderr
    sys.stdout = _Proxy("stdout", old_out)
    sys.stderr = _Proxy("stderr", old_err)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = old_out, old_err


@contextlib.contextmanager
def node_output(ctx: NodeContext) -> Iterator[None]:
    """In the worker thread: route this thread's prints to `ctx`."""
    out, err = _NodeLines(ctx, "stdout"), _NodeLines(ctx, "stderr")
    _current.stdout, _current.stderr = out, err
    try:
        yield
    finally:
        out.flush()
        err.flush()
        _current.stdout = _current.stderr = None
