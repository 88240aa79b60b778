"""`flowrun init [DIR]`: start using Flowrun in a project: a starter workflow, `.gitignore`
entries for the history and `.env`, and an `.env.example` listing the declared secrets.
Existing files are kept (a `.gitignore` only gains the entries it lacks)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from flowrun.cli.command import add_command, add_dir
from flowrun.cli.starter import ENV_EXAMPLE_HEADER, GITIGNORE_ENTRIES, STARTER, STARTER_NAME


def register(subparsers: Any) -> None:
    parser = add_command(subparsers, "init", init_command)
    add_dir(parser)


def init_command(args: argparse.Namespace) -> int:
    """Set up a folder for Flowrun: a starter workflow, .gitignore, .env.example.

    Write a commented starter workflow (hello.workflow.yml), add `.flowrun/` and `.env` to
    .gitignore, and write .env.example listing the secrets your workflows declare. Existing
    files are never overwritten."""
    folder: Path = args.dir
    if folder.exists() and not folder.is_dir():
        print(f"flowrun init: {folder} is not a folder", file=sys.stderr)
        return 2
    folder.mkdir(parents=True, exist_ok=True)
    notes = [
        _write_new(folder / STARTER_NAME, STARTER),
        _gitignore(folder / ".gitignore"),
        _write_new(folder / ".env.example", env_example(declared_secrets(folder))),
    ]
    for note in notes:
        print(note)
    print(f"\nNext: flowrun run {folder / STARTER_NAME}")
    return 0


def _write_new(path: Path, text: str) -> str:
    if path.exists():
        return f"kept     {path} (it exists)"
    path.write_text(text, encoding="utf-8")
    return f"wrote    {path}"


def _gitignore(path: Path) -> str:
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    present = {line.strip() for line in text.splitlines()}
    missing = [e for e in GITIGNORE_ENTRIES if e not in present and e.rstrip("/") not in present]
    if not missing:
        return f"kept     {path} (it ignores {', '.join(GITIGNORE_ENTRIES)})"
    prefix = "" if not text or text.endswith("\n") else "\n"
    block = "# Flowrun: the execution history, and secrets\n" + "\n".join(missing) + "\n"
    with path.open("a", encoding="utf-8") as handle:
        handle.write(prefix + ("\n" if text.strip() else "") + block)
    return f"{'updated' if text else 'wrote':8} {path} (+ {', '.join(missing)})"


def declared_secrets(folder: Path) -> list[str]:
    """The `secrets:` of the workflow files in `folder` (not below), in order, once each."""
    from flowrun.spec.loader import load_yaml

    names: list[str] = []
    for path in sorted(folder.glob("*.workflow.y*ml")):
        try:
            data = load_yaml(path.read_text(encoding="utf-8")).data
        except (OSError, UnicodeDecodeError):
            continue
        secrets = data.get("secrets") if isinstance(data, dict) else None
        for name in secrets if isinstance(secrets, list) else []:
            if isinstance(name, str) and name not in names:
                names.append(name)
    return names


def env_example(secrets: list[str]) -> str:
    lines = [f"{name}=" for name in secrets] or ["# MY_API_TOKEN="]
    return ENV_EXAMPLE_HEADER + "\n".join(lines) + "\n"
