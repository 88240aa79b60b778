"""The quick fix "move this `${{ }}` into `with.env`": the value becomes an environment
variable of the node, and the command or code reads it as data.

Two edits (three when python code lacks `import os`): the expression in the command becomes a
reference to the variable (`"${NAME}"`, quoted as the shell context needs; `os.environ["NAME"]`
in Python, closing and reopening a string literal around it), and `NAME: '${{ … }}'` is
added to the node's `with.env` (created when missing). No fix is offered where the edit
cannot be made safely (a scalar written with escapes or folds, an odd layout).
"""

from __future__ import annotations

import re
from typing import Any

from flowrun.spec.loader import JsonPath, Span
from flowrun.validate.context import Located, NodeRef, RuleContext
from flowrun.validate.diagnostic import Fix, Range
from flowrun_engine.expr import Reference

_NOT_NAME = re.compile(r"[^A-Z0-9_]+")
_IMPORTS_OS = re.compile(r"^\s*import\s+os\b", re.MULTILINE)


def env_name(ref: Reference) -> str:
    """`inputs.who` → WHO, `trigger.body.text` → TRIGGER_BODY_TEXT, `nodes.a.output` → A_OUTPUT."""
    parts = [str(p) for p in ref.path if isinstance(p, str)]
    if ref.context == "trigger":
        parts = ["trigger", *parts]
    name = _NOT_NAME.sub("_", "_".join(parts).upper()).strip("_") or "VALUE"
    return f"_{name}" if name[0].isdigit() else name


def move_to_env_fix(
    ctx: RuleContext,
    node: NodeRef,
    path: JsonPath,
    kind: str,
    text: str,
    where: Located,
    name: str,
) -> Fix | None:
    value = "'" + ("${{" + text + "}}").replace("'", "''") + "'"
    existing = _env(node)
    name = _free_name(existing, name, "${{" + text + "}}")
    edits = _reference_edits(ctx, path, kind, where.span, name)
    if edits is None:
        return None
    if existing.get(name) != "${{" + text + "}}":
        added = _add_env_edit(ctx, node, path, name, value)
        if added is None:
            return None
        edits.append(added)
    title = f"Move `${{{{{text}}}}}` into `with.env` as `{name}`"
    return Fix(title, tuple(edits))


def _env(node: NodeRef) -> dict[str, Any]:
    params = node.raw.get("with")
    env = params.get("env") if isinstance(params, dict) else None
    return env if isinstance(env, dict) else {}


def _free_name(existing: dict[str, Any], name: str, value: str) -> str:
    candidate, n = name, 1
    while candidate in existing and existing[candidate] != value:
        n += 1
        candidate = f"{name}_{n}"
    return candidate


# --- the reference in the command or code -----------------------------------------------------


def _reference_edits(
    ctx: RuleContext, path: JsonPath, kind: str, span: Span, name: str
) -> list[tuple[Range, str]] | None:
    scalar = ctx.source.values.get(path)
    if scalar is None:
        return None
    style = ctx.text[scalar[0]] if scalar[0] < len(ctx.text) else ""
    before = _unescape(ctx.text[_content_start(ctx, scalar, style) : span[0]], style)
    start, end = span
    if kind == "python":
        quote = _python_string(before)
        reader = f'os.environ["{name}"]'
        if quote and ctx.text[start - 1 : start] == quote and ctx.text[end : end + 1] == quote:
            start, end, new_text = start - 1, end + 1, reader
        else:
            new_text = f"{quote} + {reader} + {quote}" if quote else reader
    else:
        state = _shell_quote(before)
        new_text = {"": f'"${{{name}}}"', '"': f"${{{name}}}", "'": f"'\"${{{name}}}\"'"}[state]
    if style not in ("|", ">", "'", '"') and start == scalar[0] and new_text[0] in "'\"":
        return None  # a plain scalar would turn into a quoted one
    edits = [(ctx.range((start, end)), _escape(new_text, style))]
    if kind == "python" and not _IMPORTS_OS.search(ctx.text[scalar[0] : scalar[1]]):
        if style not in ("|", ">"):
            return None
        first = _content_start(ctx, scalar, style)
        indent = first - ctx.source.index.line_start(first)
        edits.append((ctx.range((first, first)), "import os\n" + " " * indent))
    return edits


def _content_start(ctx: RuleContext, scalar: Span, style: str) -> int:
    """Where the scalar's text starts: after the quote, or the first line of a block scalar."""
    if style in ("'", '"'):
        return scalar[0] + 1
    if style in ("|", ">"):
        pos = ctx.text.find("\n", scalar[0]) + 1
        while 0 < pos < scalar[1]:
            end = ctx.text.find("\n", pos)
            line = ctx.text[pos : end if end >= 0 else len(ctx.text)]
            if line.strip():
                return pos + len(line) - len(line.lstrip(" "))
            pos = end + 1 if end >= 0 else scalar[1]
        return scalar[1]
    return scalar[0]


def _unescape(text: str, style: str) -> str:
    if style == "'":
        return text.replace("''", "'")
    if style == '"':
        return text.replace("\\\\", "\x00").replace('\\"', '"').replace("\x00", "\\")
    return text


def _escape(text: str, style: str) -> str:
    if style == "'":
        return text.replace("'", "''")
    if style == '"':
        return text.replace("\\", "\\\\").replace('"', '\\"')
    return text


def _shell_quote(text: str) -> str:
    """The shell quoting in force at the end of `text`: "", "'" or '"'."""
    state, i = "", 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and state != "'":
            i += 2
            continue
        if state == "" and ch in "'\"":
            state = ch
        elif ch == state:
            state = ""
        i += 1
    return state


def _python_string(text: str) -> str:
    """The quote of the Python string literal open at the end of `text`, or ""."""
    state, i = "", 0
    while i < len(text):
        ch = text[i]
        if state and ch == "\\":
            i += 2
            continue
        if state == "" and ch == "#":
            newline = text.find("\n", i)
            i = len(text) if newline < 0 else newline
            continue
        if state == "" and ch in "'\"":
            state = ch
        elif ch == state or (ch == "\n" and state):
            state = ""
        i += 1
    return state


# --- the new `with.env` entry ---------------------------------------------------------------


def _add_env_edit(
    ctx: RuleContext, node: NodeRef, path: JsonPath, name: str, value: str
) -> tuple[Range, str] | None:
    with_path = (*node.path, "with")
    env_path = (*with_path, "env")
    with_span = ctx.source.values.get(with_path)
    if with_span is None:
        return None
    env_span = ctx.source.values.get(env_path)
    if env_span is not None:
        return _append_to_env(ctx, env_path, env_span, name, value)
    if ctx.text.startswith("{", with_span[0]):
        at = with_span[0] + 1
        return ctx.range((at, at)), f"env: {{{name}: {value}}}, "
    key = ctx.source.keys.get(path[: len(with_path) + 1])
    if key is None:
        return None
    line = ctx.source.index.line_start(key[0])
    indent = ctx.text[line : key[0]]
    if indent.strip():
        return None
    return ctx.range((line, line)), f"{indent}env:\n{indent}  {name}: {value}\n"


def _append_to_env(
    ctx: RuleContext, env_path: JsonPath, env_span: Span, name: str, value: str
) -> tuple[Range, str] | None:
    env = _value_at(ctx, env_path)
    if not isinstance(env, dict):
        return None
    if ctx.text.startswith("{", env_span[0]):
        close = env_span[1] - 1
        return ctx.range((close, close)), (f", {name}: {value}" if env else f"{name}: {value}")
    if not env:
        return None
    keys = [ctx.source.keys.get((*env_path, k)) for k in env]
    last = ctx.source.values.get((*env_path, list(env)[-1]))
    if keys[0] is None or last is None:
        return None
    indent = keys[0][0] - ctx.source.index.line_start(keys[0][0])
    return ctx.range((last[1], last[1])), f"\n{' ' * indent}{name}: {value}"


def _value_at(ctx: RuleContext, path: JsonPath) -> Any:
    value: Any = ctx.data
    for part in path:
        value = value[part]
    return value
