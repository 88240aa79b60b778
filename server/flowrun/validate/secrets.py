"""`secret-literal`: values that look like API keys written in the file."""

from __future__ import annotations

import math
import re
from collections import Counter

from flowrun.validate import codes
from flowrun.validate.context import RuleContext
from flowrun.validate.diagnostic import Severity

_KNOWN = re.compile(
    r"(?<![A-Za-z0-9_-])(?:"
    r"sk-ant-[A-Za-z0-9_-]{20,}"
    r"|sk-[A-Za-z0-9_-]{20,}"
    r"|gsk_[A-Za-z0-9]{20,}"
    r"|gh[pousr]_[A-Za-z0-9]{30,}"
    r"|github_pat_[A-Za-z0-9_]{30,}"
    r"|AKIA[0-9A-Z]{16}"
    r"|xox[abpr]-[A-Za-z0-9-]{10,}"
    r"|AIza[0-9A-Za-z_-]{35}"
    r"|hf_[A-Za-z0-9]{30,}"
    r")"
)
_TOKEN = re.compile(r"(?<![A-Za-z0-9_+/=-])[A-Za-z0-9_+/=-]{32,}")
_UPPER, _LOWER, _DIGIT = re.compile("[A-Z]"), re.compile("[a-z]"), re.compile("[0-9]")
_MIN_ENTROPY = 4.0  # bits per character; English words and hex digests stay below


def check(ctx: RuleContext) -> None:
    for path, value in ctx.source.strings:
        if path[:1] == ("secrets",) or len(value) < 16:
            continue
        tokens = [(m.start(), m.end()) for m in _KNOWN.finditer(value)]
        tokens += [
            (m.start(), m.end())
            for m in _TOKEN.finditer(value)
            if _looks_random(m.group()) and not _overlaps(tokens, m.start())
        ]
        if not tokens:
            continue
        tokens.sort()
        for located in ctx.locate(path, value, tokens):
            start = located.span[0]
            shown = ctx.text[start : start + 4]
            message = (
                f"`{shown}…` looks like an API key written in the file; put it in the "
                "environment or .env, list its name under `secrets:` and use "
                "`${{ secrets.NAME }}`"
            )
            if not located.exact:
                message = "a value here " + message[message.index("looks") :]
            ctx.report(
                codes.SECRET_LITERAL, message, ctx.range(located.span), severity=Severity.WARNING
            )


def _looks_random(token: str) -> bool:
    if not (_UPPER.search(token) and _LOWER.search(token) and _DIGIT.search(token)):
        return False
    counts = Counter(token)
    entropy = -sum(n / len(token) * math.log2(n / len(token)) for n in counts.values())
    return entropy >= _MIN_ENTROPY


def _overlaps(tokens: list[tuple[int, int]], start: int) -> bool:
    return any(a <= start < b for a, b in tokens)
