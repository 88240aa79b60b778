"""Did-you-mean suggestions."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def closest(word: str, choices: Iterable[str]) -> str | None:
    options = list(choices)
    matches = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if matches:
        return matches[0]
    lowered = {c.lower(): c for c in options}
    return lowered.get(word.lower())


def quoted(words: Iterable[str]) -> str:
    return ", ".join(f"`{w}`" for w in words)


def did_you_mean(suggestion: str | None, choices: Iterable[str], *, limit: int = 12) -> str:
    """ "; did you mean `x`?" or "; expected one of `a`, `b`" (or "" without choices)."""
    if suggestion is not None:
        return f"; did you mean `{suggestion}`?"
    options = list(choices)
    if not options:
        return ""
    shown = quoted(options[:limit]) + (", …" if len(options) > limit else "")
    return f"; expected one of {shown}"
