"""The shell node against real processes, called directly with a NodeContext."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowrun_engine.context import NodeContext
from flowrun_engine.errors import NodeError
from flowrun_engine.nodes import REGISTRY, runner_for
from flowrun_engine.nodes.shell import run


def ctx(tmp_path: Path) -> NodeContext:
    return NodeContext(node_id="sh", cwd=str(tmp_path), env={"PATH": "/usr/bin:/bin", "A": "1"})


async def test_string_runs_in_sh_with_env_and_strips_trailing_newlines(tmp_path: Path) -> None:
    c = ctx(tmp_path)
    out = await run({"run": "echo $A $B; pwd; echo warn >&2", "env": {"B": 2}}, c)
    assert out == {"exit_code": 0, "stdout": f"1 2\n{tmp_path}", "stderr": "warn"}
    expected = [("stderr", "warn"), ("stdout", "1 2"), ("stdout", str(tmp_path))]
    assert sorted(c.logs) == sorted(expected)


async def test_argv_list_cwd_and_stdin(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    out = await run(
        {"run": ["sh", "-c", "cat; pwd", 7], "cwd": "sub", "stdin": "in"}, ctx(tmp_path)
    )
    assert out["stdout"] == f"in{tmp_path / 'sub'}"
    out = await run({"run": ["cat"], "stdin": {"k": [1]}}, ctx(tmp_path))
    assert out["stdout"] == '{"k": [1]}'


async def test_parse_json_and_lines(tmp_path: Path) -> None:
    out = await run({"run": "echo '{\"a\": [1, 2]}'", "parse": "json"}, ctx(tmp_path))
    assert out["json"] == {"a": [1, 2]}
    out = await run({"run": "printf 'x\\ny\\n'", "parse": "lines"}, ctx(tmp_path))
    assert out["lines"] == ["x", "y"] and out["stdout"] == "x\ny"


async def test_bad_json_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(NodeError) as info:
        await run({"run": "echo not json", "parse": "json"}, ctx(tmp_path))
    assert info.value.type == "ExecutionError"
    assert "stdout is not JSON" in info.value.message and "'not json'" in info.value.message
    assert info.value.output["stdout"] == "not json"


async def test_non_zero_exit_shows_the_stderr_tail(tmp_path: Path) -> None:
    script = "for i in $(seq 1 30); do echo line$i >&2; done; exit 4"
    with pytest.raises(NodeError) as info:
        await run({"run": script}, ctx(tmp_path))
    message = info.value.message
    assert message.startswith("node `sh`: the command exited with code 4:\n")
    assert "line30" in message and "line11" in message and "line10\n" not in message
    assert info.value.output["exit_code"] == 4
    with pytest.raises(NodeError) as info:
        await run({"run": "kill -9 $$"}, ctx(tmp_path))
    assert "killed by signal SIGKILL (no stderr)" in info.value.message


@pytest.mark.parametrize(
    ("params", "type_", "words"),
    [
        (
            {"run": ["definitely-not-a-program-xyz"]},
            "PythonNotFound",
            "the program `definitely-not-a-program-xyz` was not found",
        ),
        ({"run": ""}, "ExecutionError", "has nothing to run"),
        ({"run": []}, "ExecutionError", "has nothing to run"),
        ({"run": "true", "cwd": "missing"}, "ExecutionError", "does not exist"),
    ],
)
async def test_clear_errors(tmp_path: Path, params: dict, type_: str, words: str) -> None:
    with pytest.raises(NodeError) as info:
        await run(params, ctx(tmp_path))
    assert info.value.type == type_ and words in info.value.message
    assert info.value.suggestion


async def test_not_executable(tmp_path: Path) -> None:
    script = tmp_path / "script.sh"
    script.write_text("echo hi")
    with pytest.raises(NodeError) as info:
        await run({"run": [str(script)]}, ctx(tmp_path))
    assert "is not executable" in info.value.message


async def test_registry_and_unknown_type() -> None:
    assert set(REGISTRY) == {"shell", "python", "http", "llm", "agent", "transform"}
    assert runner_for("shell") is run
    with pytest.raises(NodeError) as info:
        runner_for("nope")
    assert "unknown node type `nope`" in info.value.message
    transform = runner_for("transform")
    assert await transform({"value": [1]}, NodeContext()) == [1]
