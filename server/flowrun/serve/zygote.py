"""A fork server for the warm pool: one interpreter with the engine imported forks each
warm child, so a child costs a fork instead of an interpreter start and the imports.

Still one fresh process per execution, never reused: the forked child starts its own
session (its process group is what stopping kills), gets its own pipes and scratch folder,
and learns its execution from the header on its stdin, as an exec'd warm child does. The
zygote is stdlib-only code run with `python -c`; it dies with the server (parent-death
signal), and its children with it. Messages go over a SOCK_SEQPACKET socket pair: the
server sends the child's four pipe ends (SCM_RIGHTS); the zygote answers the child's pid,
and later its exit status (it is the children's parent, so it reaps them).

What a child would otherwise pay for on every execution is paid once here: the engine and
its nodes are imported; `gc.freeze()` keeps the collector off the inherited objects (else
its first pass touches, and so copies, every page); `signal.valid_signals()` (asyncio
calls it for each signal handler: 60-odd enum conversions each time) answers a copy of a
set computed once.
"""

from __future__ import annotations

import array
import contextlib
import json
import os
import socket
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from flowrun.runs import process_groups
from flowrun.runs.launch import LaunchSpec, child_environment, engine_location, make_scratch

ZYGOTE = r"""
import os,sys,socket,signal,selectors,json,array
sock=socket.socket(fileno=int(sys.argv[1]));pp=int(sys.argv[2])
try:
 import ctypes;ctypes.CDLL(None).prctl(1,15)
except Exception:
 pass
if os.getppid()!=pp:
 sys.exit('flowrun: the supervisor is gone')
import flowrun_engine.__main__ as m
import flowrun_engine.scheduler
for _n in ('transform','shell','python','http'):
 try:
  __import__('flowrun_engine.nodes.'+_n)
 except Exception:
  pass
import gc
_vs=frozenset(signal.valid_signals());signal.valid_signals=lambda:set(_vs)
gc.collect();gc.freeze()
sock.send(b'{"ready":1}')
r,w=os.pipe();os.set_blocking(w,False);os.set_blocking(r,False)
signal.set_wakeup_fd(w);signal.signal(signal.SIGCHLD,lambda *a:None)
sel=selectors.DefaultSelector();sel.register(sock,selectors.EVENT_READ);sel.register(r,selectors.EVENT_READ)
def child(fds):
 os.setsid()
 signal.set_wakeup_fd(-1);signal.signal(signal.SIGCHLD,signal.SIG_DFL)
 sel.close();sock.close();os.close(r);os.close(w)
 for i,fd in enumerate(fds):
  os.dup2(fd,i,inheritable=(i<3))
 for fd in fds:
  if fd>3:os.close(fd)
 try:
  import ctypes;ctypes.CDLL(None).prctl(1,15)
 except Exception:
  pass
 h=json.loads(sys.stdin.readline() or 'null')
 if not h:os._exit(0)
 os.environ.update(h['env']);os.chdir(h['cwd'])
 m._exit(m.main())
while True:
 for key,_ in sel.select():
  if key.fileobj is sock:
   fds=array.array('i')
   try:
    msg,anc,_f,_a=sock.recvmsg(1024,socket.CMSG_SPACE(4*fds.itemsize))
   except OSError:
    sys.exit(0)
   if not msg:sys.exit(0)
   for lvl,typ,data in anc:
    fds.frombytes(data[:len(data)-len(data)%fds.itemsize])
   pid=os.fork()
   if pid==0:
    child(list(fds))
   for fd in fds:os.close(fd)
   sock.send(json.dumps({'pid':pid}).encode())
  else:
   try:
    os.read(r,4096)
   except OSError:
    pass
   while True:
    try:
     pid,status=os.waitpid(-1,os.WNOHANG)
    except ChildProcessError:
     break
    if pid==0:break
    sock.send(json.dumps({'exit':pid,'code':os.waitstatus_to_exitcode(status)}).encode())
"""

START_TIMEOUT = 120.0


class ForkedChild:
    """The parts of `subprocess.Popen` that `Prespawned` and `AdoptedProcess` use."""

    def __init__(self, zygote: Zygote, pid: int, pipes: tuple[IO[bytes], IO[bytes], IO[bytes]]):
        self._zygote = zygote
        self.pid = pid
        self.stdin, self.stdout, self.stderr = pipes
        self.returncode: int | None = None
        self.exited = threading.Event()
        self._on_exit: list[Callable[[], None]] = []

    def add_exit_callback(self, callback: Callable[[], None]) -> None:
        """Call `callback` (in the zygote's reader thread, or now) once the child exited: an
        event loop learns it without a thread of its own waiting for each child."""
        with self._zygote.lock:
            if self.returncode is None:
                self._on_exit.append(callback)
                return
        callback()

    def ended(self, code: int) -> None:
        with self._zygote.lock:
            self.returncode = code
            callbacks, self._on_exit = self._on_exit, []
        self.exited.set()
        for callback in callbacks:
            callback()

    def poll(self) -> int | None:
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if not self.exited.wait(timeout):
            raise subprocess.TimeoutExpired("forked engine child", timeout or 0.0)
        assert self.returncode is not None
        return self.returncode


class Zygote:
    """The fork server process, and the thread reading its messages."""

    def __init__(self, python: str) -> None:
        engine = engine_location()
        self.scratch = make_scratch(engine)
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        placeholder = LaunchSpec(python, {}, "", "", str(self.scratch), mode="production")
        env = child_environment(placeholder, self.scratch)
        self.process = subprocess.Popen(
            [python, "-c", ZYGOTE, str(theirs.fileno()), str(os.getpid())],
            stdin=subprocess.DEVNULL,
            pass_fds=(theirs.fileno(),),
            start_new_session=True,
            env=env,
            cwd=str(self.scratch),
        )
        theirs.close()
        process_groups.add_group(self.process.pid)
        self._sock = ours
        self._lock = threading.Lock()
        self._replies: list[dict[str, Any]] = []
        self._reply = threading.Condition()
        self.lock = threading.Lock()  # a child's exit code and its exit callbacks
        self._children: dict[int, ForkedChild] = {}
        self._early_exits: dict[int, int] = {}
        self._started = threading.Event()  # its imports are done: it forks at once now
        self._retired = False  # forks no more; closes once its last child has ended
        self._reader = threading.Thread(target=self._read, name="flowrun-zygote", daemon=True)
        self._reader.start()

    def alive(self) -> bool:
        return self.process.poll() is None

    def fork(self, timeout: float = 10.0) -> tuple[ForkedChild, int]:
        """A new child waiting on its stdin, and the read end of its event pipe. The first
        waits for the zygote's imports (up to `START_TIMEOUT`: slow on a busy machine)."""
        if not self._started.wait(START_TIMEOUT) or not self.alive():
            raise OSError("the engine fork server did not start")
        stdin_r, stdin_w = os.pipe()
        stdout_r, stdout_w = os.pipe()
        stderr_r, stderr_w = os.pipe()
        events_r, events_w = os.pipe()
        theirs = [stdin_r, stdout_w, stderr_w, events_w]
        try:
            with self._lock:
                fds = array.array("i", theirs)
                self._sock.sendmsg([b"fork"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, fds)])
                pid = self._wait_pid(timeout)
        except BaseException:
            for fd in (stdin_w, stdout_r, stderr_r, events_r):
                os.close(fd)
            raise
        finally:
            for fd in theirs:
                os.close(fd)
        pipes = (
            os.fdopen(stdin_w, "wb", buffering=0),
            os.fdopen(stdout_r, "rb", buffering=0),
            os.fdopen(stderr_r, "rb", buffering=0),
        )
        child = ForkedChild(self, pid, pipes)
        with self._reply:
            self._children[pid] = child
            if pid in self._early_exits:
                child.ended(self._early_exits.pop(pid))
        process_groups.add_group(pid)
        return child, events_r

    def _wait_pid(self, timeout: float) -> int:
        with self._reply:
            if not self._reply.wait_for(lambda: self._replies or not self.alive(), timeout):
                raise OSError("the engine fork server did not answer")
            if not self._replies:
                raise OSError("the engine fork server exited")
            return int(self._replies.pop(0)["pid"])

    def _read(self) -> None:
        while True:
            try:
                data = self._sock.recv(4096)
            except OSError:
                data = b""
            if not data:
                self._all_ended()
                return
            message = json.loads(data)
            if "ready" in message:
                self._started.set()
                continue
            with self._reply:
                if "pid" in message:
                    self._replies.append(message)
                    self._reply.notify_all()
                    continue
                child = self._children.pop(int(message["exit"]), None)
                if child is None:
                    self._early_exits[int(message["exit"])] = int(message["code"])
                else:
                    child.ended(int(message["code"]))
                last = self._retired and not self._children
            if last:
                self.close()
                return

    def _all_ended(self) -> None:
        """The zygote is gone: its children were killed with it (parent-death signal)."""
        self._started.set()  # a waiting `fork` sees that it is gone
        with self._reply:
            self._reply.notify_all()
            children, self._children = self._children, {}
        for child in children.values():
            process_groups.signal_group(child.pid, 9)
            child.ended(-9)

    def retire(self) -> None:
        """Fork no more (a fork failed): its running children finish their executions, then
        it closes. Closing it now would end them with it (parent-death signal)."""
        with self._reply:
            self._retired = True
            idle = not self._children
        if idle:
            self.close()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        self._sock.close()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        process_groups.discard_group(self.process.pid)
        process_groups.remove_scratch(Path(self.scratch))
