"""The engine's side of a run's fork server (`zygote.py`): one interpreter for the run's
`python` nodes, started on the first one, that forks each node's process.

An interpreter start per python node cost more than most nodes' work (eight parallel nodes
paid eight starts); a fork costs a millisecond. The forked process is still a process of
its own, so a timeout or a stop ends it and everything it started, as before: it stays in
the engine's process group, among the engine's descendants, with the node's
`FLOWRUN_NODE_TOKEN` in its `/proc/<pid>/environ`. `ForkServer.close()` ends the server (the
scheduler calls it before `containment.end_run`).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import marshal
import os
import socket
import sys
from array import array
from typing import Any

from flowrun_engine import containment, proctree
from flowrun_engine.zygote import TOKEN_VAR, placeholder

# the package's parent as the engine imported it (the run's scratch link, or the source tree)
_ENGINE_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BOOT = (
    f"import sys;sys.path.insert(0,{_ENGINE_PARENT!r});"
    "from flowrun_engine.zygote import serve;serve(int(sys.argv[1]))"
)
TOKEN_ROOM = 256  # beyond the longest token of the run (`token_room`)


def token_room(execution_id: str, node_ids: list[str]) -> int:
    """Room for every node token of a run (`<execution>:<node>#<iteration>:<attempt>`)."""
    return len(execution_id) + max((len(n) for n in node_ids), default=0) + TOKEN_ROOM


class ForkServerGone(OSError):
    pass


class ForkServer:
    """Started on the first `fork`; `environ`: the server's own environment (the run's)."""

    def __init__(self, environ: dict[str, str] | None = None, room: int = TOKEN_ROOM) -> None:
        self._environ = dict(os.environ if environ is None else environ)
        self._room = room
        self._lock = asyncio.Lock()
        self._sock: socket.socket | None = None
        self._process: asyncio.subprocess.Process | None = None
        self._pids: collections.deque[asyncio.Future[int]] = collections.deque()
        self._exits: dict[int, asyncio.Future[int]] = {}

    async def fork(
        self, token: str, fds: tuple[int, int, int, int]
    ) -> tuple[int, asyncio.Future[int]]:
        """Fork a node process with `fds` as its stdin, stdout, stderr and result pipe (still
        the caller's to close) and `token`; returns its pid and a future of its exit code."""
        if len(token) > self._room:
            raise ValueError(f"node token longer than the fork server's room: {token!r}")
        sock = await self._started()
        loop = asyncio.get_running_loop()
        reply: asyncio.Future[int] = loop.create_future()
        self._pids.append(reply)
        rights = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array("i", fds))]
        try:
            sock.sendmsg([b"S" + token.encode()], rights)
        except OSError as exc:
            self._pids.remove(reply)
            raise ForkServerGone(f"the fork server of python nodes is gone: {exc}") from None
        try:
            pid = await asyncio.shield(reply)
        except asyncio.CancelledError:  # a timeout or a stop while the fork was under way
            await asyncio.shield(self._abandon(reply, token))
            raise
        return pid, self._exit_of(pid)

    def _exit_of(self, pid: int) -> asyncio.Future[int]:
        exited = self._exits.setdefault(pid, asyncio.get_running_loop().create_future())
        exited.add_done_callback(lambda _: self._exits.pop(pid, None))
        return exited

    async def _abandon(self, reply: asyncio.Future[int], token: str) -> None:
        """End the process of a fork nobody waits for any more, once it has a pid."""
        with contextlib.suppress(ForkServerGone):
            pid = await reply
            exited = self._exit_of(pid)
            await containment.end_node(token, pid)
            await asyncio.wait([exited], timeout=containment.NODE_GRACE)

    async def close(self) -> None:
        """End the server (its socket closes; it exits); node processes are not waited for."""
        sock, self._sock = self._sock, None
        if sock is not None:
            asyncio.get_running_loop().remove_reader(sock)
            sock.close()
        self._gone()
        if self._process is not None:
            with contextlib.suppress(ProcessLookupError, asyncio.TimeoutError):
                await asyncio.wait_for(self._process.wait(), timeout=containment.NODE_GRACE)
            with contextlib.suppress(ProcessLookupError):
                self._process.kill()
            proctree.WAITED_FOR.discard(self._process.pid)
            self._process = None

    async def _started(self) -> socket.socket:
        async with self._lock:
            if self._sock is None:
                await self._start()
            assert self._sock is not None
            return self._sock

    async def _start(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        env = {**self._environ, TOKEN_VAR: placeholder(self._room)}
        try:
            with containment.spawning() as waited:
                self._process = await asyncio.create_subprocess_exec(
                    sys.executable, "-u", "-c", BOOT, str(theirs.fileno()),
                    stdin=asyncio.subprocess.DEVNULL,
                    pass_fds=(theirs.fileno(),),
                    env=env,
                )  # fmt: skip
                waited.add(self._process.pid)
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        ours.setblocking(False)
        asyncio.get_running_loop().add_reader(ours, self._on_message)
        self._sock = ours

    def _on_message(self) -> None:
        sock = self._sock
        if sock is None:
            return
        try:
            data = sock.recv(256)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:  # the server died: later forks start a new one
            asyncio.get_running_loop().remove_reader(sock)
            sock.close()
            self._sock = None
            self._gone()
            return
        kind, pid, code = marshal.loads(data)
        if kind == b"P":
            _settle(self._pids.popleft(), pid)
        else:
            loop = asyncio.get_running_loop()
            _settle(self._exits.setdefault(pid, loop.create_future()), code)

    def _gone(self) -> None:
        """Fail the forks still waiting for a pid; processes whose exit will not be reported
        count as ended (containment ends them by token)."""
        while self._pids:
            reply = self._pids.popleft()
            if not reply.done():
                reply.set_exception(ForkServerGone("the fork server of python nodes exited"))
        for exited in list(self._exits.values()):
            _settle(exited, -1)


def _settle(future: asyncio.Future[Any], value: Any) -> None:
    if not future.done():
        future.set_result(value)
