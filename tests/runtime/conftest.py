"""Runtime tests: fixture callback modules on sys.path; processes a test leaves are killed."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from primes_runtime import application, process, registry

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))


@pytest.fixture(autouse=True)
def _kill_leftover_processes() -> Iterator[None]:
    before = {p.pid for p in registry.all_processes()}
    apps_before = {a.name for a in application.running()}
    yield
    for app in reversed(application.running()):
        if app.name not in apps_before:
            application.stop_app(app.name, timeout=5.0)
    for proc in reversed(registry.all_processes()):
        if proc.pid not in before:
            process.kill(proc.pid, "shutdown")
