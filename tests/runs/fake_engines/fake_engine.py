"""A stand-in for flowrun_engine: behaves as `payload["fake"]` says.

Run by the real supervisor exactly like the engine (symlinked onto PYTHONPATH, fd 3 for
events). Modes: ok, env, sleep (spawns `sh -c 'sleep 300 & wait'` and waits), stubborn
(also ignores SIGTERM), crash (exit 3 mid-run), flood (many large node_log events),
garbage (non-JSON lines between events), graceful (reports `stopped` on SIGTERM),
orphan / orphan_crash (leave a `sleep 300` in a new session holding stdout, then finish / exit 3).
"""

import json
import os
import signal
import subprocess
import sys
import time

EVENTS = os.fdopen(3, "w", buffering=1)


def emit(name, **fields):
    fields.update(event=name, t=time.time())
    EVENTS.write(json.dumps(fields) + "\n")
    EVENTS.flush()


def start(node="n1"):
    emit("execution_started", execution_id=os.environ.get("FLOWRUN_EXECUTION_ID"), plan={})
    emit("node_started", node=node, stage=None, iteration=None, attempt=1, input={})


def finish(status="succeeded", outputs=None, error=None):
    emit("execution_finished", status=status, outputs=outputs or {}, error=error)


def grandchild():
    child = subprocess.Popen(["sh", "-c", "sleep 300 & echo $! ; wait"], stdout=subprocess.PIPE)
    sleeper = int(child.stdout.readline())
    emit("node_log", node="n1", stream="info", text=json.dumps([child.pid, sleeper]))


def main():
    payload = json.loads(sys.stdin.read())
    mode = payload.get("fake", "ok")
    start()
    if mode == "ok":
        print("engine stdout")
        emit(
            "node_finished",
            node="n1",
            status="succeeded",
            output={"x": 1},
            error=None,
            attempt=1,
            duration_ms=1,
            stage=None,
            iteration=None,
        )
        finish(outputs={"answer": 42})
    elif mode == "env":
        secret = os.environ.get("MY_TOKEN")
        emit("node_log", node="n1", stream="stdout", text="token is " + str(secret))
        print("secret on stderr: " + str(secret), file=sys.stderr)
        keys = sorted(os.environ)
        finish(
            outputs={
                "env": {k: os.environ[k] for k in keys if k != "MY_TOKEN"},
                "keys": keys,
                "cwd": os.getcwd(),
                "path": sys.path,
                "scratch_mode": oct(os.stat(os.environ["PYTHONPATH"]).st_mode & 0o777),
                "fd3_inheritable": os.get_inheritable(3),
            }
        )
    elif mode in ("sleep", "stubborn"):
        if mode == "stubborn":
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
        grandchild()
        time.sleep(300)
    elif mode == "graceful":

        def on_term(signum, frame):
            # os.write: the handler may interrupt a write to EVENTS (not reentrant)
            for event in (
                {
                    "event": "node_finished",
                    "node": "n1",
                    "status": "stopped",
                    "output": None,
                    "error": {"type": "Stopped", "message": "stopped"},
                    "attempt": 1,
                    "duration_ms": 1,
                    "stage": None,
                    "iteration": None,
                    "t": time.time(),
                },
                {
                    "event": "execution_finished",
                    "status": "stopped",
                    "outputs": {},
                    "error": {"type": "Stopped", "message": "The execution was stopped."},
                    "t": time.time(),
                },
            ):
                os.write(3, (json.dumps(event) + "\n").encode())
            os._exit(0)

        signal.signal(signal.SIGTERM, on_term)
        grandchild()
        time.sleep(300)
    elif mode in ("orphan", "orphan_crash"):
        # a detached descendant that keeps stdout and stderr open for 300 s
        orphan = subprocess.Popen(["sleep", "300"], start_new_session=True)
        emit("node_log", node="n1", stream="info", text=json.dumps([orphan.pid]))
        if mode == "orphan_crash":
            os._exit(3)
        finish()
    elif mode == "crash":
        print("Traceback (most recent call last):\nRuntimeError: engine exploded", file=sys.stderr)
        sys.exit(3)
    elif mode == "crash_stdout":
        print("only stdout says why")
        sys.stdout.flush()
        os._exit(4)
    elif mode == "flood":
        line = "x" * 1000
        for index in range(payload.get("count", 50000)):
            emit("node_log", node="n1", stream="stdout", text=f"{index} {line}")
        finish()
    elif mode == "garbage":
        EVENTS.write("this is not json\n[1, 2]\n")
        finish()
    elif mode == "bigline":
        emit(
            "node_finished",
            node="n1",
            status="succeeded",
            output="y" * 3_000_000,
            error=None,
            attempt=1,
            duration_ms=1,
            stage=None,
            iteration=None,
        )
        EVENTS.write(
            json.dumps(
                {"event": "execution_finished", "status": "succeeded", "outputs": {}, "error": None}
            )
        )  # no trailing newline
        EVENTS.flush()
    elif mode == "timeout":
        time.sleep(300)


main()
