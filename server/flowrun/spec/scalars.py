"""YAML scalars typed with the YAML 1.2 core schema, not PyYAML's YAML 1.1.

As yaml-language-server and the JSON Schema see them: only `true`/`false` (`True`, `TRUE`...)
are booleans (`yes`, `no`, `on`, `off` are text), `012` is the integer 12, `0o12` is octal,
and `1:30`, `1_000` and dates are text.
"""

from __future__ import annotations

import re
from typing import Any

from yaml.nodes import ScalarNode

TAG = "tag:yaml.org,2002:"
STR = TAG + "str"
# The YAML 1.2 core schema's implicit types (https://yaml.org/spec/1.2.2/#1023-core-schema).
_CORE = re.compile(
    r"(?P<null>~|null|Null|NULL|)"
    r"|(?P<bool>true|True|TRUE|false|False|FALSE)"
    r"|(?P<int>[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)"
    r"|(?P<float>[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))"
)
_CORE_FIRST = frozenset("~nNtTfF-+.0123456789")


def scalar(node: ScalarNode) -> Any:
    """The value of a scalar node: plain ones typed by the core schema, others as tagged."""
    tag, value = node.tag, node.value
    if tag == STR and not node.style:
        return core_value(value)
    if not tag.startswith(TAG):
        return value  # values of other tags as written
    name = tag[len(TAG) :]
    if name in ("null", "bool", "int", "float"):  # an explicit `!!int 3`
        typed = core_value(value)
        return typed if typed != value else value
    return value  # text, timestamps, binary... stay as written


def core_value(value: str) -> Any:
    """A plain scalar typed by the YAML 1.2 core schema; text when it is none of its types."""
    if value[:1] not in _CORE_FIRST and value:
        return value
    match = _CORE.fullmatch(value)
    if match is None:
        return value
    kind = match.lastgroup
    if kind == "null":
        return None
    if kind == "bool":
        return value[0] in "tT"
    if kind == "int":
        if value.startswith(("0o", "0x")):
            return int(value[2:], 8 if value[1] == "o" else 16)
        return int(value)
    lowered = value.lower()
    if lowered.endswith(("inf", "nan")):
        return float(lowered.replace(".", ""))
    return float(value)
