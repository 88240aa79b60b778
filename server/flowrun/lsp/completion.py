"""Completion: keys, node types, providers, node ids (in `needs` and after `nodes.`), inputs
and secrets in expressions.

The file is usually invalid while it is typed, so the context comes from the text around the
cursor (indentation gives the enclosing keys) plus the last good outline of the document.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lsprotocol import types

from flowrun.lsp import vocabulary as vocab
from flowrun.lsp.outline import Outline
from flowrun.lsp.server import FlowrunServer

TRIGGER_CHARACTERS = [".", " ", "[", ","]

_LINE = re.compile(r"^(\s*)(?:(-)(\s+|$))?(.*)$")
_KEY = re.compile(r"^([A-Za-z_][\w-]*)\s*:(?:\s|$)")
_EXPR_TAIL = re.compile(r"([A-Za-z_][\w]*)\.([A-Za-z_][\w-]*\.)?([\w-]*)$")
_VALUE_AT = re.compile(r"^\s*(?:-\s+)?([A-Za-z_][\w-]*)\s*:\s*(.*)$")


@dataclass(frozen=True)
class LineInfo:
    dash: int | None
    content: int
    key: str | None


def setup(server: FlowrunServer) -> None:
    @server.feature(
        types.TEXT_DOCUMENT_COMPLETION,
        types.CompletionOptions(trigger_characters=TRIGGER_CHARACTERS),
    )
    async def completion(params: types.CompletionParams) -> types.CompletionList:
        uri = params.text_document.uri
        server.check_position(uri, params.position)
        text = server.document_text(uri) or ""
        # The last outline is enough (and the text is often half-typed): do not wait.
        outline = await server.outline(uri, fresh=False) or Outline(workflow_id="")
        lines = text.splitlines()
        line_no, column = params.position.line, params.position.character
        line = lines[line_no] if line_no < len(lines) else ""
        items = complete(outline, lines, line_no, line[:column])
        return types.CompletionList(is_incomplete=False, items=items)


def complete(
    outline: Outline, lines: list[str], line_no: int, before: str
) -> list[types.CompletionItem]:
    start = before.rfind("${{")
    if start >= 0 and "}}" not in before[start:]:
        return _expression_items(outline, before[start + 3 :])
    path = ancestors(lines, line_no, before)
    value = _VALUE_AT.match(before)
    if value is not None:
        return _value_items(outline, path, value.group(1), value.group(2), line_no)
    if re.match(r"^\s*-\s*[\w-]*$", before) and path[-2:-1] == ["needs"]:
        return _node_items(outline, line_no)
    if re.match(r"^\s*(?:-\s+)?[\w-]*$", before):
        return _items(keys_for(path, outline, line_no), types.CompletionItemKind.Property, ": ")
    return []


def keys_for(path: list[str], outline: Outline, line_no: int) -> tuple[str, ...]:
    tail = path[-2:]
    if not path:
        return vocab.TOP_LEVEL_KEYS
    if tail == ["nodes", "[]"]:
        return vocab.NODE_KEYS
    if path == ["stages", "[]"]:
        return vocab.STAGE_KEYS
    if tail == ["[]", "with"]:
        return vocab.parameter_names(_node_type(outline, line_no))
    if len(path) == 2 and path[0] == "inputs":
        return vocab.INPUT_KEYS
    named = {
        "trigger": vocab.TRIGGER_KEYS,
        "loop": vocab.LOOP_KEYS,
        "retry": vocab.RETRY_KEYS,
        "defaults": vocab.DEFAULTS_KEYS,
    }
    return named.get(path[-1], ())


def ancestors(lines: list[str], line_no: int, before: str) -> list[str]:
    """The keys enclosing the cursor, outermost first; `[]` marks a list item."""
    info = parse_line(before)
    path: list[str] = []
    current, after_dash = (info.content, False) if info else (len(before), False)
    if info is not None and info.dash is not None:
        path.append("[]")
        current, after_dash = info.dash, True
    for index in range(line_no - 1, -1, -1):
        above = parse_line(lines[index])
        if above is None:
            continue
        owner = above.content < current or (
            after_dash and above.dash is None and above.content == current
        )
        if owner and above.key is not None:
            path.append(above.key)
            current, after_dash = above.content, False
            if above.dash is not None:
                path.append("[]")
                current, after_dash = above.dash, True
        elif not after_dash and above.dash is not None and above.content == current:
            path.append("[]")
            current, after_dash = above.dash, True
        if current == 0 and not after_dash:
            break
    return list(reversed(path))


def parse_line(line: str) -> LineInfo | None:
    if not line.strip() or line.lstrip().startswith("#"):
        return None
    match = _LINE.match(line)
    assert match is not None
    indent, dash, space, rest = match.groups()
    content = len(indent) + (1 + len(space) if dash else 0)
    key = _KEY.match(rest)
    return LineInfo(len(indent) if dash else None, content, key.group(1) if key else None)


def _value_items(
    outline: Outline, path: list[str], key: str, typed: str, line_no: int
) -> list[types.CompletionItem]:
    kind = types.CompletionItemKind.EnumMember
    if key == "needs":
        return _node_items(outline, line_no)
    if key == "type":
        if path[-1:] == ["[]"]:
            return _items(vocab.NODE_TYPES, kind)
        if path[:1] == ["trigger"]:
            return _items(vocab.TRIGGER_TYPES, kind)
        if path[:1] == ["inputs"]:
            return _items(vocab.INPUT_TYPES, kind)
    if key == "provider":
        return _items(vocab.providers(_node_type(outline, line_no)), kind)
    return _items(vocab.value_choices(key, _node_type(outline, line_no)), kind)


def _expression_items(outline: Outline, expression: str) -> list[types.CompletionItem]:
    tail = _EXPR_TAIL.search(expression)
    var = types.CompletionItemKind.Variable
    if tail is None:
        return _items(vocab.CONTEXTS, types.CompletionItemKind.Module) + _items(
            tuple(vocab.FUNCTIONS), types.CompletionItemKind.Function
        )
    context, member = tail.group(1), tail.group(2)
    if context == "nodes" and member:
        return _items(vocab.NODE_FIELDS, types.CompletionItemKind.Field)
    choices = {
        "nodes": tuple(node.id for node in outline.nodes),
        "inputs": outline.inputs,
        "secrets": outline.secrets,
        "trigger": vocab.TRIGGER_FIELDS,
        "loop": vocab.LOOP_FIELDS,
    }
    return _items(choices.get(context, ()) if not member else (), var)


def _node_items(outline: Outline, line_no: int) -> list[types.CompletionItem]:
    here = _node_here(outline, line_no)
    ids = tuple(node.id for node in outline.nodes if node.id != here)
    return _items(ids, types.CompletionItemKind.Reference)


def _node_here(outline: Outline, line_no: int) -> str | None:
    inside = [n for n in outline.nodes if n.range.start.line <= line_no <= n.range.end.line]
    return inside[-1].id if inside else None


def _node_type(outline: Outline, line_no: int) -> str | None:
    here = _node_here(outline, line_no)
    node = outline.node(here) if here else None
    return node.type if node else None


def _items(
    labels: tuple[str, ...], kind: types.CompletionItemKind, suffix: str = ""
) -> list[types.CompletionItem]:
    return [
        types.CompletionItem(label=label, kind=kind, insert_text=label + suffix if suffix else None)
        for label in labels
    ]
