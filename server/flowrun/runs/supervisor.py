"""Spawn the engine child, read its events, stop it: one `EngineChild` per execution.

The child is `<python> -c WRAPPER` which moves the event pipe to fd 3 and runs the engine
module with runpy, so `python -m flowrun_engine` semantics hold without a preexec_fn (not
safe with threads, and slower). It starts in a new session: its process group holds every
process the workflow starts, and stopping kills the group (SIGTERM, SIGKILL after `grace`).

Environment of the child (nothing else from the parent process):
* the usual variables, when set: PATH HOME USER LOGNAME SHELL TERM LANG LANGUAGE TZ
  LC_* SYSTEMROOT COMSPEC PATHEXT WINDIR USERPROFILE APPDATA LOCALAPPDATA XDG_*
  SSL_CERT_FILE SSL_CERT_DIR REQUESTS_CA_BUNDLE http(s)_proxy no_proxy VIRTUAL_ENV
  CONDA_PREFIX PYENV_VERSION;
* the workflow's `env`, then the secrets (process environment, then `.env`);
* PYTHONPATH = the run's scratch folder, which holds only a symlink to the engine package;
  PYTHONUNBUFFERED=1; TMPDIR and FLOWRUN_SCRATCH = a `tmp` folder inside it;
  FLOWRUN_EXECUTION_MODE, FLOWRUN_WORKFLOW_ID, FLOWRUN_EXECUTION_ID.
"""

from __future__ import annotations

import atexit
import contextlib
import enum
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    # imported where used: `flowrun run` spawns its child before asyncio loads
    import asyncio
    import logging


def _log() -> logging.Logger:
    import logging  # not at the top: `flowrun run` spawns its child before it loads

    return logging.getLogger(__name__)


EventHandler = Callable[[dict[str, Any]], Awaitable[None]]
StartedHandler = Callable[[int], Awaitable[None]]

PASSTHROUGH = frozenset(
    [
        "PATH",
        "HOME",
        "USER",
        "LOGNAME",
        "SHELL",
        "TERM",
        "LANG",
        "LANGUAGE",
        "TZ",
        "SYSTEMROOT",
        "COMSPEC",
        "PATHEXT",
        "WINDIR",
        "USERPROFILE",
        "APPDATA",
        "LOCALAPPDATA",
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
        "REQUESTS_CA_BUNDLE",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "NO_PROXY",
        "http_proxy",
        "https_proxy",
        "no_proxy",
        "VIRTUAL_ENV",
        "CONDA_PREFIX",
        "PYENV_VERSION",
    ]
)
PASSTHROUGH_PREFIXES = ("LC_", "XDG_")
TAIL_BYTES = 64 * 1024
TAIL_LINES = 20
DRAIN_TIMEOUT = 2.0

# Runs `python -m <module>` after moving the event pipe to fd 3 (not inherited further).
# On Linux it also asks for SIGTERM when the supervisor dies, even by SIGKILL: the engine
# then stops its nodes and their process trees. The parent pid guards the race where the
# supervisor died before prctl.
WRAPPER = (
    "import os,sys\n"
    "fd=int(sys.argv.pop(1));m=sys.argv.pop(1);pp=int(sys.argv.pop(1))\n"
    "if fd!=3:\n os.dup2(fd,3,inheritable=False);os.close(fd)\n"
    "else:\n os.set_inheritable(3,False)\n"
    "try:\n import ctypes;ctypes.CDLL(None).prctl(1,15)\n"
    "except Exception:\n pass\n"
    "if os.getppid()!=pp:\n sys.exit('flowrun: the supervisor is gone')\n"
    "import runpy\n"
    "runpy.run_module(m,run_name='__main__',alter_sys=True)\n"
)


def engine_argv(python: str, write_fd: int, module: str) -> list[str]:
    return [python, "-c", WRAPPER, str(write_fd), module, str(os.getpid())]


class ChildState(enum.Enum):
    STARTING = "starting"
    RUNNING = "running"
    STOPPING = "stopping"
    EXITED = "exited"


# Named tuples, not dataclasses: `dataclasses` loads `inspect`, which `flowrun run` would pay
# for before it spawns its child.


class EngineLocation(NamedTuple):
    """The package (or module file) put on the child's path, and the name to run."""

    path: Path
    module: str


def engine_location() -> EngineLocation:
    """Where `flowrun_engine` is installed, found without importing it."""
    import importlib.util

    spec = importlib.util.find_spec("flowrun_engine")
    if spec is None or spec.origin is None:  # pragma: no cover - broken install
        raise RuntimeError("The flowrun_engine package is not installed next to flowrun.")
    return EngineLocation(Path(spec.origin).parent, "flowrun_engine")


class LaunchSpec:
    def __init__(
        self,
        python: str,
        payload: dict[str, Any],  # the resolved workflow, written to the child's stdin
        execution_id: str,
        workflow_id: str,
        cwd: str,
        env: dict[str, str] | None = None,  # workflow env
        secrets: dict[str, str] | None = None,
        mode: str = "test",
        timeout: float | None = None,  # backstop; the engine enforces its own timeout first
        engine: EngineLocation | None = None,
    ) -> None:
        self.python = python
        self.payload = payload
        self.execution_id = execution_id
        self.workflow_id = workflow_id
        self.cwd = cwd
        self.env = {} if env is None else env
        self.secrets = {} if secrets is None else secrets
        self.mode = mode
        self.timeout = timeout
        self.engine = engine

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LaunchSpec) and vars(self) == vars(other)

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if k != "secrets")
        return f"LaunchSpec({fields})"


class RunResult(NamedTuple):
    status: str
    outputs: dict[str, Any] | None
    error: dict[str, Any] | None
    exit_code: int | None
    finished_by_engine: bool


def child_environment(
    spec: LaunchSpec, scratch: Path, environ: Mapping[str, str] | None = None
) -> dict[str, str]:
    source = os.environ if environ is None else environ
    env = {
        key: value
        for key, value in source.items()
        if key in PASSTHROUGH or key.startswith(PASSTHROUGH_PREFIXES)
    }
    env.update(spec.env)
    env.update(spec.secrets)
    tmp = str(scratch / "tmp")
    env.update(
        {
            "PYTHONPATH": str(scratch),
            "PYTHONUNBUFFERED": "1",
            "TMPDIR": tmp,
            "FLOWRUN_SCRATCH": tmp,
            "FLOWRUN_EXECUTION_MODE": spec.mode,
            "FLOWRUN_WORKFLOW_ID": spec.workflow_id,
            "FLOWRUN_EXECUTION_ID": spec.execution_id,
        }
    )
    return env


SCRATCH_PREFIX = "flowrun-run-"


def make_scratch(engine: EngineLocation) -> Path:
    """A 0700 folder with the engine symlinked in (the child's only PYTHONPATH entry).

    Its name holds the supervisor's pid, so that a later supervisor can remove the folders
    of one that was killed (SIGKILL leaves no chance to clean up).
    """
    scratch = Path(tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-"))
    os.chmod(scratch, 0o700)
    (scratch / "tmp").mkdir(mode=0o700)
    (scratch / engine.path.name).symlink_to(engine.path, engine.path.is_dir())
    return scratch


# --- every live process group, killed when this process exits --------------------------

_live_groups: set[int] = set()
_live_scratch: set[Path] = set()
_handlers_installed = False


def live_groups() -> set[int]:
    return set(_live_groups)


def _signal_group(pgid: int, sig: int) -> bool:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def kill_live_groups(grace: float = 1.0) -> None:
    """SIGTERM every live group, SIGKILL what is left after `grace` (atexit, signals)."""
    groups = [pgid for pgid in list(_live_groups) if _signal_group(pgid, signal.SIGTERM)]
    deadline = time.monotonic() + grace
    while groups and time.monotonic() < deadline:
        time.sleep(0.02)
        groups = [pgid for pgid in groups if _signal_group(pgid, 0)]
    for pgid in groups:
        _signal_group(pgid, signal.SIGKILL)
    _live_groups.clear()
    for scratch in list(_live_scratch):
        shutil.rmtree(scratch, ignore_errors=True)
    _live_scratch.clear()


def _on_fatal_signal(signum: int, frame: object) -> None:
    kill_live_groups()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def remove_stale_scratch(folder: Path | None = None) -> list[Path]:
    """Remove the scratch folders of supervisors that are gone; returns what was removed."""
    base = folder or Path(tempfile.gettempdir())
    removed = []
    with contextlib.suppress(OSError), os.scandir(base) as entries:
        for entry in entries:
            owner = entry.name[len(SCRATCH_PREFIX) :].split("-", 1)[0]
            if not entry.name.startswith(SCRATCH_PREFIX) or not owner.isdigit():
                continue
            if _pid_alive(int(owner)) or not entry.is_dir(follow_symlinks=False):
                continue
            with contextlib.suppress(OSError):
                if entry.stat(follow_symlinks=False).st_uid == os.getuid():
                    shutil.rmtree(entry.path)
                    removed.append(Path(entry.path))
    return removed


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def install_exit_handlers() -> None:
    """Once per process: kill live groups at exit and on SIGTERM/SIGHUP (if unhandled);
    remove what killed supervisors left in the temp folder."""
    global _handlers_installed
    if _handlers_installed:
        return
    _handlers_installed = True
    remove_stale_scratch()
    atexit.register(kill_live_groups)
    for signum in (signal.SIGTERM, signal.SIGHUP):
        with contextlib.suppress(ValueError):  # not the main thread
            if signal.getsignal(signum) == signal.SIG_DFL:
                signal.signal(signum, _on_fatal_signal)


# --- a child spawned early, before the event loop runs --------------------------------


class Prespawned:
    """An engine child started with plain `subprocess` (no asyncio loaded yet), so that its
    interpreter boots while the caller loads the rest; it waits for its stdin, which only
    an `EngineChild` that adopts it writes. `discard()` it when nobody adopts it."""

    def __init__(
        self, spec: LaunchSpec, popen: subprocess.Popen[bytes], scratch: Path, read_fd: int
    ) -> None:
        self.spec = spec
        self.popen = popen
        self.scratch = scratch
        self.read_fd = read_fd
        self.adopted = False

    def discard(self) -> None:
        _signal_group(self.popen.pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            os.close(self.read_fd)
        for stream in (self.popen.stdin, self.popen.stdout, self.popen.stderr):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        self.popen.wait()
        _live_groups.discard(self.popen.pid)
        shutil.rmtree(self.scratch, ignore_errors=True)
        _live_scratch.discard(self.scratch)


def prespawn(spec: LaunchSpec) -> Prespawned:
    """Spawn the child of `spec` now, exactly as `EngineChild.start` would."""
    engine = spec.engine or engine_location()
    scratch = make_scratch(engine)
    read_fd, write_fd = os.pipe()
    try:
        install_exit_handlers()
        popen = subprocess.Popen(
            engine_argv(spec.python, write_fd, engine.module),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            pass_fds=(write_fd,),
            start_new_session=True,
            env=child_environment(spec, scratch),
            cwd=spec.cwd,
        )
    except OSError:
        os.close(read_fd)
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    finally:
        os.close(write_fd)
    _live_groups.add(popen.pid)
    _live_scratch.add(scratch)
    return Prespawned(spec, popen, scratch, read_fd)


class _AdoptedProcess:
    """A `Prespawned` child behind the parts of `asyncio.subprocess.Process` used here."""

    def __init__(
        self,
        popen: subprocess.Popen[bytes],
        streams: tuple[asyncio.StreamWriter, asyncio.StreamReader, asyncio.StreamReader],
        exited: asyncio.Future[None],
    ) -> None:
        self._popen = popen
        self.pid = popen.pid
        self.stdin, self.stdout, self.stderr = streams
        self._exited = exited

    @classmethod
    async def attach(cls, popen: subprocess.Popen[bytes]) -> _AdoptedProcess:
        import asyncio

        loop = asyncio.get_running_loop()
        assert popen.stdin is not None and popen.stdout is not None and popen.stderr is not None
        stdout = await _pipe_reader(loop, popen.stdout)
        stderr = await _pipe_reader(loop, popen.stderr)
        protocol = asyncio.StreamReaderProtocol(asyncio.StreamReader(loop=loop), loop=loop)
        transport, _ = await loop.connect_write_pipe(lambda: protocol, popen.stdin)
        stdin = asyncio.StreamWriter(transport, protocol, None, loop)
        exited: asyncio.Future[None] = loop.create_future()

        def wait() -> None:  # a thread: Popen.wait is the portable way to await its exit
            popen.wait()
            with contextlib.suppress(RuntimeError):  # the loop is gone
                loop.call_soon_threadsafe(_set_done, exited)

        threading.Thread(target=wait, name=f"flowrun-wait-{popen.pid}", daemon=True).start()
        return cls(popen, (stdin, stdout, stderr), exited)

    @property
    def returncode(self) -> int | None:
        return self._popen.returncode

    async def wait(self) -> int:
        import asyncio

        await asyncio.shield(self._exited)
        return self._popen.returncode

    def close(self) -> None:
        self.stdin.close()  # the output pipes close at their end of file


def _set_done(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


async def _pipe_reader(loop: asyncio.AbstractEventLoop, pipe: Any) -> asyncio.StreamReader:
    import asyncio

    reader = asyncio.StreamReader(limit=2**16, loop=loop)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader, loop=loop), pipe)
    return reader


if TYPE_CHECKING:
    _Process = asyncio.subprocess.Process | _AdoptedProcess


# --- one child ----------------------------------------------------------------------------


class _Tail:
    """The last bytes a stream wrote, for crash reports."""

    def __init__(self) -> None:
        self.data = bytearray()

    def add(self, chunk: bytes) -> None:
        self.data += chunk
        if len(self.data) > TAIL_BYTES:
            del self.data[: len(self.data) - TAIL_BYTES]

    def lines(self, count: int = TAIL_LINES) -> list[str]:
        return self.data.decode("utf-8", "replace").rstrip().splitlines()[-count:]


class EngineChild:
    """Runs one execution in a child process; `run()` once, `stop()` at any time."""

    def __init__(
        self,
        spec: LaunchSpec,
        *,
        on_event: EventHandler,
        on_started: StartedHandler | None = None,
        grace: float = 3.0,
    ) -> None:
        self.spec = spec
        self.grace = grace
        self._on_event = on_event
        self._on_started = on_started
        self.state = ChildState.STARTING
        self.pid: int | None = None
        self._process: asyncio.subprocess.Process | _AdoptedProcess | None = None
        self._scratch: Path | None = None
        self._read_fd = -1
        self._writer: asyncio.Task[None] | None = None
        self._stop_reason: str | None = None  # "stopped" | "timed_out"
        self._finished: dict[str, Any] | None = None
        self._running_nodes: dict[tuple[str, Any], dict[str, Any]] = {}
        self._stderr = _Tail()
        self._stdout = _Tail()
        self._redactions = _redactions(spec.secrets)
        self._early: Prespawned | None = None

    def adopt(self, early: Prespawned) -> None:
        """Run in `early`, a child already spawned with this spec (before `start`)."""
        self._early = early

    async def _attach(self, early: Prespawned) -> None:
        import asyncio

        self._early = None
        try:
            self._process = await _AdoptedProcess.attach(early.popen)
        except BaseException:
            early.discard()
            raise
        self._scratch, self._read_fd = early.scratch, early.read_fd
        self.pid = early.popen.pid
        self._set_state(ChildState.RUNNING)
        self._writer = asyncio.create_task(self._write_stdin(self._process))

    def _set_state(self, state: ChildState) -> None:
        if state is not self.state:
            _log().debug("execution %s: %s -> %s", self.spec.execution_id, self.state, state)
            self.state = state

    async def start(self) -> None:
        """Spawn the child and hand it its input; `run()` reads its events.

        Separate so a caller can let the child boot while it records the execution.
        """
        import asyncio

        if self._process is not None or self._stop_reason is not None:
            return
        if self._early is not None:
            await self._attach(self._early)
            return
        engine = self.spec.engine or engine_location()
        scratch = make_scratch(engine)
        read_fd, write_fd = os.pipe()
        try:
            self._process = await self._spawn(engine, scratch, write_fd)
        except OSError:
            os.close(read_fd)
            shutil.rmtree(scratch, ignore_errors=True)
            raise
        finally:
            os.close(write_fd)
        self._scratch, self._read_fd = scratch, read_fd
        _live_scratch.add(scratch)
        self._writer = asyncio.create_task(self._write_stdin(self._process))

    async def run(self) -> RunResult:
        await self.start()
        process = self._process
        if process is None:  # stopped before it started
            if self._early is not None:
                self._early.discard()
                self._early = None
            return await self._result(exit_code=None)
        try:
            return await self._supervise(process, self._read_fd)
        finally:
            if isinstance(process, _AdoptedProcess):
                process.close()
            _live_groups.discard(process.pid)
            if self._scratch is not None:
                shutil.rmtree(self._scratch, ignore_errors=True)
                _live_scratch.discard(self._scratch)

    async def _spawn(
        self, engine: EngineLocation, scratch: Path, write_fd: int
    ) -> asyncio.subprocess.Process:
        import asyncio

        install_exit_handlers()
        process = await asyncio.create_subprocess_exec(
            *engine_argv(self.spec.python, write_fd, engine.module),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            pass_fds=(write_fd,),
            start_new_session=True,
            env=child_environment(self.spec, scratch),
            cwd=self.spec.cwd,
        )
        self.pid = process.pid
        _live_groups.add(process.pid)
        self._set_state(ChildState.RUNNING)
        return process

    async def _supervise(self, process: _Process, read_fd: int) -> RunResult:
        import asyncio

        if self._on_started is not None:
            await self._on_started(process.pid)
        readers = [
            asyncio.create_task(self._read_events(read_fd)),
            asyncio.create_task(_drain(process.stdout, self._stdout)),
            asyncio.create_task(_drain(process.stderr, self._stderr)),
        ]
        try:
            if self._stop_reason is not None:
                await self._terminate()
            await self._wait_exit(process)
        finally:
            self._set_state(ChildState.EXITED)
            _signal_group(process.pid, signal.SIGKILL)  # whatever the workflow left behind
            if self._writer is not None:
                self._writer.cancel()
            await _finish_readers(readers)
        return await self._result(exit_code=process.returncode)

    async def _wait_exit(self, process: _Process) -> None:
        import asyncio

        timeout = self.spec.timeout
        if timeout is None:
            await process.wait()
            return
        try:
            # the engine stops itself at `timeout`; this is the backstop
            await asyncio.wait_for(asyncio.shield(process.wait()), timeout + self.grace + 1.0)
        except TimeoutError:
            if self._stop_reason is None:
                self._stop_reason = "timed_out"
            await self._terminate()
            await process.wait()

    async def _write_stdin(self, process: _Process) -> None:
        assert process.stdin is not None
        data = json.dumps(self.spec.payload).encode("utf-8")
        with contextlib.suppress(ConnectionError, BrokenPipeError):
            process.stdin.write(data)
            await process.stdin.drain()
            process.stdin.close()
            await process.stdin.wait_closed()

    async def _read_events(self, read_fd: int) -> None:
        import asyncio

        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=2**16, loop=loop)
        pipe = os.fdopen(read_fd, "rb", buffering=0)
        transport, _ = await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader, loop=loop), pipe
        )
        try:
            buffer = bytearray()
            while chunk := await reader.read(2**16):
                buffer += chunk
                lines = buffer.split(b"\n")
                buffer = lines.pop()
                for line in lines:
                    await self._handle_line(line)
            if buffer.strip():
                await self._handle_line(bytes(buffer))
        finally:
            transport.close()

    async def _handle_line(self, line: bytes | bytearray) -> None:
        for raw, masked in self._redactions:
            if raw in line:
                line = line.replace(raw, masked)
        try:
            event = json.loads(line)
        except ValueError:
            _log().warning("execution %s: not an event: %.200r", self.spec.execution_id, line)
            return
        if not isinstance(event, dict):
            return
        self._track(event)
        try:
            await self._on_event(event)
        except Exception:  # keep reading: a stalled pipe would block the child
            _log().exception("execution %s: handling an event failed", self.spec.execution_id)
        if self._finished is event and self._process is not None:
            # The run is over; the engine's own teardown would only delay the result.
            # (Its group is killed after every run anyway.)
            _signal_group(self._process.pid, signal.SIGKILL)

    def _track(self, event: dict[str, Any]) -> None:
        name = event.get("event")
        key = (str(event.get("node")), event.get("iteration"))
        if name == "node_started":
            self._running_nodes[key] = event
        elif name == "node_finished":
            self._running_nodes.pop(key, None)
        elif name == "execution_finished":
            self._finished = event

    async def stop(self, reason: str = "stopped") -> None:
        """SIGTERM the child's group, SIGKILL it after the grace period."""
        if self._stop_reason is None:
            self._stop_reason = reason
        if self._process is not None and self.state is ChildState.RUNNING:
            await self._terminate()

    async def _terminate(self) -> None:
        import asyncio

        process = self._process
        if process is None or self.state is not ChildState.RUNNING:
            return
        self._set_state(ChildState.STOPPING)
        _signal_group(process.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(asyncio.shield(process.wait()), self.grace)
        except TimeoutError:
            _log().info("execution %s: SIGKILL after %.1fs", self.spec.execution_id, self.grace)
            _signal_group(process.pid, signal.SIGKILL)

    async def _result(self, exit_code: int | None) -> RunResult:
        finished = self._finished
        reason = self._stop_reason
        if finished is not None:
            status = str(finished.get("status", "failed"))
            error = finished.get("error")
            if reason == "timed_out" and status in ("stopped", "failed"):
                status, error = "timed_out", self._timeout_error()
            return RunResult(status, finished.get("outputs"), error, exit_code, True)
        status, error = self._unfinished_outcome(exit_code)
        await self._emit_missing_events(status, error)
        return RunResult(status, None, error, exit_code, False)

    def _unfinished_outcome(self, exit_code: int | None) -> tuple[str, dict[str, Any]]:
        if self._stop_reason == "timed_out":
            return "timed_out", self._timeout_error()
        if self._stop_reason is not None:
            return "stopped", {"type": "Stopped", "message": "The execution was stopped."}
        return "failed", self._crash_error(exit_code)

    def _timeout_error(self) -> dict[str, Any]:
        return {
            "type": "ExecutionTimeout",
            "message": f"The execution did not finish within {self.spec.timeout:g} s.",
            "suggestion": "Raise the timeout (`--timeout`, or `defaults.timeout` for nodes) "
            "or make the slow node faster.",
        }

    def _crash_error(self, exit_code: int | None) -> dict[str, Any]:
        lines = self._stderr.lines() or self._stdout.lines()
        tail = [self._redact_text(line) for line in lines]
        how = f"exit code {exit_code}"
        if exit_code is not None and exit_code < 0:
            how = f"signal {signal.Signals(-exit_code).name}"
        error: dict[str, Any] = {
            "type": "ExecutionError",
            "message": f"The engine process ended ({how}) before finishing the run."
            + (f" Last error output: {tail[-1]}" if tail else ""),
            "suggestion": "Check that the selected interpreter "
            f"({self.spec.python}) is Python 3.11 or newer and can run the workflow's code.",
        }
        if tail:
            error["traceback"] = "\n".join(tail)
        return error

    def _redact_text(self, text: str) -> str:
        for name_value in self.spec.secrets.values():
            if len(name_value) >= 4:
                text = text.replace(name_value, "***")
        return text

    async def _emit_missing_events(self, status: str, error: dict[str, Any]) -> None:
        """Finish what the engine could not: its running nodes, then the execution."""
        node_status = "stopped"
        node_error = {"type": "Stopped", "message": "The engine stopped before this node ended."}
        if status == "timed_out":
            node_error = error
        now = time.time()
        for started in list(self._running_nodes.values()):
            duration_ms = int(max(0.0, now - float(started.get("t", now))) * 1000)
            await self._on_event(
                {
                    "event": "node_finished",
                    "t": now,
                    "node": started.get("node"),
                    "stage": started.get("stage"),
                    "iteration": started.get("iteration"),
                    "attempt": started.get("attempt", 1),
                    "status": node_status,
                    "output": None,
                    "error": node_error,
                    "duration_ms": duration_ms,
                }
            )
        self._running_nodes.clear()
        finished = {"event": "execution_finished", "t": now, "status": status}
        finished.update({"outputs": None, "error": error})
        await self._on_event(finished)


def _redactions(secrets: Mapping[str, str]) -> list[tuple[bytes, bytes]]:
    pairs = []
    for value in secrets.values():
        if len(value) < 4:
            continue
        pairs.append((value.encode("utf-8"), b"***"))
        escaped = json.dumps(value)[1:-1].encode("utf-8")
        if escaped != pairs[-1][0]:
            pairs.append((escaped, b"***"))
    return pairs


async def _drain(stream: asyncio.StreamReader | None, tail: _Tail) -> None:
    if stream is None:
        return
    while chunk := await stream.read(2**16):
        tail.add(chunk)


async def _finish_readers(readers: list[asyncio.Task[None]]) -> None:
    """Let the readers reach EOF; a grandchild holding a pipe open cannot block us."""
    import asyncio

    done, pending = await asyncio.wait(readers, timeout=DRAIN_TIMEOUT)
    for task in pending:
        task.cancel()
    for task in done:
        if task.exception() is not None:
            _log().error("event reader failed", exc_info=task.exception())
    if pending:
        await asyncio.wait(pending)
