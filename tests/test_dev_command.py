"""The README's first command, for real: `loans dev` starts PostgreSQL, Valkey, the worker and the API with demo
data, and a second start on the same data dir reuses it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from loans.embedded import free_port


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


def _start(data_dir: Path, port: int) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["LOANS_ADMIN_PASSWORD"] = "dev-command-test-secret"
    return subprocess.Popen(
        [sys.executable, "-m", "loans.cli", "dev", "--port", str(port), "--data-dir", str(data_dir)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _wait_healthy(base: str, process: subprocess.Popen, timeout: float = 120) -> dict:
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


def _stop(process: subprocess.Popen) -> str:
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=60)
    return output


def test_dev_runs_everything_with_demo_data_and_restarts_on_the_same_data(tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = _start(tmp_path / "data", port)
    try:
        health = _wait_healthy(base, process)
        assert (health["database"], health["redis"]) == ("ok", "ok") and "j_complete" in health["worker"]
        token = _token(base, "county", "jinguo-demo-2026")
        applications = _get(f"{base}/api/v1/applications?limit=1", token)
        statuses = {a["status"] for a in _get(f"{base}/api/v1/applications?limit=100", token)["items"]}
        assert applications["total"] >= 30 and {"draft", "disbursed", "declined", "withdrawn"} <= statuses
        assert _token(base, "admin", "dev-command-test-secret")
        with urllib.request.urlopen(f"{base}/", timeout=5) as response:
            sign_in = response.read().decode()
        assert '<html lang="zh-CN"' in sign_in and "登录" in sign_in
    finally:
        output = _stop(process)
    assert "/schema/swagger" in output and "jinguo-demo-2026" in output
    first = output.index(base)
    assert output[first + len(base) :].startswith("/ ")  # the web address comes first

    again = _start(tmp_path / "data", port)
    try:
        _wait_healthy(base, again)
        token = _token(base, "county", "jinguo-demo-2026")
        assert _get(f"{base}/api/v1/applications?limit=1", token)["total"] == applications["total"]
    finally:
        _stop(again)
