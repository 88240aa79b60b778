"""Where the history lives: the one function the CLI and the language server both ask.

Default: `<root>/.flowrun/history.sqlite3`, root being the nearest folder from `start` up that
holds `.flowrun` or `.git` (`start` itself when there is none). An explicit location (`--db`,
`flowrun.historyPath`) wins; a relative one is taken from `start`.

A PostgreSQL history is a URL, `postgresql://user@host:port/db` (or `postgres://`): given as
`--db` or `flowrun.historyUrl`, it is returned as it is (a `str`); `redact` is how it is shown.

Symbolic links (decided for issue 12.12): a link to a file or folder that does not exist is
refused (SQLite would create a database wherever it points, outside the workspace); a
`.flowrun` folder that is a link to an existing folder is used, with a notice naming where the
history really is, so it is never written elsewhere silently.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from flowrun.runs.errors import FlowrunError

DB_DIR = ".flowrun"
DB_NAME = "history.sqlite3"
URL_SCHEMES = ("postgresql://", "postgres://")
Location = Path | str
"""A history file, or a PostgreSQL URL (`str`)."""


class HistoryError(FlowrunError):
    type_name = "HistoryError"


class HistoryUnreachable(HistoryError):
    """The history's server cannot be reached (now: it may come back)."""


def is_url(location: object) -> bool:
    return isinstance(location, str) and location.startswith(URL_SCHEMES)


def redact(url: str) -> str:
    """The URL with its password (if any) replaced by `***`: the only form shown anywhere."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))


def scrub(text: str, url: str) -> str:
    """`text` (a driver's message) without the URL's password, should it quote it."""
    password = urlsplit(url).password
    if not password:
        return text
    return re.sub(re.escape(password), "***", text.replace(url, redact(url)))


def history_location(start: Path | None = None, explicit: str | Path | None = None) -> Location:
    """The history file for a workspace folder or a workflow file `start` (default: cwd), or
    the explicit PostgreSQL URL."""
    if is_url(explicit):
        return str(explicit)
    base = Path.cwd() if start is None else Path(start).expanduser()
    base = base.absolute()
    if base.is_file():
        base = base.parent
    if explicit is not None and str(explicit) != "":
        path = Path(explicit).expanduser()
        return path if path.is_absolute() else base / path
    for folder in (base, *base.parents):
        marker = folder / DB_DIR
        if marker.is_dir() or marker.is_symlink() or (folder / ".git").exists():
            return folder / DB_DIR / DB_NAME
    return base / DB_DIR / DB_NAME


def check_links(path: Path) -> list[str]:
    """Refuse a dangling link on the way to the history file; notices for followed links."""
    notices: list[str] = []
    for link in (path.parent, path):
        if not link.is_symlink():
            continue
        target = Path(os.readlink(link))
        if not link.exists():
            raise HistoryError(
                f"The history {'folder' if link == path.parent else 'file'} {link} is a "
                f"symbolic link to {target}, which does not exist; flowrun does not create a "
                "history through a broken link.",
                suggestion="Remove the link (flowrun then creates the history in place), make "
                "its target exist, or pass --db with another path.",
            )
        if link == path.parent:
            notices.append(
                f"{link} is a symbolic link: the history is written to {link.resolve()}."
            )
    return notices
