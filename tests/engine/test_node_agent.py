"""The `agent` node type with fake agent CLIs (real executables) put on PATH via ctx.env."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from fakes_net import env_with_path, write_cli

from conftest import Engine, node, workflow
from flowrun_engine.context import NodeContext
from flowrun_engine.errors import NodeError
from flowrun_engine.nodes import agent


@pytest.fixture
def bin_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "bin"
    folder.mkdir()
    for name in ("claude", "codex", "gemini", "grok", "my-agent"):
        write_cli(folder, name)
    return folder


def make_ctx(tmp_path: Path, bin_dir: Path | None, **env: str) -> NodeContext:
    environ = env_with_path(bin_dir, **env) if bin_dir else {"PATH": str(tmp_path / "empty"), **env}
    return NodeContext(node_id="coder", timeout=30.0, cwd=str(tmp_path), env=environ)


def seen(out: dict[str, Any]) -> dict[str, Any]:
    first_line = out["output"].splitlines()[0]
    result: dict[str, Any] = json.loads(first_line)
    return result


@pytest.mark.parametrize(
    ("provider", "program", "flags"),
    [
        ("claude-code", "claude", ["-p"]),
        ("codex", "codex", ["exec"]),
        ("gemini", "gemini", ["-p"]),
        ("grok", "grok", ["-p"]),
    ],
)
async def test_each_provider_runs_its_cli(
    tmp_path: Path, bin_dir: Path, provider: str, program: str, flags: list[str]
) -> None:
    ctx = make_ctx(tmp_path, bin_dir)
    out = await agent.run({"provider": provider, "prompt": "fix the bug"}, ctx)
    assert out["exit_code"] == 0
    assert not out["output"].endswith("\n")
    got = seen(out)
    assert got["argv0"] == program
    assert got["args"] == [*flags, "fix the bug"]
    assert got["cwd"] == str(tmp_path)
    assert ("stderr", "working on it") in ctx.logs
    assert any(stream == "stdout" and '"argv0"' in text for stream, text in ctx.logs)


async def test_preamble_from_role_profile_skills(tmp_path: Path, bin_dir: Path) -> None:
    params = {
        "provider": "claude-code",
        "prompt": "Write tests.",
        "role": "reviewer",
        "profile": "strict",
        "skills": ["python", "pytest"],
    }
    out = await agent.run(params, make_ctx(tmp_path, bin_dir))
    assert seen(out)["args"][-1] == (
        "Role: reviewer\nProfile: strict\nSkills: python, pytest\n\nTask:\nWrite tests."
    )
    assert agent.preamble({"skills": "all"}) == "Skills: all"
    assert agent.preamble({}) == ""


async def test_command_override_string_and_list(tmp_path: Path, bin_dir: Path) -> None:
    ctx = make_ctx(tmp_path, bin_dir)
    out = await agent.run(
        {"provider": "codex", "command": "my-agent --model 'big one'", "prompt": {"task": 1}}, ctx
    )
    assert seen(out)["argv0"] == "my-agent"
    assert seen(out)["args"] == ["--model", "big one", '{"task": 1}']
    out = await agent.run({"command": ["my-agent", "run", 3], "prompt": "p"}, ctx)
    assert seen(out)["args"] == ["run", "3", "p"]


async def test_command_with_relative_path(tmp_path: Path, bin_dir: Path) -> None:
    tools = tmp_path / "tools"
    tools.mkdir()
    write_cli(tools, "local-agent")
    out = await agent.run({"command": "tools/local-agent", "prompt": "p"}, make_ctx(tmp_path, None))
    assert seen(out)["argv0"] == "local-agent"


async def test_cwd_and_env_reach_the_cli(tmp_path: Path, bin_dir: Path) -> None:
    (tmp_path / "repo").mkdir()
    ctx = make_ctx(tmp_path, bin_dir, FAKE_SECRET="s3cr3t")
    out = await agent.run({"provider": "gemini", "prompt": "p", "cwd": "repo"}, ctx)
    assert seen(out)["cwd"] == str(tmp_path / "repo")
    assert seen(out)["secret"] == "s3cr3t"
    assert "s3cr3t" not in seen(out)["args"]


async def test_non_zero_exit_fails_with_stderr_tail(tmp_path: Path, bin_dir: Path) -> None:
    ctx = make_ctx(tmp_path, bin_dir, FAKE_AGENT_EXIT="3")
    with pytest.raises(NodeError) as info:
        await agent.run({"provider": "claude-code", "prompt": "p"}, ctx)
    err = info.value
    assert err.type == "ExecutionError"
    assert err.message.startswith("node `coder`: claude exited with code 3:\n")
    assert err.message.endswith("working on it\nagent failed: quota exceeded")
    assert err.output["exit_code"] == 3
    # the logs may not have been shown (`flowrun run --quiet`, the editor): no "above"
    assert err.suggestion is not None and "above" not in err.suggestion
    assert "node's logs" in err.suggestion


async def test_non_zero_exit_without_output(tmp_path: Path, bin_dir: Path) -> None:
    write_cli(bin_dir, "quiet", "import sys\nsys.exit(1)\n")
    with pytest.raises(NodeError, match=r"quiet exited with code 1 \(no output\)"):
        await agent.run({"command": "quiet", "prompt": "p"}, make_ctx(tmp_path, bin_dir))


@pytest.mark.parametrize(
    ("provider", "program", "install"),
    [
        ("claude-code", "claude", "npm install -g @anthropic-ai/claude-code"),
        ("codex", "codex", "npm install -g @openai/codex"),
        ("gemini", "gemini", "npm install -g @google/gemini-cli"),
        ("grok", "grok", "npm install -g @vibe-kit/grok-cli"),
    ],
)
async def test_missing_cli(tmp_path: Path, provider: str, program: str, install: str) -> None:
    with pytest.raises(NodeError) as info:
        await agent.run({"provider": provider, "prompt": "p"}, make_ctx(tmp_path, None))
    assert info.value.type == "ExecutionError"
    assert info.value.message == (
        f"node `coder`: {program} ({agent.CLIS[provider].label}) not found on PATH"
    )
    assert install in (info.value.suggestion or "")


async def test_missing_command_program(tmp_path: Path) -> None:
    with pytest.raises(NodeError, match=r"nope \(from `command`\) not found on PATH"):
        await agent.run({"command": "nope -x", "prompt": "p"}, make_ctx(tmp_path, None))


async def test_program_that_cannot_start(tmp_path: Path, bin_dir: Path) -> None:
    broken = write_cli(bin_dir, "broken")
    broken.write_text("#!/nonexistent/interpreter\n")
    with pytest.raises(NodeError, match=r"cannot start .*broken"):
        await agent.run({"command": "broken", "prompt": "p"}, make_ctx(tmp_path, bin_dir))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"prompt": "p"}, "unknown agent provider null"),
        ({"provider": "copilot", "prompt": "p"}, 'unknown agent provider "copilot"'),
        ({"provider": "codex"}, "has no `prompt`"),
        ({"provider": "codex", "prompt": ""}, "has no `prompt`"),
        ({"provider": "codex", "prompt": "x" * 130_000}, "a command-line argument can hold"),
        ({"command": "a 'b", "prompt": "p"}, "cannot split `command`"),
        ({"command": "   ", "prompt": "p", "provider": "codex"}, "`command` must be"),
        ({"command": {"a": 1}, "prompt": "p"}, "`command` must be"),
        ({"provider": "codex", "prompt": "p", "cwd": "missing"}, "the folder `missing`"),
    ],
)
async def test_bad_parameters(
    tmp_path: Path, bin_dir: Path, params: dict[str, Any], message: str
) -> None:
    with pytest.raises(NodeError) as info:
        await agent.run(params, make_ctx(tmp_path, bin_dir))
    assert info.value.type == "ExecutionError"
    assert message in info.value.message


def test_fake_cli_is_executable(bin_dir: Path) -> None:
    assert os.access(bin_dir / "claude", os.X_OK)


def test_agent_in_a_whole_run(engine: Engine, bin_dir: Path, tmp_path: Path) -> None:
    """Run by the engine (in-process and as a child): the CLI's lines stream as node logs."""
    run = engine(
        workflow(
            node("plan", with_={"value": "add a README"}),
            node(
                "code",
                "agent",
                needs=["plan"],
                with_={
                    "provider": "claude-code",
                    "prompt": "${{ nodes.plan.output }}",
                    "role": "dev",
                },
            ),
            outputs={"exit": "${{ nodes.code.output.exit_code }}"},
            cwd=str(tmp_path),
        ),
        {"PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"},
    )
    assert run.status == "succeeded", run.raw
    assert run.finished["outputs"] == {"exit": 0}
    got = json.loads(run.output("code")["output"])
    assert got["args"] == ["-p", "Role: dev\n\nTask:\nadd a README"]
    assert "working on it" in run.logs("code")


async def test_a_secret_in_the_agent_error_tail_is_masked_before_the_cut(tmp_path: Path) -> None:
    secret = "agent-secret-value"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "leaky"
    # stderr ends so that the 2,000-character tail starts inside the secret
    script.write_text(
        f"#!/bin/sh\nprintf '%s' '{secret}' >&2\nprintf 'z%.0s' $(seq 1990) >&2\nexit 3\n"
    )
    script.chmod(0o755)
    ctx = make_ctx(tmp_path, bin_dir)
    ctx.secrets = {"AGENT_TOKEN": secret}
    with pytest.raises(NodeError) as info:
        await agent.run({"prompt": "hi", "command": "leaky"}, ctx)
    assert "-value" not in info.value.message
    assert "exited with code 3" in info.value.message
