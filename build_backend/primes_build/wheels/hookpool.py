"""Long-lived PEP 517 hook workers (wheels/hookworker.py), one per backend, shared by apps."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from types import TracebackType
from typing import Any

from primes_build.errors import BuildError

WORKER = Path(__file__).with_name("hookworker.py")
# Set by an outer PEP 517 frontend for our own backend; a nested hook call must not inherit them.
_HOOK_ENV_PREFIXES = ("_PYPROJECT_HOOKS_", "PEP517_")

BackendKey = tuple[str, tuple[str, ...]]
"""A backend (`module:object`) and its absolute backend-path entries."""


class HookFailed(BuildError):
    """A hook raised, its backend could not be imported, or its worker died; `kind` says which."""

    def __init__(self, kind: str, error: str) -> None:
        self.kind = kind
        super().__init__(error)


class Worker:
    """One interpreter serving one backend's hooks, one request at a time."""

    def __init__(self, key: BackendKey) -> None:
        self.key = key
        env = {k: v for k, v in os.environ.items() if not k.startswith(_HOOK_ENV_PREFIXES)}
        self.process = subprocess.Popen(
            [sys.executable, "-P", str(WORKER), key[0], *key[1]],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            text=True,
            encoding="utf-8",
        )

    def call(self, hook: str, cwd: Path, args: list[Any], log: Path) -> Any:
        """Run `hook(*args)` in `cwd`, the backend's output appended to `log`; its return value."""
        request = {"hook": hook, "cwd": str(cwd), "args": args, "log": str(log)}
        assert self.process.stdin is not None and self.process.stdout is not None
        try:
            self.process.stdin.write(json.dumps(request) + "\n")
            self.process.stdin.flush()
            line = self.process.stdout.readline()
        except OSError:
            line = ""
        if not line:
            code = self.process.wait()
            raise HookFailed("died", f"the hook worker exited with status {code}")
        reply = json.loads(line)
        if not reply["ok"]:
            raise HookFailed(str(reply["kind"]), str(reply["error"]))
        return reply["value"]

    def end_input(self) -> None:
        """Close the worker's stdin: it exits after the request it is serving."""
        if self.process.stdin is not None:
            with contextlib.suppress(OSError):
                self.process.stdin.close()

    def wait(self) -> None:
        """Wait for the worker to exit (after end_input)."""
        self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


class WorkerPool:
    """Idle workers by backend: a project takes one (or starts one) and gives it back."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: dict[BackendKey, list[Worker]] = {}
        self._all: list[Worker] = []
        self.started = 0

    def prestart(self, key: BackendKey) -> None:
        """Start a worker for this backend now (it imports the backend), idle until taken."""
        self.release(self.acquire(key))

    def acquire(self, key: BackendKey) -> Worker:
        """An idle worker for this backend, or a new one."""
        with self._lock:
            idle = self._idle.get(key)
            if idle:
                return idle.pop()
            self.started += 1
        worker = Worker(key)
        with self._lock:
            self._all.append(worker)
        return worker

    def release(self, worker: Worker) -> None:
        """Give a worker back; a dead one is dropped."""
        if worker.process.poll() is not None:
            return
        with self._lock:
            self._idle.setdefault(worker.key, []).append(worker)

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        with self._lock:
            workers, self._all, self._idle = self._all, [], {}
        for worker in workers:
            worker.end_input()
        for worker in workers:
            worker.wait()
