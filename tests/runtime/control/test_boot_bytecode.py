"""A node started on a tree fresh from its package compiles its code in the background."""

from __future__ import annotations

import time
from pathlib import Path

from tests.runtime.control.conftest import Script


def test_a_started_node_gets_bytecode_for_modules_it_has_not_imported_yet(
    running: Script,
) -> None:
    release = running.root / "lib" / "primes_runtime-1" / "primes_runtime" / "release"
    deadline = time.monotonic() + 60
    while not _compiled(release, "evaluator") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _compiled(release, "evaluator"), "the release handler was not compiled in the background"
    assert running.ok("ping") == "pong\n"


def _compiled(package: Path, module: str) -> bool:
    return any((package / "__pycache__").glob(f"{module}.*.pyc"))
