"""`agent`: run a coding-agent CLI non-interactively with a prompt. Output `{exit_code, output}`.

Providers: claude-code → `claude -p PROMPT`, codex → `codex exec PROMPT`, gemini →
`gemini -p PROMPT`, grok → `grok -p PROMPT`. `command` replaces the CLI (a string split
like a shell would, or a list); the prompt is always the last argument.

`role`, `profile` and `skills` are not CLI flags (the four CLIs have no common ones): they
become a short preamble in front of the prompt:

    Role: <role>
    Profile: <profile>
    Skills: <skill>, <skill>

    Task:
    <prompt>

The CLI runs through `ctx.run_process`, so it is in the run's process group and its
stdout/stderr stream as the node's logs. `output` is its stdout without trailing newlines.
"""

from __future__ import annotations

import os
import shlex
import shutil
from dataclasses import dataclass
from typing import Any

from flowrun_engine.context import NodeContext, ProcessResult
from flowrun_engine.errors import NodeError, execution_error
from flowrun_engine.expr import to_text
from flowrun_engine.nodes._params import provider_of
from flowrun_engine.usage import from_agent_output

MAX_PROMPT_BYTES = 120 * 1024  # Linux limits one argument to 128 KiB
STDERR_TAIL_CHARS = 2000


@dataclass(frozen=True)
class AgentCli:
    argv: tuple[str, ...]
    label: str
    install: str


CLIS = {
    "claude-code": AgentCli(
        ("claude", "-p"), "Claude Code CLI", "npm install -g @anthropic-ai/claude-code"
    ),
    "codex": AgentCli(("codex", "exec"), "OpenAI Codex CLI", "npm install -g @openai/codex"),
    "gemini": AgentCli(("gemini", "-p"), "Gemini CLI", "npm install -g @google/gemini-cli"),
    "grok": AgentCli(("grok", "-p"), "Grok CLI", "npm install -g @vibe-kit/grok-cli"),
}


async def run(params: dict[str, Any], ctx: NodeContext) -> Any:
    cli = _cli(params, ctx.node_id)
    prompt = _prompt(params, ctx.node_id)
    argv = [*_base_argv(params, cli, ctx.node_id), prompt]
    argv[0] = _find_program(argv[0], cli, params, ctx)
    cwd = ctx.working_dir(params.get("cwd"))
    try:
        result = await ctx.run_process(argv, cwd=cwd, env=ctx.env)
    except (FileNotFoundError, PermissionError) as exc:
        raise execution_error(
            f"node `{ctx.node_id}`: cannot start {argv[0]}: {exc.strerror or exc}",
            "check that the CLI is installed and executable",
        ) from None
    output = {"exit_code": result.exit_code, "output": result.stdout.rstrip("\n")}
    _count_usage(ctx, params, result.stdout)
    if result.exit_code != 0:
        raise NodeError(
            "ExecutionError",
            _exit_message(ctx, os.path.basename(argv[0]), result),
            suggestion="the agent's output is in the node's logs (`flowrun run` streams them, "
            "`flowrun show` keeps them); run the same command in a terminal to reproduce it",
            output=output,
        )
    return output


def _count_usage(ctx: NodeContext, params: dict[str, Any], stdout: str) -> None:
    """Tokens and cost from the CLI's JSON output (`--output-format json`); else unknown."""
    usage = from_agent_output(stdout)
    if usage is not None:
        provider = params.get("provider") if isinstance(params.get("provider"), str) else None
        ctx.metrics.add_llm(
            provider,
            usage.model,
            usage.input_tokens,
            usage.output_tokens,
            cost_usd=usage.cost_usd,
            calls=usage.calls,
        )


def _cli(params: dict[str, Any], node_id: str) -> AgentCli | None:
    name = params.get("provider")
    if name is None and params.get("command"):
        return None
    return provider_of(params, CLIS, node_id, "agent", " (or give `command`)")


def preamble(params: dict[str, Any]) -> str:
    lines = []
    for key in ("role", "profile"):
        if params.get(key):
            lines.append(f"{key.capitalize()}: {to_text(params[key])}")
    skills = params.get("skills")
    if skills:
        items = skills if isinstance(skills, list) else [skills]
        listed = ", ".join(to_text(skill) for skill in items)
        lines.append(f"Skills: {listed}")
    return "\n".join(lines)


def _prompt(params: dict[str, Any], node_id: str) -> str:
    prompt = params.get("prompt")
    if prompt is None or prompt == "":
        raise execution_error(
            f"node `{node_id}` has no `prompt`", "add `prompt:` with the task for the agent"
        )
    head = preamble(params)
    text = f"{head}\n\nTask:\n{to_text(prompt)}" if head else to_text(prompt)
    if len(text.encode()) > MAX_PROMPT_BYTES:
        raise execution_error(
            f"node `{node_id}`: the prompt is {len(text.encode())} bytes; a command-line"
            f" argument can hold at most {MAX_PROMPT_BYTES} bytes",
            "write the long context to a file and tell the agent to read it",
        )
    return text


def _base_argv(params: dict[str, Any], cli: AgentCli | None, node_id: str) -> list[str]:
    command = params.get("command")
    if command is None or command == "" or command == []:
        assert cli is not None  # _cli() demands a provider when there is no command
        return list(cli.argv)
    if isinstance(command, str):
        try:
            argv = shlex.split(command)
        except ValueError as exc:
            raise execution_error(
                f"node `{node_id}`: cannot split `command` {command!r}: {exc}",
                "check the quotes in `command`, or give it as a list",
            ) from None
    elif isinstance(command, list):
        argv = [to_text(part) for part in command]
    else:
        argv = []
    if not argv:
        raise execution_error(
            f"node `{node_id}`: `command` must be a command line or a list of arguments",
            "for example `command: claude -p --model sonnet`",
        )
    return argv


def _find_program(
    program: str, cli: AgentCli | None, params: dict[str, Any], ctx: NodeContext
) -> str:
    search = ctx.env.get("PATH", os.defpath)
    found = shutil.which(program, path=search)
    if found is None and os.sep in program:
        found = shutil.which(os.path.join(ctx.cwd, program))
    if found is not None:
        return found
    if cli is not None and not params.get("command"):
        raise execution_error(
            f"node `{ctx.node_id}`: {program} ({cli.label}) not found on PATH",
            f"install it with `{cli.install}`, or set `command:` to the CLI's full path",
        )
    raise execution_error(
        f"node `{ctx.node_id}`: {program} (from `command`) not found on PATH",
        "install it, put it on PATH, or write its full path in `command`",
    )


def _exit_message(ctx: NodeContext, program: str, result: ProcessResult) -> str:
    text = ctx.redact(result.stderr.strip() or result.stdout.strip())  # before the cut
    tail = text[-STDERR_TAIL_CHARS:]
    detail = f":\n{tail}" if tail else " (no output)"
    return f"node `{ctx.node_id}`: {program} exited with code {result.exit_code}{detail}"
