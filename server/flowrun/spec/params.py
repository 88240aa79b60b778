"""The `with` parameters of each node type (design §3): one table, used by the validator,
the JSON Schema, hover and completion."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Param:
    name: str
    doc: str
    choices: tuple[str, ...] = ()  # the only valid values (the validator enforces them)
    suggestions: tuple[str, ...] = ()  # values completion offers; others are valid too


@dataclass(frozen=True)
class NodeTypeSpec:
    name: str
    doc: str
    output: str
    params: tuple[Param, ...]
    # a node needs one parameter of each group: (("code", "function"),) is "code or function"
    required: tuple[tuple[str, ...], ...] = ()
    # parameters that contradict each other: a node may give at most one of each group
    exclusive: tuple[tuple[str, ...], ...] = ()

    def param(self, name: str) -> Param | None:
        for param in self.params:
            if param.name == name:
                return param
        return None

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)


HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
LLM_PROVIDERS = ("openai", "groq", "anthropic", "ollama", "openai-compatible")
AGENT_PROVIDERS = ("claude-code", "codex", "gemini", "grok")

_SPECS = (
    NodeTypeSpec(
        "shell",
        "Runs a command with /bin/sh -c (a string) or as argv (a list).",
        "{exit_code, stdout, stderr, json?}; exit code ≠ 0 fails the node",
        (
            Param("run", "The command: a string for /bin/sh -c, or a list (argv)."),
            Param("cwd", "Working directory (default: the workflow's folder)."),
            Param("env", "Extra environment variables."),
            Param("stdin", "Text written to the command's standard input."),
            Param("parse", "How to read stdout into `json`.", ("text", "json", "lines")),
        ),
        (("run",),),
    ),
    NodeTypeSpec(
        "python",
        "Calls `main(**args)` defined in `code`, or the function `package.module:attr`.",
        "the function's return value (JSON-serialisable)",
        (
            Param("code", "Python source that defines `main(**args)`."),
            Param("function", 'A function to call, as "package.module:attr".'),
            Param("args", "Keyword arguments for the function."),
            Param("env", "Extra environment variables (read with os.environ)."),
        ),
        (("code", "function"),),
        (("code", "function"),),
    ),
    NodeTypeSpec(
        "http",
        "Sends an HTTP request.",
        "{status, headers, body}; JSON bodies are parsed",
        (
            Param("url", "The URL."),
            Param("method", "HTTP method (default GET).", suggestions=HTTP_METHODS),
            Param("headers", "Request headers."),
            Param("query", "Query parameters."),
            Param("json", "A JSON body."),
            Param("body", "A text body."),
            Param("expect_status", "Accepted status codes (default: any 2xx)."),
        ),
        (("url",),),
        (("json", "body"),),
    ),
    NodeTypeSpec(
        "llm",
        "Calls a chat model over HTTP.",
        "{content, model, usage, finish_reason}",
        (
            Param("provider", "Who serves the model.", LLM_PROVIDERS),
            Param("model", "The model name."),
            Param("prompt", "The user message."),
            Param("messages", "A list of {role, content} messages (instead of `prompt`)."),
            Param("system", "The system message."),
            Param("temperature", "Sampling temperature."),
            Param("max_tokens", "Maximum tokens to generate."),
            Param("base_url", "The API's base URL (for ollama, proxies and local fakes)."),
            Param("api_key", "The API key, usually ${{ secrets.NAME }}."),
        ),
        (("provider",), ("model",), ("prompt", "messages")),
    ),
    NodeTypeSpec(
        "agent",
        "Runs a coding agent's CLI with a prompt.",
        "{exit_code, output}",
        (
            Param("provider", "Which agent CLI runs.", AGENT_PROVIDERS),
            Param("prompt", "The task."),
            Param("role", "The agent's role."),
            Param("profile", "A named profile of the agent."),
            Param("skills", "Skills to enable."),
            Param("cwd", "Working directory."),
            Param("command", "Override the CLI command (a string or argv list)."),
        ),
        (("provider",), ("prompt",)),
    ),
    NodeTypeSpec(
        "transform",
        "Evaluates `value` (any YAML; expressions inside are evaluated).",
        "the evaluated value",
        (Param("value", "Any YAML value; its expressions are evaluated."),),
        (("value",),),
    ),
)

NODE_TYPE_SPECS: dict[str, NodeTypeSpec] = {spec.name: spec for spec in _SPECS}
NODE_TYPES: tuple[str, ...] = tuple(NODE_TYPE_SPECS)
