"""The fork server of a run's `python` nodes: one interpreter, started once per run with the
node runner imported, forks one process per node (`forkserver.py` is the engine's side).

    python -u -c BOOT <socket fd>

Requests come on a `SOCK_SEQPACKET` socket: `S` and the node's `FLOWRUN_NODE_TOKEN`, with
four descriptors (the node's stdin, stdout, stderr and result pipe). For each one the
server forks and answers `(b"P", pid, 0)`, and when that process exits, `(b"X", pid, exit
code)` (`marshal` data; a signal gives `-signal`, as `subprocess` does). It exits when the
socket closes.

A forked node process is what `python -u -c pyrunner` was, without the interpreter start:
it stays in the engine's process group, gets the descriptors as 0, 1, 2 and a result fd,
default signal handlers, and runs `pyrunner.main`, which reads the job (with the node's
environment and folder) on stdin. Its `FLOWRUN_NODE_TOKEN` must be in `/proc/<pid>/environ`
(the cookie `containment` looks for), which shows the environment the process was exec'd
with, not `os.environ`: the server is exec'd with a placeholder (`placeholder(room)`),
which each child overwrites in place with its own token (through `/proc/self/mem`), so its
forks carry the token too, exec'd or not.

Imports almost nothing: each node process inherits what this one loaded.
"""

import marshal
import os
import select
import signal
import socket
import sys

TOKEN_VAR = "FLOWRUN_NODE_TOKEN"
_FDS = 4  # stdin, stdout, stderr, result


def placeholder(room: int) -> str:
    """The value the server is exec'd with for `FLOWRUN_NODE_TOKEN`: `room` characters."""
    return "-" * room


def serve(sock_fd: int) -> None:
    sock = socket.socket(fileno=sock_fd)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    while True:
        ready, _, _ = select.select([sock.fileno(), wake_r], [], [])
        if wake_r in ready:
            os.read(wake_r, 512)
            _report_exits(sock)
        if sock.fileno() not in ready:
            continue
        message, fds = _receive(sock)
        if not message:
            return  # the engine is done (or gone)
        pid = os.fork()
        if pid == 0:
            sock.close()
            os.close(wake_r)
            os.close(wake_w)
            _child(fds, message[1:].decode())
        for fd in fds:
            os.close(fd)
        sock.send(marshal.dumps((b"P", pid, 0)))


def _receive(sock: socket.socket) -> tuple[bytes, list[int]]:
    import array

    fds = array.array("i")
    try:
        message, ancillary, _, _ = sock.recvmsg(4096, socket.CMSG_SPACE(_FDS * fds.itemsize))
    except OSError:
        return b"", []
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(data[: len(data) - len(data) % fds.itemsize])
    return message, list(fds)


def _report_exits(sock: socket.socket) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        sock.send(marshal.dumps((b"X", pid, os.waitstatus_to_exitcode(status))))


def _child(fds: list[int], token: str) -> None:
    """In the forked process: become the node's process, run its job, exit."""
    code = 1
    try:
        signal.set_wakeup_fd(-1)
        for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP, signal.SIGPIPE):
            signal.signal(sig, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        stdin, stdout, stderr, result = fds
        for target, fd in enumerate((stdin, stdout, stderr)):
            os.dup2(fd, target)
            os.close(fd)
        _mark_environ(token)
        from flowrun_engine import pyrunner

        pyrunner.main(result)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def _mark_environ(token: str) -> None:
    """Write `token` over the placeholder in this process's exec'd environment, so that
    `/proc/<pid>/environ` (and every fork of this process) carries it."""
    os.environ[TOKEN_VAR] = token
    try:
        with open("/proc/self/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
        start, end = int(fields[47]), int(fields[48])  # env_start, env_end: fields 50, 51
        with open("/proc/self/mem", "r+b", buffering=0) as mem:
            mem.seek(start)
            block = mem.read(end - start)
            key = f"{TOKEN_VAR}=".encode()
            at = 0 if block.startswith(key) else block.find(b"\0" + key) + 1
            room = block.find(b"\0", at) - at - len(key)
            value = token.encode()
            if (at == 0 and not block.startswith(key)) or room < len(value):
                return  # no placeholder: the engine still ends this process by its pid
            mem.seek(start + at + len(key))
            mem.write(value + b"\0" * (room - len(value)))
    except (OSError, ValueError, IndexError):
        pass  # not Linux: no /proc to look in either
