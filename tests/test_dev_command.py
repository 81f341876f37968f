"""The README's first command, for real: `loans dev` starts PostgreSQL, Valkey, the worker and the API with demo
data, a second start on the same data dir reuses it, a worker that dies is started again, and SIGTERM, SIGINT or
SIGHUP leaves no process behind."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from loans.embedded import free_port


@pytest.fixture
def data_dir() -> Iterator[Path]:
    """Outside pytest's own temporary folders, which a parallel pytest session closes (mode 700) or removes."""
    root = Path(tempfile.mkdtemp(prefix="jinguo-dev-"))
    yield root / "data"
    shutil.rmtree(root, ignore_errors=True)


def _get(url: str, token: str | None = None) -> dict:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.load(response)


def _token(base: str, username: str, password: str) -> str:
    request = urllib.request.Request(
        f"{base}/api/v1/auth/token",
        method="POST",
        data=json.dumps({"username": username, "password": password}).encode(),
        headers={"content-type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.load(response)["access_token"]


def _start(data_dir: Path, port: int, *options: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["LOANS_ADMIN_PASSWORD"] = "dev-command-test-secret"
    env["LOANS_WORKER_HEARTBEAT_SECONDS"] = "1"
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "loans.cli",
            "dev",
            "--port",
            str(port),
            "--data-dir",
            str(data_dir),
            *options,
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _wait_healthy(base: str, process: subprocess.Popen, timeout: float = 300) -> dict:
    """Generous: on a loaded machine the worker's imports alone took 50 s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stdout.read()
        try:
            health = _get(f"{base}/health")
            if health["status"] == "ok":
                return health
        except OSError:
            pass
        time.sleep(0.5)
    raise AssertionError("the service did not become healthy")


def _children(pid: int) -> dict[int, str]:
    """Every process descended from ``pid``, with its command line."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    found, frontier = {}, [pid]
    while frontier:
        parent = frontier.pop()
        for child, its_parent in parents.items():
            if its_parent == parent and child not in found:
                found[child] = _command_line(child)
                frontier.append(child)
    return found


def _command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _stop(process: subprocess.Popen, data_dir: Path, signum: int = signal.SIGINT) -> str:
    """Stop `loans dev` with ``signum``; every process it started (PostgreSQL runs detached) must be gone."""
    postmaster = int((data_dir / "postgres" / "postmaster.pid").read_text().split()[0])
    started = {**_children(process.pid), postmaster: "postgres"}
    for part in ("loans.cli worker", "loans.cli serve", "valkey"):
        assert any(part in cmd for cmd in started.values()), (part, started)
    process.send_signal(signum)
    output, _ = process.communicate(timeout=60)
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in started) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not {pid: cmd for pid, cmd in started.items() if _alive(pid)}, output
    return output


def _worker_pid(process: subprocess.Popen) -> int | None:
    return next(
        (pid for pid, cmd in _children(process.pid).items() if cmd.endswith("loans.cli worker ")), None
    )


def test_dev_runs_everything_with_demo_data_and_restarts_on_the_same_data(data_dir):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = _start(data_dir, port)
    try:
        health = _wait_healthy(base, process)
        assert (health["database"], health["redis"], health["worker"]) == ("ok", "ok", "ok")
        token = _token(base, "county", "jinguo-demo-2026")
        applications = _get(f"{base}/api/v1/applications?limit=1", token)
        statuses = {a["status"] for a in _get(f"{base}/api/v1/applications?limit=100", token)["items"]}
        assert applications["total"] >= 30 and {"draft", "disbursed", "declined", "withdrawn"} <= statuses
        assert _token(base, "admin", "dev-command-test-secret")
        with urllib.request.urlopen(f"{base}/", timeout=5) as response:
            sign_in = response.read().decode()
        assert '<html lang="zh-CN"' in sign_in and "登录" in sign_in
    finally:
        output = _stop(process, data_dir, signal.SIGINT)
    assert "/schema/swagger" in output and "jinguo-demo-2026" in output
    first = output.index(base)
    assert output[first + len(base) :].startswith("/ ")  # the web address comes first

    again = _start(data_dir, port)
    try:
        _wait_healthy(base, again)
        token = _token(base, "county", "jinguo-demo-2026")
        assert _get(f"{base}/api/v1/applications?limit=1", token)["total"] == applications["total"]
        first_worker = _worker_pid(again)
        assert first_worker is not None
        os.kill(first_worker, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while _worker_pid(again) in (None, first_worker) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _worker_pid(again) not in (None, first_worker), "the worker was not started again"
    finally:
        output = _stop(again, data_dir, signal.SIGTERM)
    assert "the worker exited with code -9; restarting" in output

    third = _start(data_dir, port)
    try:
        _wait_healthy(base, third)
    finally:
        _stop(third, data_dir, signal.SIGHUP)
