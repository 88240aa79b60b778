"""The workflow of the containment matrix: eight ways a node's process escapes its run.

Each escaping process writes its own pid to `$PIDS/<style>` (atomically: a temporary name,
then a rename) and then sleeps for 300 s; the nodes return only once every pid is written.
Most of them keep the node's stdout/stderr open, so a supervisor that waits for the end of
file of those pipes waits for them.
"""

from __future__ import annotations

from pathlib import Path

SHELL_STYLES = ("setsid", "nohup", "subshell", "amp", "disown")
PYTHON_STYLES = ("popen_new_session", "double_fork", "stubborn")
STYLES = SHELL_STYLES + PYTHON_STYLES

# `sh -c` that writes its pid as STYLE and becomes `sleep 300`
_WRITE = 'echo $$ > "$PIDS/{0}.tmp" && mv "$PIDS/{0}.tmp" "$PIDS/{0}" && exec sleep 300'

SHELL = "\n".join(
    [
        f"setsid sh -c '{_WRITE.format('setsid')}' &",
        f"nohup sh -c '{_WRITE.format('nohup')}' > /dev/null 2>&1 &",
        f"(sh -c '{_WRITE.format('subshell')}' &)",
        f"sh -c '{_WRITE.format('amp')}' &",
        'bash -c \'sleep 300 & echo $! > "$PIDS/disown.tmp"; mv "$PIDS/disown.tmp"'
        ' "$PIDS/disown"; disown\'',
        f"for f in {' '.join(SHELL_STYLES)}; do",
        '  while [ ! -e "$PIDS/$f" ]; do sleep 0.05; done',
        "done",
        "echo escaped",
    ]
)
HOLD_SHELL = "\nsleep 300"

PYTHON = """\
import os, signal, subprocess, sys, time

def write(name, pid):
    folder = os.environ["PIDS"]
    with open(os.path.join(folder, name + ".tmp"), "w") as f:
        f.write(str(pid))
    os.rename(os.path.join(folder, name + ".tmp"), os.path.join(folder, name))

STUBBORN = (
    "import os, signal, sys, time\\n"
    "signal.signal(signal.SIGTERM, signal.SIG_IGN)\\n"
    "signal.signal(signal.SIGHUP, signal.SIG_IGN)\\n"
    "os.setsid()\\n"
    "folder = os.environ['PIDS']\\n"
    "open(folder + '/stubborn.tmp', 'w').write(str(os.getpid()))\\n"
    "os.rename(folder + '/stubborn.tmp', folder + '/stubborn')\\n"
    "time.sleep(300)\\n"
)

def main():
    cmd = 'echo $$ > "$PIDS/popen_new_session.tmp" && mv "$PIDS/popen_new_session.tmp"'
    cmd += ' "$PIDS/popen_new_session" && exec sleep 300'
    subprocess.Popen(["sh", "-c", cmd], start_new_session=True)  # keeps stdout open
    child = os.fork()
    if child == 0:
        if os.fork() == 0:
            os.setsid()
            write("double_fork", os.getpid())
            os.execvp("sleep", ["sleep", "300"])
        os._exit(0)
    os.waitpid(child, 0)
    subprocess.Popen([sys.executable, "-c", STUBBORN])
    for name in ("popen_new_session", "double_fork", "stubborn"):
        while not os.path.exists(os.path.join(os.environ["PIDS"], name)):
            time.sleep(0.05)
    return "escaped"
"""


def _indent(text: str, spaces: int) -> str:
    pad = " " * spaces
    return "".join(pad + line if line.strip() else line for line in text.splitlines(True))


def workflow(pids: Path, *, hold: bool, node_timeout: str | None = None) -> str:
    """The workflow text. `hold`: the escaping nodes keep running (300 s) after their escapes
    started, so the run is still going when the test ends it; `node_timeout`: their timeout.
    (The nodes themselves hold: an engine may end what a node left when the node ends.)"""
    timeout = f"    timeout: {node_timeout}\n" if node_timeout else ""
    return (
        "version: 1\n"
        "env:\n"
        f"  PIDS: {str(pids)!r}\n" + ("  HOLD: '1'\n" if hold else "") + "nodes:\n"
        "  - id: shell_escapes\n"
        "    type: shell\n" + timeout + "    with:\n"
        "      run: |\n" + _indent(SHELL + (HOLD_SHELL if hold else ""), 8) + "\n"
        "  - id: python_escapes\n"
        "    type: python\n" + timeout + "    with:\n"
        "      code: |\n" + _indent(PYTHON, 8)
    )
