"""The warm engine pool: interpreters started ahead, the engine imported, waiting on stdin.

A warm child knows nothing of its execution until it is taken: the first line of its stdin
is a header (the execution's environment, secrets included, and its working folder), the
rest the resolved workflow, as for a cold child. Each execution takes one child and a new
one is started behind it; a child is never reused, so isolation is that of a cold child
(own process group, own scratch folder). Secrets travel only on stdin, never in argv.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import subprocess
import threading
from collections import deque
from pathlib import Path

from flowrun.runs import process_groups
from flowrun.runs.launch import (
    LaunchSpec,
    child_environment,
    engine_location,
    make_scratch,
)
from flowrun.runs.prespawn import Prespawned
from flowrun.runs.spawn import SpawnedEngine, close_and_reap, start_child
from flowrun.serve.zygote import ForkedChild, Zygote

log = logging.getLogger(__name__)
FORK_ATTEMPTS = 3

# As `flowrun.runs.launch.WRAPPER` (fd 3, parent-death signal, parent check), then the
# engine is imported before the header arrives.
WARM_WRAPPER = (
    "import os,sys\n"
    "fd=int(sys.argv.pop(1));pp=int(sys.argv.pop(1))\n"
    "if fd!=3:\n os.dup2(fd,3,inheritable=False);os.close(fd)\n"
    "else:\n os.set_inheritable(3,False)\n"
    "try:\n import ctypes;ctypes.CDLL(None).prctl(1,15)\n"
    "except Exception:\n pass\n"
    "if os.getppid()!=pp:\n sys.exit('flowrun: the supervisor is gone')\n"
    "import json\n"
    "import flowrun_engine.__main__ as m\n"
    "import flowrun_engine.scheduler\n"
    "h=json.loads(sys.stdin.readline() or 'null')\n"
    "if not h:\n sys.exit(0)\n"
    "os.environ.update(h['env']);os.chdir(h['cwd'])\n"
    "m._exit(m.main())\n"
)


class WarmChild:
    """A started interpreter waiting for its header; `prespawned(spec)` hands it over."""

    def __init__(
        self, popen: subprocess.Popen[bytes] | ForkedChild, scratch: Path, read_fd: int
    ) -> None:
        self.popen = popen
        self.scratch = scratch
        self.read_fd = read_fd

    def alive(self) -> bool:
        return self.popen.poll() is None

    def prespawned(self, spec: LaunchSpec) -> Prespawned:
        """Send the execution's header; the `EngineChild` that adopts the result writes the
        workflow after it."""
        env = child_environment(spec, self.scratch, environ={})
        env.pop("PYTHONPATH", None)
        header = json.dumps({"env": env, "cwd": spec.cwd}).encode("utf-8") + b"\n"
        assert self.popen.stdin is not None
        self.popen.stdin.write(header)
        self.popen.stdin.flush()
        process_groups.discard_group(self.popen.pid)
        engine = SpawnedEngine(spec, self.popen, self.scratch, self.read_fd, None)  # type: ignore[arg-type]
        process_groups.add(engine.scope)
        return Prespawned(engine)

    def discard(self) -> None:
        process_groups.signal_group(self.popen.pid, signal.SIGKILL)
        close_and_reap(self.popen, self.read_fd)
        process_groups.discard_group(self.popen.pid)
        process_groups.remove_scratch(self.scratch)


def fork_warm(zygote: Zygote) -> WarmChild:
    """A warm child forked by the zygote, with its own scratch folder (TMPDIR)."""
    scratch = make_scratch(engine_location())
    try:
        child, read_fd = zygote.fork()
    except OSError:
        process_groups.remove_scratch(scratch)
        raise
    process_groups.add_scratch(scratch)
    return WarmChild(child, scratch, read_fd)


def spawn_warm(python: str) -> WarmChild:
    engine = engine_location()
    scratch = make_scratch(engine)
    read_fd, write_fd = os.pipe()
    placeholder = LaunchSpec(python, {}, "", "", str(scratch), mode="production")
    try:
        process_groups.install_exit_handlers()
        argv = [python, "-c", WARM_WRAPPER, str(write_fd), str(os.getpid())]
        popen = start_child(argv, write_fd, child_environment(placeholder, scratch), str(scratch))
    except OSError:
        os.close(read_fd)
        process_groups.remove_scratch(scratch)
        raise
    finally:
        os.close(write_fd)
    process_groups.add_group(popen.pid)
    process_groups.add_scratch(scratch)
    return WarmChild(popen, scratch, read_fd)


class WarmPool:
    """`size` warm children of one interpreter; `take()` one, another starts behind it.

    The children behind are started by a filler thread, so that a take never waits for a
    start (unless none is ready). With `fork=True` the children are forked by a `Zygote`
    (started on the first fill); when it cannot start or dies, children are started as
    interpreters again."""

    def __init__(self, python: str, size: int, *, fork: bool = True) -> None:
        self.python = python
        self.size = max(0, size)
        self._ready: deque[WarmChild] = deque()
        self._closed = False
        self._fork = fork
        self._zygote: Zygote | None = None
        self._fork_failures = 0  # in a row; at FORK_ATTEMPTS, interpreters are started
        self._lock = threading.Lock()  # one start at a time; guards `_zygote`
        self._wanted = threading.Event()
        self._filler: threading.Thread | None = None

    def fill(self) -> None:
        """Start children until `size` are ready (in this thread)."""
        while not self._closed:
            with self._lock:
                if len(self._ready) >= self.size:
                    return
                try:
                    self._ready.append(self._spawn())
                except OSError:
                    log.exception("could not start a warm engine child with %s", self.python)
                    return

    def _spawn(self) -> WarmChild:
        zygote = self._zygote_now()
        if zygote is not None:
            try:
                child = fork_warm(zygote)
                self._fork_failures = 0
                return child
            except OSError as exc:
                self._fork_failures += 1
                self._fork = self._fork_failures < FORK_ATTEMPTS
                log.warning("the engine fork server failed (%s); a new one starts", exc)
                zygote.retire()
                self._zygote = None
        return spawn_warm(self.python)

    def _zygote_now(self) -> Zygote | None:
        if not self._fork or self._closed:
            return None
        if self._zygote is not None and not self._zygote.alive():
            self._zygote.close()
            self._zygote = None
        if self._zygote is None:
            try:
                self._zygote = Zygote(self.python)
            except OSError:
                self._fork = False
                return None
        return self._zygote

    def take(self) -> WarmChild:
        """A ready child if there is one (else a new one); the filler starts one behind it."""
        child: WarmChild | None = None
        while self._ready:
            candidate = self._ready.popleft()
            if candidate.alive():
                child = candidate
                break
            candidate.discard()
        if child is None:
            with self._lock:
                child = self._spawn()
        self._refill()
        return child

    def _refill(self) -> None:
        if self._filler is None and not self._closed:
            self._filler = threading.Thread(
                target=self._fill_loop, name="flowrun-warm", daemon=True
            )
            self._filler.start()
        self._wanted.set()

    def _fill_loop(self) -> None:
        while not self._closed:
            self._wanted.wait()
            self._wanted.clear()
            self.fill()

    @property
    def ready(self) -> int:
        return len(self._ready)

    def close(self) -> None:
        self._closed = True
        self._wanted.set()
        if self._filler is not None:
            self._filler.join(30)
        with self._lock:
            while self._ready:
                with contextlib.suppress(Exception):
                    self._ready.popleft().discard()
            if self._zygote is not None:
                self._zygote.close()
                self._zygote = None
