"""Figures of the `flowrun lsp` daemon (issue 6), each printed next to its target.

    .venv/bin/python benchmarks/lsp.py [--runs 1000] [--files 500] [--only huge ...]

* ready: spawn → `initialize` answered → first request served after `initialized`, against
  the import floor (`python -c "import flowrun.lsp.server, ..."`) measured in the same run;
* diagnostics of an edited 200-node file: publish time after the edit minus the debounce;
* first diagnostics of a 500-file workspace (from the `initialized` notification);
* a probe request (`flowrun/history`) answered while a 5 MB file is being edited (issue 12.6);
* `flowrun/execute` → `execution_started` event;
* daemon RSS after 100 and after N runs (no leak).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from lsprotocol import types

from lsp.harness import Session, start_session

DEBOUNCE = 0.15
TINY = "version: 1\nnodes:\n  - id: one\n    type: transform\n    with:\n      value: 1\n"


def import_floor() -> float:
    """Seconds to start Python and import what the server imports (best of 3)."""
    code = "import flowrun.lsp.server, flowrun.validate, flowrun.runs.service, watchfiles"
    times = []
    for _ in range(3):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        times.append(time.perf_counter() - start)
    return min(times)


def big_workflow(nodes: int) -> str:
    lines = ["version: 1", "nodes:"]
    for i in range(nodes):
        lines += [f"  - id: n{i}", "    type: transform"]
        if i:
            lines.append(f"    needs: [n{i - 1}]")
        lines += ["    with:", f"      value: ${{{{ nodes.n{max(i - 1, 0)}.output }}}}"]
    return "\n".join(lines) + "\n"


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def ready_time(root: Path) -> tuple[float, float]:
    start = time.perf_counter()
    session = await start_session(root)
    answered = time.perf_counter() - start
    await session.request("flowrun/history", {"limit": 1})
    served = time.perf_counter() - start
    await session.stop()
    return answered, served


async def edit_latency(root: Path, rounds: int = 7) -> list[float]:
    text = big_workflow(200)
    (root / "big.workflow.yml").write_text(text)
    session = await start_session(root)
    try:
        await session.wait_diagnostics("big.workflow.yml")
        session.open("big.workflow.yml", text)
        latencies = []
        for version in range(2, 2 + rounds):
            broken = text if version % 2 else text.replace("needs: [n99]", "needs: [n99x]")
            mark = session.diagnostics.mark()
            start = time.perf_counter()
            session.replace("big.workflow.yml", broken, version)
            await session.wait_diagnostics("big.workflow.yml", since=mark)
            latencies.append(time.perf_counter() - start - DEBOUNCE)
        return latencies
    finally:
        await session.stop()


async def probe_while_editing(root: Path, keystrokes: int = 20) -> list[float]:
    """Latency of `flowrun/history` right after each keystroke in an open 5 MB file."""
    text = big_workflow(50_000)
    session = await start_session(root)
    try:
        await session.request("flowrun/history", {"limit": 1})  # services started
        session.open("huge.workflow.yml", text)
        uri = session.uri("huge.workflow.yml")
        latencies = []
        for version in range(2, 2 + keystrokes):
            at = types.Position(line=version, character=0)
            session.client.text_document_did_change(
                types.DidChangeTextDocumentParams(
                    text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                    content_changes=[
                        types.TextDocumentContentChangePartial(
                            range=types.Range(start=at, end=at), text=" "
                        )
                    ],
                )
            )
            start = time.perf_counter()
            await session.request("flowrun/history", {"limit": 1})
            latencies.append(time.perf_counter() - start)
            await asyncio.sleep(0.2)  # typing speed: the debounced validation starts between
        return latencies
    finally:
        await session.stop()


async def workspace_scan(root: Path, files: int) -> float:
    body = big_workflow(10)
    for i in range(files):
        (root / f"dir{i % 20}").mkdir(exist_ok=True)
        (root / f"dir{i % 20}" / f"w{i}.workflow.yml").write_text(body)
    start = time.perf_counter()
    session = await start_session(root)
    try:
        seen: set[str] = set()
        await session.diagnostics.wait_for(
            lambda p: seen.add(p.uri) or len(seen) >= files, timeout=120
        )
        return time.perf_counter() - start
    finally:
        await session.stop()


async def run_once(session: Session, uri: str) -> float:
    start = time.perf_counter()
    execution_id = (await session.request("flowrun/execute", {"uri": uri}))["executionId"]
    await session.events.wait_for(
        lambda p: p["executionId"] == execution_id and p["event"]["event"] == "execution_started"
    )
    started = time.perf_counter() - start
    await session.events_of(execution_id)
    return started


async def runs(root: Path, count: int) -> tuple[list[float], dict[int, float]]:
    (root / "tiny.workflow.yml").write_text(TINY)
    session = await start_session(root, settings={"python": sys.executable})
    rss: dict[int, float] = {}
    try:
        uri = session.uri("tiny.workflow.yml")
        started = []
        rss[0] = rss_mb(session.pid)
        for i in range(1, count + 1):
            started.append(await run_once(session, uri))
            session.events.items.clear()  # the client's memory, not the daemon's
            if i in (100, count):
                rss[i] = rss_mb(session.pid)
        return started, rss
    finally:
        await session.stop()


def line(name: str, value: str, target: str, ok: bool) -> None:
    print(f"{name:<52} {value:>22}   target {target:<12} {'ok' if ok else 'MISSED'}")


async def ready_section(base: Path, args: argparse.Namespace) -> None:
    floor = import_floor()
    answered, served = await ready_time(base)
    beyond = served - floor
    print(f"import floor (python + server imports): {floor * 1000:.0f} ms")
    line(
        "ready: initialize answered / first request served",
        f"{answered * 1000:.0f} / {served * 1000:.0f} ms",
        "",
        True,
    )
    line("ready beyond the import floor", f"{beyond * 1000:.0f} ms", "< 300 ms", beyond < 0.3)


async def edit_section(base: Path, args: argparse.Namespace) -> None:
    median = statistics.median(await edit_latency(base))
    line(
        "200-node file: diagnostics after the debounce (median)",
        f"{median * 1000:.0f} ms",
        "< 50 ms",
        median < 0.05,
    )


async def huge_section(base: Path, args: argparse.Namespace) -> None:
    probes = await probe_while_editing(base)
    worst = max(probes)
    line(
        "5 MB file being edited: flowrun/history (median / max)",
        f"{statistics.median(probes) * 1000:.0f} / {worst * 1000:.0f} ms",
        "< 200 ms",
        worst < 0.2,
    )


async def scan_section(base: Path, args: argparse.Namespace) -> None:
    scan = await workspace_scan(base, args.files)
    line(f"first diagnostics of {args.files} files", f"{scan:.2f} s", "< 3 s", scan < 3)


async def runs_section(base: Path, args: argparse.Namespace) -> None:
    started, rss = await runs(base, args.runs)
    first = statistics.median(started)
    line("execute → execution_started (median)", f"{first * 1000:.0f} ms", "< 150 ms", first < 0.15)
    for count, mb in rss.items():
        line(f"daemon RSS after {count} runs", f"{mb:.1f} MB", "< 100 MB", mb < 100)


SECTIONS = {
    "ready": ready_section,
    "edit": edit_section,
    "huge": huge_section,
    "scan": scan_section,
    "runs": runs_section,
}


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.only or list(SECTIONS):
            (Path(tmp) / name).mkdir()
            await SECTIONS[name](Path(tmp) / name, args)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=1000, help="at least 1")
    parser.add_argument("--files", type=int, default=500)
    parser.add_argument("--only", action="append", choices=list(SECTIONS), help="repeatable")
    arguments = parser.parse_args()
    arguments.runs = max(arguments.runs, 1)
    asyncio.run(main(arguments))
