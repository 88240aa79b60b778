"""Workflow model → the engine input JSON of docs/internals.md ("Engine input").

Defaults are filled in, durations are seconds, inputs are checked against their types, and
the trigger is the given one or the file's `trigger.sample`.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

from flowrun.spec.checks import INPUT_TYPE_WORDS
from flowrun.spec.file_names import id_from_file_name
from flowrun.spec.loader import SourceMap, iter_raw_nodes
from flowrun.spec.models import (
    Cache,
    CacheOptions,
    Defaults,
    Input,
    Node,
    Retry,
    Stage,
    Workflow,
)
from flowrun.spec.node_hash import add_hashes
from flowrun_engine.expr.values import type_name

DEFAULT_NODE_TIMEOUT = 60.0
DEFAULT_EXECUTION_TIMEOUT = 600.0
DEFAULT_MAX_PARALLEL = 16
_RETRY_DEFAULTS = {"attempts": 1, "backoff": 1.0, "factor": 2.0, "max_delay": 30.0}
_TRIGGER_KEYS = ("method", "path", "headers", "query", "body", "params")
_PATH_PARAM = re.compile(r"\{([^{}/]*)\}")


class InputError(ValueError):
    """An input or trigger the workflow cannot run with; the message says what to change.

    `missing` lists the required inputs that were not given, as `{name, type, description}`,
    so an editor can ask for them.
    """

    def __init__(self, message: str, *, missing: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.missing = missing or []


class TriggerError(InputError):
    pass


def workflow_id(workflow: Workflow, path: Path) -> str:
    """The workflow's `id`, else the file name without `.workflow.yml`/`.workflow.yaml`."""
    if workflow.id:
        return workflow.id
    return id_from_file_name(path)


def resolve(
    workflow: Workflow,
    path: Path,
    *,
    inputs: dict[str, Any] | None = None,
    trigger: dict[str, Any] | None = None,
    source: SourceMap | None = None,
) -> dict[str, Any]:
    """The engine input. With `source` (the validation's), python nodes get `code_line`."""
    path = Path(path).absolute()
    resolved = {
        "workflow": {
            "id": workflow_id(workflow, path),
            "name": workflow.name,
            "file": str(path),
            "env": {key: _env_text(value) for key, value in workflow.env.items()},
            "secrets": list(workflow.secrets),
            "outputs": dict(workflow.outputs),
            "stages": _stages(workflow),
        },
        "inputs": resolve_inputs(workflow.inputs, inputs or {}),
        "trigger": resolve_trigger(workflow, trigger),
        "options": {
            "max_parallel": DEFAULT_MAX_PARALLEL,
            "timeout": DEFAULT_EXECUTION_TIMEOUT,
            "given_outputs": {},
            "cwd": str(path.parent),
        },
    }
    if source is not None:
        _add_code_lines(resolved["workflow"]["stages"], source)
    add_hashes(resolved["workflow"])
    return resolved


def node_hashes(workflow: Workflow) -> dict[str, str]:
    """Each node's definition hash as `resolve` sets it, without resolving the inputs or the
    trigger (the editor's "changed since the last success" marker)."""
    stages = _stages(workflow)
    add_hashes({"stages": stages})
    return {str(node["id"]): str(node["hash"]) for stage in stages for node in stage["nodes"]}


def _add_code_lines(stages: list[dict[str, Any]], source: SourceMap) -> None:
    lines = code_lines(source)
    for stage in stages:
        for node in stage["nodes"]:
            if node["type"] == "python" and node["id"] in lines:
                node["code_line"] = lines[node["id"]]


def code_lines(source: SourceMap) -> dict[str, int]:
    """1-based line of the first line of each python node's `with.code`, where it is exact:
    a literal block (`code: |`) or a one-line scalar."""
    found: dict[str, int] = {}
    for path, raw in iter_raw_nodes(source.data):
        span = source.values.get((*path, "with", "code"))
        if span is None or not isinstance(raw.get("id"), str):
            continue
        first = source.text[span[0] : span[0] + 1]
        line = source.index.position(span[0]).line
        if first == "|":
            found.setdefault(raw["id"], line + 2)
        elif first != ">" and source.index.position(span[1]).line == line:
            found.setdefault(raw["id"], line + 1)
    return found


def _env_text(value: str | int | float | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _stages(workflow: Workflow) -> list[dict[str, Any]]:
    defaults = workflow.defaults
    if workflow.nodes is not None:
        nodes = [_node(node, defaults, None) for node in workflow.nodes]
        return [{"id": None, "mode": "parallel", "on_failure": None, "loop": None, "nodes": nodes}]
    return [_stage(stage, defaults) for stage in workflow.stages or []]


def _stage(stage: Stage, defaults: Defaults) -> dict[str, Any]:
    loop = None
    if stage.loop is not None:
        loop = {
            "max_iters": stage.loop.max_iters,
            "until": stage.loop.until,
            "fallback": stage.loop.fallback,
        }
    return {
        "id": stage.id,
        "mode": stage.mode,
        "on_failure": stage.on_failure,
        "loop": loop,
        "nodes": [_node(node, defaults, stage) for node in stage.nodes],
    }


def _node(node: Node, defaults: Defaults, stage: Stage | None) -> dict[str, Any]:
    stage_failure = stage.on_failure if stage is not None else None
    timeout = node.timeout if node.timeout is not None else defaults.timeout
    resolved: dict[str, Any] = {
        "id": node.id,
        "type": node.type,
        "name": node.name,
        "needs": list(node.needs),
        "when": node.when,
        "with": dict(node.with_),
        "timeout": float(timeout if timeout is not None else DEFAULT_NODE_TIMEOUT),
        "retry": _retry(defaults.retry, node.retry),
        "on_failure": node.on_failure or stage_failure or defaults.on_failure or "stop",
        "has_pin": node.has_pin,
        "pin": node.pin,
    }
    if (cache := _cache(node.cache)) is not None:  # only cached nodes carry the key
        resolved["cache"] = cache
    return resolved


def _cache(cache: Cache | None) -> dict[str, Any] | None:
    """`{ttl: seconds | null, production: bool}`, or None when the node is not cached."""
    if cache is None or cache is False:
        return None
    if cache is True:
        return {"ttl": None, "production": False}
    if isinstance(cache, CacheOptions):
        return {"ttl": cache.ttl, "production": cache.production}
    return {"ttl": float(cache), "production": False}


def _retry(*layers: Retry | None) -> dict[str, Any]:
    """Field by field: the node's values over the defaults' over the built-in ones."""
    merged: dict[str, Any] = dict(_RETRY_DEFAULTS)
    for layer in layers:
        if layer is not None:
            merged.update({name: getattr(layer, name) for name in layer.model_fields_set})
    merged["attempts"] = int(merged["attempts"])
    for name in ("backoff", "factor", "max_delay"):
        merged[name] = float(merged[name])
    return merged


# --- inputs ---------------------------------------------------------------------------------


def resolve_inputs(declared: dict[str, Input], given: dict[str, Any]) -> dict[str, Any]:
    unknown = [name for name in given if name not in declared]
    if unknown:
        names = ", ".join(f"`{n}`" for n in declared) or "none"
        raise InputError(
            f"unknown input `{unknown[0]}`: this workflow declares {names} under `inputs:`"
        )
    values: dict[str, Any] = {}
    missing: list[dict[str, Any]] = []
    for name, spec in declared.items():
        if name in given:
            values[name] = _typed(name, spec, given[name])
        elif spec.is_required:
            missing.append({"name": name, "type": spec.type, "description": spec.description})
        else:
            values[name] = spec.default
    if missing:
        raise InputError(_missing_message(declared, missing), missing=missing)
    for name, value in values.items():
        if not _finite(value):
            raise InputError(_NOT_FINITE.format(what=f"input `{name}`"))
    return values


def _missing_message(declared: dict[str, Input], missing: list[dict[str, Any]]) -> str:
    names = "; ".join(
        f"missing required input `{item['name']}`{_kind(declared[item['name']])}"
        for item in missing
    )
    if len(missing) == 1:
        how = f"give it with --input {missing[0]['name']}=VALUE"
    else:
        how = "give them with --input NAME=VALUE"
    return f"{names}; {how} or a `default:` in the file"


def _typed(name: str, spec: Input, value: Any) -> Any:
    """The value as the declared type; text (from the CLI) is converted when it parses."""
    if isinstance(value, str) and spec.type not in ("string", None):
        value = _from_text(value)
    if value is None or spec.type is None or spec.accepts(value):
        return value
    raise InputError(
        f"input `{name}` must be {INPUT_TYPE_WORDS[spec.type]}, not {json.dumps(value)[:60]}"
    )


def _kind(spec: Input) -> str:
    return f" ({INPUT_TYPE_WORDS[spec.type]})" if spec.type is not None else ""


def _from_text(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


# --- trigger --------------------------------------------------------------------------------


def resolve_trigger(workflow: Workflow, given: dict[str, Any] | None) -> dict[str, Any]:
    """The request a run starts with: `given`, else `trigger.sample`, with defaults filled.

    Method: the request's, else the trigger's `method`, else POST when there is a body and
    GET otherwise. Header names are lower-cased.
    """
    declared = workflow.trigger
    if given is None:
        request = declared.sample.model_dump() if declared.sample is not None else {}
    elif isinstance(given, dict):
        request = given
    else:
        raise TriggerError(
            "the trigger must be a JSON object with method, path, headers, query, body"
        )
    unknown = [key for key in request if key not in _TRIGGER_KEYS]
    if unknown:
        raise TriggerError(
            f"unknown trigger key `{unknown[0]}`; a trigger has "
            + ", ".join(f"`{k}`" for k in _TRIGGER_KEYS)
        )
    body = request.get("body")
    for key, example in (("method", '"POST"'), ("path", '"/hook"')):
        if request.get(key) is not None and not isinstance(request[key], str):
            raise TriggerError(
                f"the trigger's `{key}` must be text such as {example}, "
                f"not {_json_kind(request[key])}"
            )
    method = request.get("method") or declared.method or ("POST" if body is not None else "GET")
    headers = request.get("headers") or {}
    query = request.get("query") or {}
    path = str(request.get("path") or declared.path or "/")
    params = request.get("params")
    if params is None:
        params = path_params(declared.path, path)
    if not all(isinstance(v, dict) for v in (headers, query, params)):
        raise TriggerError("the trigger's `headers`, `query` and `params` must be JSON objects")
    if not _finite(request):
        raise TriggerError(_NOT_FINITE.format(what="the trigger"))
    return {
        "method": str(method).upper(),
        "path": path,
        "headers": {str(k).lower(): _header_text(v) for k, v in headers.items()},
        "query": dict(query),
        "body": body,
        "params": dict(params),
    }


def path_pattern(template: str) -> re.Pattern[str]:
    """`/orders/{id}` → a pattern whose groups are the path parameters (no trailing `/`)."""
    parts: list[str] = []
    position = 0
    trimmed = template.rstrip("/") or "/"
    for found in _PATH_PARAM.finditer(trimmed):
        parts.append(re.escape(trimmed[position : found.start()]))
        parts.append(f"(?P<{found.group(1)}>[^/]+)")
        position = found.end()
    parts.append(re.escape(trimmed[position:]))
    return re.compile("".join(parts))


def path_params(template: str | None, path: str) -> dict[str, str]:
    """The parameters of `path` under `template`; empty when it does not match."""
    if not template or "{" not in template:
        return {}
    try:
        found = path_pattern(template).fullmatch(path.split("?", 1)[0].rstrip("/") or "/")
    except re.error:
        return {}
    return found.groupdict() if found is not None else {}


def _header_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


_NOT_FINITE = (
    "{what} holds a number that is not finite (Infinity or NaN, or too large for a float); "
    "JSON has no such number: give a finite number or text"
)


def _finite(value: Any) -> bool:
    """Whether `value` holds no Infinity/NaN anywhere (json.loads accepts them; JSON does not)."""
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_finite(v) for v in value.values())
    if isinstance(value, list):
        return all(_finite(v) for v in value)
    return True


_WITH_ARTICLE = {
    "boolean": "a boolean",
    "number": "a number",
    "object": "an object",
    "list": "a list",
    "null": "null",
}


def _json_kind(value: Any) -> str:
    """`a number`, `an object`...: the engine's JSON type name, as a message says it."""
    return _WITH_ARTICLE.get(type_name(value), "a value")
