"""Real PostgreSQL and Redis servers for the tests: Debian's packages (installed by
`scripts/services-setup.sh`), started in temp folders on free ports, stopped by pid.

PostgreSQL's `initdb` refuses root: as root (CI), the cluster runs as the system user
`postgres` in a folder it owns; otherwise as the current user.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if found:
        return found[-1]
    return shutil.which(name) or name


def _as_owner(argv: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


@dataclass
class Postgres:
    folder: Path
    port: int
    user: str = "flowrun"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """A fresh, empty database: its URL."""
        import psycopg

        name = f"t_{uuid.uuid4().hex[:16]}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    @property
    def pid(self) -> int | None:
        pidfile = self.folder / "data" / "postmaster.pid"
        with contextlib.suppress(OSError, ValueError):
            return int(pidfile.read_text().split()[0])
        return None

    def start(self) -> None:
        log = self.folder / "log"
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        subprocess.run(
            _as_owner([_pg_bin("pg_ctl"), "-D", str(self.folder / "data"), "-l", str(log),
                       "-o", options, "-w", "-t", "60", "start"]),
            check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip

    def stop(self) -> None:
        """SIGINT to the postmaster (a fast shutdown), then wait for it to be gone."""
        pid = self.pid
        if pid is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGINT)
        _wait_gone(pid)


def start_postgres(folder: Path) -> Postgres:
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    server = Postgres(folder, free_port())
    subprocess.run(
        _as_owner([_pg_bin("initdb"), "-D", str(folder / "data"), "-A", "trust",
                   "-U", server.user, "--no-sync"]),
        check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    server.start()
    return server


@contextlib.contextmanager
def postgres_server(folder: Path) -> Iterator[Postgres]:
    server = start_postgres(folder)
    try:
        yield server
    finally:
        server.stop()


@dataclass
class Redis:
    folder: Path
    port: int
    password: str | None = None
    persistent: bool = False  # an append-only file in `folder`: a restart keeps the queue
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    def start(self) -> None:
        auth = ["--requirepass", self.password] if self.password else []
        appendonly = "yes" if self.persistent else "no"
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", appendonly, "--dir", str(self.folder), "--daemonize", "no", *auth],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        hello = f"AUTH {self.password}\r\nPING\r\n" if self.password else "PING\r\n"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock,
            ):
                sock.sendall(hello.encode())
                answer = b""
                while b"\r\n" not in answer or (self.password and answer.count(b"\r\n") < 2):
                    answer += sock.recv(64) or b"\r\n\r\n"
                if b"+PONG" in answer:
                    return
            time.sleep(0.1)
        raise RuntimeError("redis-server did not answer PING")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None


@contextlib.contextmanager
def redis_server(
    folder: Path, password: str | None = None, persistent: bool = False
) -> Iterator[Redis]:
    folder.mkdir(parents=True, exist_ok=True)
    server = Redis(folder, free_port(), password, persistent)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _wait_gone(pid: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
