"""`loans dev`'s children: the API and the worker as processes of their own, the worker restarted when it exits,
both stopped (and then the servers, by the caller) on SIGTERM, SIGINT or SIGHUP."""

from __future__ import annotations

import ctypes
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
PR_SET_PDEATHSIG = 1
STOP_GRACE_SECONDS = 15
RESTART_BACKOFF_MAX_SECONDS = 30
STEADY_RUN_SECONDS = 60  # a worker that ran this long before exiting is restarted at once


def _die_with_parent() -> None:
    """In the child, before exec: Linux sends it SIGTERM when the supervisor dies, even by SIGKILL."""
    if sys.platform == "linux":
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


@contextmanager
def stop_requested() -> Iterator[threading.Event]:
    """An event set by the first stop signal; the default handlers come back afterwards."""
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda signum, _frame: stop.set()) for sig in STOP_SIGNALS}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@dataclass
class Child:
    name: str
    command: list[str]
    restart: bool
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    backoff: float = 1.0
    restart_at: float | None = None

    def start(self) -> None:
        # its own process group: a terminal's Ctrl-C reaches the supervisor only, which stops the children in order
        self.process = subprocess.Popen(self.command, process_group=0, preexec_fn=_die_with_parent)
        self.started_at, self.restart_at = time.monotonic(), None

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()

    def wait(self, deadline: float) -> None:
        if self.process is None:
            return
        try:
            self.process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@dataclass
class Supervisor:
    children: list[Child] = field(default_factory=list)
    log: Callable[[str], None] = print

    def run(self, stop: threading.Event) -> int:
        """Start every child and keep the restartable ones running until ``stop`` is set or a child that is not
        restarted exits (its exit code is returned); then stop them all."""
        for child in self.children:
            child.start()
        try:
            while not stop.wait(0.5):
                ended = self._look_after()
                if ended is not None:
                    return ended
            return 0
        finally:
            self.stop_all()

    def _look_after(self) -> int | None:
        now = time.monotonic()
        for child in self.children:
            if child.restart_at is not None:
                if now >= child.restart_at:
                    self.log(f"restarting the {child.name}")
                    child.start()
                continue
            code = child.process.poll() if child.process else None
            if code is None:
                continue
            if not child.restart:
                self.log(f"the {child.name} exited with code {code}; stopping")
                return code or 1
            ran = now - child.started_at
            child.backoff = (
                1.0 if ran > STEADY_RUN_SECONDS else min(child.backoff * 2, RESTART_BACKOFF_MAX_SECONDS)
            )
            child.restart_at = now + (0 if ran > STEADY_RUN_SECONDS else child.backoff)
            self.log(
                f"the {child.name} exited with code {code}; restarting in {child.restart_at - now:.0f} s"
            )
        return None

    def stop_all(self) -> None:
        for child in self.children:
            child.stop()
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for child in self.children:
            child.wait(deadline)
