"""Templates: finding `${{ ... }}` in strings, and rendering values that contain them.

`render()` keeps the value's type only when the string is exactly one `${{ }}` with nothing
around it, not even whitespace; any other string is text, each expression written with
to_text(). A `}}` inside a string literal does not close an expression.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flowrun_engine.expr.errors import ExprEvalError, ExprSyntaxError
from flowrun_engine.expr.evaluator import evaluate
from flowrun_engine.expr.parser import parse
from flowrun_engine.expr.values import to_text


@dataclass(frozen=True)
class TemplateExpression:
    """One `${{ ... }}` found in a string."""

    start: int
    end: int
    text: str
    text_start: int
    closed: bool


_QUOTE_OR_CLOSE = re.compile(r"['\"]|\}\}")


def _find_close(s: str, i: int) -> int:
    """Index of the `}}` closing an expression whose text starts at i, or -1.

    `}}` inside a string literal does not close; if a literal never ends, the first `}}` does.
    """
    j = i
    while (found := _QUOTE_OR_CLOSE.search(s, j)) is not None:
        quote = found.group()
        if quote == "}}":
            return found.start()
        k = found.start() + 1
        while k < len(s) and s[k] != quote:
            k += 2 if s[k] == "\\" else 1
        if k >= len(s):
            return s.find("}}", i)
        j = k + 1
    return -1


def find_expressions(s: str) -> list[TemplateExpression]:
    found: list[TemplateExpression] = []
    i = s.find("${{")
    while i != -1:
        text_start = i + 3
        close = _find_close(s, text_start)
        if close == -1:
            found.append(TemplateExpression(i, len(s), s[text_start:], text_start, False))
            break
        found.append(TemplateExpression(i, close + 2, s[text_start:close], text_start, True))
        i = s.find("${{", close + 2)
    return found


def render(value: Any, context: Mapping[str, Any]) -> Any:
    """Evaluate every `${{ }}` in a value, walking dicts and lists."""
    if isinstance(value, str):
        return _render_string(value, context)
    if isinstance(value, Mapping):
        return {key: render(item, context) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [render(item, context) for item in value]
    return value


def _evaluate_template(template: TemplateExpression, context: Mapping[str, Any]) -> Any:
    if not template.closed:
        raise ExprSyntaxError("'${{' is never closed: add '}}'", 0, len(template.text))
    expr = parse(template.text)
    try:
        return evaluate(expr, context)
    except ExprEvalError as exc:
        raise ExprEvalError(f"{exc.message} (in ${{{{ {template.text.strip()} }}}})") from None


def _render_string(s: str, context: Mapping[str, Any]) -> Any:
    templates = find_expressions(s)
    if not templates:
        return s
    if len(templates) == 1 and templates[0].start == 0 and templates[0].end == len(s):
        return _evaluate_template(templates[0], context)
    parts: list[str] = []
    pos = 0
    for template in templates:
        parts.append(s[pos : template.start])
        parts.append(to_text(_evaluate_template(template, context)))
        pos = template.end
    parts.append(s[pos:])
    return "".join(parts)
