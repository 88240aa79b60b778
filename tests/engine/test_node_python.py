"""The python node: code and function forms, prints, tracebacks, return values."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from conftest import Child, Engine, node, workflow
from flowrun_engine import proctree
from flowrun_engine.context import NodeContext
from flowrun_engine.errors import NodeError
from flowrun_engine.nodes.python import run


def ctx(tmp_path: Path, **kw: Any) -> NodeContext:
    return NodeContext(node_id="p", cwd=str(tmp_path), workflow_file="/ws/flow.workflow.yml", **kw)


async def call(params: dict[str, Any], c: NodeContext) -> Any:
    return await run(params, c)


async def test_code_main_args_and_prints(tmp_path: Path) -> None:
    c = ctx(tmp_path)
    code = (
        "import sys\ndef main(name, n=1):\n    print('hi', name)\n"
        "    print('oops', file=sys.stderr)\n"
        "    sys.stdout.write('no newline')\n    return {'name': name, 'n': n, 't': (1, 2)}"
    )
    out = await call({"code": code, "args": {"name": "ada"}}, c)
    assert out == {"name": "ada", "n": 1, "t": [1, 2]}  # through JSON, as every output
    assert [t for s, t in c.logs if s == "stdout"] == ["hi ada", "no newline"]
    assert [t for s, t in c.logs if s == "stderr"] == ["oops"]


async def test_async_main(tmp_path: Path) -> None:
    code = "import asyncio\nasync def main():\n    await asyncio.sleep(0)\n    return 5"
    assert await call({"code": code}, ctx(tmp_path)) == 5


async def test_traceback_has_the_workflow_line_numbers(tmp_path: Path) -> None:
    code = "def helper(x):\n    return 1 / x\n\ndef main():\n    return helper(0)\n"
    with pytest.raises(NodeError) as info:
        await call({"code": code}, ctx(tmp_path, code_line=20))
    error = info.value
    assert error.type == "ExecutionError"
    assert error.message == (
        "node `p` raised ZeroDivisionError: division by zero (line 21 of flow.workflow.yml)"
    )
    assert 'File "<flow.workflow.yml:p>", line 24, in main' in error.traceback
    assert 'File "<flow.workflow.yml:p>", line 21, in helper' in error.traceback
    assert "return 1 / x" in error.traceback
    assert "flowrun_engine" not in error.traceback
    assert error.suggestion and "pin" in error.suggestion


async def test_non_serialisable_return(tmp_path: Path) -> None:
    with pytest.raises(NodeError) as info:
        await call({"code": "def main():\n    return {1, 2}"}, ctx(tmp_path))
    assert info.value.message == (
        "node `p` returned a <class 'set'>, which is not JSON-serialisable; "
        "return dicts, lists, strings, numbers, booleans or None"
    )
    with pytest.raises(NodeError) as info:
        await call({"code": "def main():\n    return {'a': [object()]}"}, ctx(tmp_path))
    assert "<class 'object'>" in info.value.message
    with pytest.raises(NodeError) as info:
        await call({"code": "def main():\n    return {(1,): 2}"}, ctx(tmp_path))
    assert "<class 'tuple'>" in info.value.message


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"code": "def main(:\n  pass"}, "syntax error in its code at line 1"),
        ({"code": "x = 1"}, "defines no main() function"),
        ({"code": "raise RuntimeError('at import')"}, "raised RuntimeError: at import"),
        ({"code": "import sys\ndef main():\n    sys.exit(3)"}, "raised SystemExit: 3"),
        ({}, "has neither `code` nor `function`"),
        ({"code": "def main(): pass", "args": [1]}, "`args` must be a mapping"),
        ({"function": "no_such_module_xyz:main"}, "cannot import `no_such_module_xyz`"),
        ({"function": "json:nope"}, "module `json` has no `nope`"),
        ({"function": "json:__doc__"}, "is not callable"),
    ],
)
async def test_clear_errors(tmp_path: Path, params: dict[str, Any], words: str) -> None:
    with pytest.raises(NodeError) as info:
        await call(params, ctx(tmp_path))
    assert words in info.value.message


async def test_function_from_the_workspace(tmp_path: Path) -> None:
    pkg = tmp_path / "mypkg_flowrun_test"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "tasks.py").write_text(
        "def double(x):\n    print('doubling')\n    return x * 2\n\n"
        "def fail():\n    raise KeyError('k')\n\n"
        "class Tools:\n    @staticmethod\n    def name():\n        return 'tools'\n"
    )
    (tmp_path / "broken_mod_flowrun_test.py").write_text("raise ValueError('bad module')\n")
    c = ctx(tmp_path)
    try:
        assert await call({"function": "mypkg_flowrun_test.tasks:double", "args": {"x": 4}}, c) == 8
        assert c.logs == [("stdout", "doubling")]
        assert await call({"function": "mypkg_flowrun_test.tasks:Tools.name"}, c) == "tools"
        with pytest.raises(NodeError) as info:
            await call({"function": "mypkg_flowrun_test.tasks:fail"}, c)
        assert info.value.message == "node `p` raised KeyError: 'k' (tasks.py, line 6)"
        assert "tasks.py" in (info.value.traceback or "")
        with pytest.raises(NodeError) as info:
            await call({"function": "broken_mod_flowrun_test"}, c)
        assert "raised ValueError: bad module" in info.value.message
    finally:
        assert str(tmp_path) not in sys.path  # imported in the node's process, not here


def test_traceback_and_serialisation_through_the_engine(engine: Engine) -> None:
    run_ = engine(
        workflow(
            node(
                "boom",
                "python",
                with_={"code": "def main():\n    x = None\n    return x['k']"},
                code_line=7,
                on_failure="continue",
            ),
            node(
                "bad",
                "python",
                with_={"code": "def main():\n    return {1}"},
                on_failure="continue",
            ),
            node(
                "loud",
                "python",
                with_={
                    "code": "def main():\n    for _ in range(3):\n"
                    "        print('tick')\n    return 'ok'"
                },
            ),
            file="/ws/my.workflow.yml",
        )
    )
    error = run_.of("node_finished", "boom")[0]["error"]
    assert 'File "<my.workflow.yml:boom>", line 9, in main' in error["traceback"]
    assert "(line 9 of my.workflow.yml)" in error["message"]
    assert "not JSON-serialisable" in run_.of("node_finished", "bad")[0]["error"]["message"]
    assert run_.logs("loud") == ["tick"] * 3


async def test_endless_lines_are_logged_in_pieces(tmp_path: Path) -> None:
    c = ctx(tmp_path)
    code = (
        "import sys\ndef main():\n    for _ in range(2000):\n        sys.stdout.write('x' * 100)\n"
    )
    await call({"code": code}, c)
    assert "".join(t for _, t in c.logs) == "x" * 200_000
    assert max(len(t) for _, t in c.logs) == 16 * 1024


def test_with_env_is_read_through_os_environ(engine: Engine) -> None:
    code = (
        "import os\ndef main():\n    return os.environ['WHO'] + '|' + os.environ.get('GONE', '-')"
    )
    run = engine(
        workflow(
            node("py", "python", with_={"code": code, "env": {"WHO": "${{ inputs.who }}"}}),
            node(
                "after",
                "python",
                needs=["py"],
                with_={"code": "import os\ndef main():\n    return os.environ.get('WHO')"},
            ),
            inputs={"who": 'x"; echo INJECTED'},
        )
    )
    assert run.output("py") == 'x"; echo INJECTED|-'
    assert run.output("after") is None  # the variable was the node's own


def test_output_is_captured_at_the_file_descriptor_level_in_order(engine: Engine) -> None:
    code = textwrap.dedent(
        """\
        import os, subprocess, sys
        def main():
            print("1 print")
            subprocess.run(["echo", "2 subprocess"], check=True)
            os.system("echo 3 os.system")
            os.write(1, b"4 os.write\\n")
            sys.__stdout__.write("5 sys.__stdout__\\n")
            print("e1 print", file=sys.stderr)
            os.system("echo e2 os.system >&2")
            os.write(2, b"e3 os.write\\n")
            sys.__stderr__.write("e4 sys.__stderr__\\n")
            return "done"
        """
    )
    run_ = engine(workflow(node("loud", "python", with_={"code": code})))
    assert run_.output("loud") == "done"
    logs = run_.of("node_log", "loud")
    assert [e["text"] for e in logs if e["stream"] == "stdout"] == [
        "1 print",
        "2 subprocess",
        "3 os.system",
        "4 os.write",
        "5 sys.__stdout__",
    ]
    assert [e["text"] for e in logs if e["stream"] == "stderr"] == [
        "e1 print",
        "e2 os.system",
        "e3 os.write",
        "e4 sys.__stderr__",
    ]


BUSY = {
    "loop": "def main():\n    while True:\n        pass\n",
    "regex": "import re\ndef main():\n    re.match(r'(a+)+$', 'a' * 64 + 'b')\n",
}


@pytest.mark.parametrize("kind", sorted(BUSY))
def test_a_timed_out_node_stops_running_before_it_is_reported(tmp_path: Path, kind: str) -> None:
    """Its process is gone by the time `node_finished` says NodeTimeout, while the run goes on
    (the GIL-holding regex cannot be interrupted from inside the process)."""
    pid_file = tmp_path / "pid"
    code = f"import os\nopen({str(pid_file)!r}, 'w').write(str(os.getpid()))\n" + BUSY[kind]
    child = Child.start(
        workflow(
            node("busy", "python", with_={"code": code}, timeout=2.0, on_failure="continue"),
            node("other", "shell", with_={"run": "sleep 300"}),
        )
    )
    try:
        finished = child.wait_for(lambda e: e["event"] == "node_finished" and e["node"] == "busy")
        assert finished["error"]["type"] == "NodeTimeout"
        pid = int(pid_file.read_text())
        assert pid != child.proc.pid
        assert not os.path.exists(f"/proc/{pid}")  # not running, not even a zombie
        assert child.proc.poll() is None  # the run is still going
    finally:
        os.kill(child.proc.pid, signal.SIGTERM)
        assert child.finish().status == "stopped"


def test_a_process_that_dies_without_a_result(engine: Engine) -> None:
    code = "import os, sys\ndef main():\n    print('bye', file=sys.stderr)\n    os._exit(7)\n"
    run_ = engine(workflow(node("gone", "python", with_={"code": code})))
    error = run_.of("node_finished", "gone")[0]["error"]
    assert error["type"] == "ExecutionError"
    assert error["message"] == (
        "node `gone`: its Python process exited with code 7 without returning a result:\nbye"
    )


def test_user_code_reads_an_empty_stdin(engine: Engine) -> None:
    code = "import sys\ndef main():\n    return sys.stdin.read()\n"
    assert engine(workflow(node("r", "python", with_={"code": code}))).output("r") == ""


async def test_a_result_larger_than_a_pipe_comes_back_whole(tmp_path: Path) -> None:
    code = "def main():\n    return {'x': 'x' * 1_000_000}\n"
    assert await call({"code": code}, ctx(tmp_path)) == {"x": "x" * 1_000_000}


async def test_the_node_process_imports_almost_nothing(tmp_path: Path) -> None:
    """It starts once per python node: json, typing, re... are the user's to import."""
    code = (
        "import sys\ndef main():\n"
        "    heavy = ('json', 'typing', 're', 'linecache', 'traceback', 'asyncio', 'inspect')\n"
        "    return [m for m in heavy if m in sys.modules]\n"
    )
    # A bare interpreter of this environment is the baseline: under `pytest --cov`,
    # coverage starts in every subprocess and brings some of these along.
    bare = subprocess.run(
        [sys.executable, "-c", code + "print(' '.join(main()))"],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    loaded = await call({"code": code}, ctx(tmp_path))
    assert [m for m in loaded if m not in bare] == []


IDENTITY = """\
import os
def main():
    with open('/proc/self/environ', 'rb') as f:
        exec_env = f.read().split(b'\\0')
    token = os.environ['FLOWRUN_NODE_TOKEN']
    return {'parent': os.getppid(), 'pid': os.getpid(), 'token': token,
            'visible': ('FLOWRUN_NODE_TOKEN=' + token).encode() in exec_env}
"""


def test_python_nodes_are_forked_by_one_server_and_carry_their_token(engine: Engine) -> None:
    """One interpreter per run forks every python node's process; each one's exec'd
    environment (what containment reads in /proc) holds its own node token."""
    run_ = engine(workflow(*(node(f"p{i}", "python", with_={"code": IDENTITY}) for i in range(3))))
    found = [run_.output(f"p{i}") for i in range(3)]
    assert len({f["parent"] for f in found}) == 1
    assert len({f["pid"] for f in found}) == 3
    assert [f["token"].split(":")[1] for f in found] == ["p0", "p1", "p2"]
    assert all(f["visible"] for f in found)


def test_a_fork_without_exec_left_running_ends_with_its_node(tmp_path: Path) -> None:
    """A process the node's code forked (no exec) and detached is found by the token its
    memory copy carries, and ended when the node ends, while the run goes on."""
    pid_file = tmp_path / "pid"
    code = (
        "import os, time\ndef main():\n"
        "    if os.fork() == 0:\n"
        "        os.setsid()\n"
        "        if os.fork() == 0:\n"
        f"            open({str(pid_file)!r}, 'w').write(str(os.getpid()))\n"
        "            time.sleep(300)\n"
        "        os._exit(0)\n"
        f"    while not os.path.exists({str(pid_file)!r}):\n"
        "        time.sleep(0.02)\n"
        "    return 1\n"
    )
    child = Child.start(
        workflow(
            node("forks", "python", with_={"code": code}),
            node("other", "shell", with_={"run": "sleep 300"}),
        )
    )
    try:
        finished = child.wait_for(lambda e: e["event"] == "node_finished" and e["node"] == "forks")
        assert finished["status"] == "succeeded"
        pid = int(pid_file.read_text())
        assert not proctree.is_alive(pid)
        assert child.proc.poll() is None  # the run is still going
    finally:
        os.kill(child.proc.pid, signal.SIGTERM)
        assert child.finish().status == "stopped"
