"""What the editor offers about the file format (design §3): keys, node types, providers.

Completion and hover read these tables; the validator is the authority on what is valid.
"""

from __future__ import annotations

TOP_LEVEL_KEYS = (
    "version", "id", "name", "description", "requires", "inputs", "trigger", "secrets",
    "env", "defaults", "nodes", "stages", "outputs",
)  # fmt: skip
NODE_KEYS = (
    "id", "type", "name", "needs", "when", "with", "timeout", "retry", "on_failure", "pin",
)  # fmt: skip
STAGE_KEYS = ("id", "mode", "on_failure", "nodes", "loop")
TRIGGER_KEYS = ("type", "method", "path", "sample")
LOOP_KEYS = ("max_iters", "until", "fallback")
RETRY_KEYS = ("attempts", "backoff", "factor", "max_delay")
DEFAULTS_KEYS = ("timeout", "retry", "on_failure")
INPUT_KEYS = ("type", "default", "required", "description")
CONTEXTS = ("inputs", "trigger", "nodes", "env", "secrets", "loop")
FUNCTIONS = ("len", "contains", "default", "json", "to_json")

PARAMETERS: dict[str, tuple[str, ...]] = {
    "shell": ("run", "cwd", "env", "stdin", "parse"),
    "python": ("code", "function", "args"),
    "http": ("url", "method", "headers", "query", "json", "body", "expect_status"),
    "llm": (
        "provider",
        "model",
        "prompt",
        "messages",
        "system",
        "temperature",
        "max_tokens",
        "base_url",
        "api_key",
    ),
    "agent": ("provider", "prompt", "role", "profile", "skills", "cwd", "command"),
    "transform": ("value",),
}

PROVIDERS: dict[str, tuple[str, ...]] = {
    "llm": ("openai", "groq", "anthropic", "ollama", "openai-compatible"),
    "agent": ("claude-code", "codex", "gemini", "grok"),
}

NODE_TYPES: dict[str, str] = {
    "shell": (
        "Runs `run` with `/bin/sh -c` (a string) or as argv (a list).\n\n"
        "Parameters: `run`, `cwd`, `env`, `stdin`, `parse: text|json|lines`.\n\n"
        "Output: `{exit_code, stdout, stderr, json?}`; a non-zero exit fails the node."
    ),
    "python": (
        'Calls `main(**args)` defined in `code`, or `function: "package.module:attr"`, '
        "in the selected interpreter.\n\nParameters: `code` or `function`, `args`.\n\n"
        "Output: the function's return value (JSON-serialisable)."
    ),
    "http": (
        "Sends an HTTP request.\n\nParameters: `url`, `method` (GET), `headers`, `query`, "
        "`json` or `body`, `expect_status` (default 2xx).\n\n"
        "Output: `{status, headers, body}`; JSON bodies are parsed."
    ),
    "llm": (
        "Calls a chat model.\n\nParameters: `provider` (openai, groq, anthropic, ollama, "
        "openai-compatible), `model`, `prompt` or `messages`, `system`, `temperature`, "
        "`max_tokens`, `base_url`, `api_key`.\n\nOutput: `{content, model, usage, finish_reason}`."
    ),
    "agent": (
        "Runs a coding agent CLI.\n\nParameters: `provider` (claude-code, codex, gemini, grok), "
        "`prompt`, `role`, `profile`, `skills`, `cwd`, `command`.\n\nOutput: `{exit_code, output}`."
    ),
    "transform": (
        "Evaluates `value` (any YAML; expressions are evaluated).\n\nOutput: the evaluated value."
    ),
}
