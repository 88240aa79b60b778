r"""The `${{ expr }}` language: tokenizer, recursive-descent parser, evaluator, rendering.

Shared by the validator (syntax errors with exact offsets, context references) and the
engine (evaluation). Never uses `eval`. Precedence, loosest first, as in Python:
`or`, `and`, `not`, comparisons (`== != < <= > >= in`, not chained), `+ -`, `* / %`,
unary `-`, then paths (`a.b`, `a['b']`, `a[0]`) and calls.

Decisions where the design is silent:
* A path segment after `.` may contain `-` followed by a letter (`nodes.fetch-data.output`),
  so hyphenated node ids work as in GitHub Actions; `a.b - c` and `a.b-1` still subtract.
* Missing keys, out-of-range indexes and paths through null give null (so `default()` works).
* `and`/`or` return one of their operands, like Python; `==` never equates booleans and numbers.
* `render()` keeps the value's type only when the string is exactly one `${{ }}` with nothing
  around it, not even whitespace; any other string is text.
* Also accepted: list literals `[1, 'a']`, `not in`, string escapes `\n \t \\ \' \"`.
  Comparisons do not chain (`1 < x < 3` is a syntax error that says how to write it).
* An expression has at most MAX_TOKENS tokens and MAX_DEPTH levels of nesting, so deep input
  is a syntax error, never a RecursionError.

Modules: `tokens` (text → tokens), `parser` (tokens → AST, precedence), `syntax` (the AST,
FUNCTIONS, CONTEXTS, unparse), `refs` (context references), `evaluator` (AST → value, the
functions), `template` (`${{ }}` in strings, render), `values` (type names, to_text), `errors`.
Import from this package, not from the modules.
"""

from flowrun_engine.expr.errors import ExprEvalError, ExprSyntaxError
from flowrun_engine.expr.evaluator import evaluate
from flowrun_engine.expr.parser import MAX_DEPTH, MAX_TOKENS, parse
from flowrun_engine.expr.refs import Reference, references, status_calls
from flowrun_engine.expr.syntax import (
    CONTEXTS,
    FUNCTIONS,
    STATUS_FUNCTIONS,
    STATUS_KEY,
    Attr,
    Binary,
    Call,
    Const,
    Expr,
    Index,
    ListExpr,
    Name,
    Unary,
    unparse,
)
from flowrun_engine.expr.template import TemplateExpression, find_expressions, render
from flowrun_engine.expr.values import to_text, type_name

__all__ = [
    "CONTEXTS",
    "FUNCTIONS",
    "MAX_DEPTH",
    "MAX_TOKENS",
    "STATUS_FUNCTIONS",
    "STATUS_KEY",
    "Attr",
    "Binary",
    "Call",
    "Const",
    "Expr",
    "ExprEvalError",
    "ExprSyntaxError",
    "Index",
    "ListExpr",
    "Name",
    "Reference",
    "TemplateExpression",
    "Unary",
    "evaluate",
    "find_expressions",
    "parse",
    "references",
    "render",
    "status_calls",
    "to_text",
    "type_name",
    "unparse",
]
