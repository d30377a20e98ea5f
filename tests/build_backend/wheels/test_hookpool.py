"""Tests of the hook workers (primes_build.wheels.hookpool, hookworker) with small fake backends."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from primes_build.wheels.hookpool import HookFailed, WorkerPool

NOISY_BACKEND = """
import os, subprocess, sys
print("imported, on stdout")


def get_requires_for_build_wheel(config_settings=None):
    print("asked, on stdout")
    print("asked, on stderr", file=sys.stderr)
    # a process the backend starts inherits no protocol pipe: its stdin is empty
    child = subprocess.run([sys.executable, "-c", "import sys; print(repr(sys.stdin.read()))"],
                           capture_output=True, text=True)
    return ["cwd=" + os.path.basename(os.getcwd()), "child-read=" + child.stdout.strip()]


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    raise RuntimeError("no wheel today")
"""


def fake_backend(tmp_path: Path, text: str) -> tuple[str, tuple[str, ...]]:
    """A backend module `fake_backend` in its own backend-path directory."""
    where = tmp_path / "backend"
    where.mkdir()
    (where / "fake_backend.py").write_text(text)
    return ("fake_backend", (str(where),))


def test_a_worker_runs_hooks_in_the_project_directory_and_keeps_their_output_in_the_log(
    tmp_path: Path,
) -> None:
    key = fake_backend(tmp_path, NOISY_BACKEND)
    project = tmp_path / "proj"
    project.mkdir()
    log = tmp_path / "log"
    with WorkerPool() as pool:
        worker = pool.acquire(key)
        first = worker.call("get_requires_for_build_wheel", project, [{}], log)
        second = worker.call("get_requires_for_build_wheel", project, [{}], log)
        pid = worker.process.pid
    assert first == second == ["cwd=proj", "child-read=''"]
    assert log.read_text().count("asked, on stdout\nasked, on stderr\n") == 2
    assert "imported" not in log.read_text()  # printed before any request: discarded
    assert pid != os.getpid()


def test_a_hook_that_raises_is_a_hook_failure_and_its_traceback_is_in_the_log(
    tmp_path: Path,
) -> None:
    key = fake_backend(tmp_path, NOISY_BACKEND)
    log = tmp_path / "log"
    with WorkerPool() as pool:
        worker = pool.acquire(key)
        with pytest.raises(HookFailed) as caught:
            worker.call("build_wheel", tmp_path, [str(tmp_path / "out"), {}, None], log)
        assert caught.value.kind == "hook"
        assert str(caught.value) == "RuntimeError: no wheel today"
        # the worker lives on for the next project
        assert worker.call("get_requires_for_build_wheel", tmp_path, [{}], log)[0] == (
            f"cwd={tmp_path.name}"
        )
    assert "Traceback" in log.read_text() and "no wheel today" in log.read_text()


def test_a_missing_optional_hook_and_a_backend_that_cannot_be_imported_say_so(
    tmp_path: Path,
) -> None:
    key = fake_backend(tmp_path, "def build_wheel(d, c=None, m=None):\n    return 'x.whl'\n")
    log = tmp_path / "log"
    with WorkerPool() as pool:
        with pytest.raises(HookFailed) as missing:
            pool.acquire(key).call("get_requires_for_build_wheel", tmp_path, [{}], log)
        assert missing.value.kind == "missing"
        with pytest.raises(HookFailed) as broken:
            pool.acquire(("no_such_backend_module", ())).call(
                "build_wheel", tmp_path, [str(tmp_path), {}, None], log
            )
        assert broken.value.kind == "backend"
        assert "ModuleNotFoundError" in str(broken.value)
    assert "No module named 'no_such_backend_module'" in log.read_text()


def test_a_worker_given_back_is_reused_for_the_same_backend_only(tmp_path: Path) -> None:
    key = fake_backend(tmp_path, NOISY_BACKEND)
    with WorkerPool() as pool:
        worker = pool.acquire(key)
        pool.release(worker)
        assert pool.acquire(key) is worker
        other = pool.acquire(("another_backend", ()))
        assert other is not worker and pool.started == 2


ENTRY_POINT_BACKEND = """
from importlib import metadata


def get_requires_for_build_wheel(config_settings=None):
    first, second = metadata.entry_points(), metadata.entry_points()
    found = metadata.entry_points(group="primes.test")
    return [first is second, sorted(e.name for e in found)]
"""


def test_entry_points_are_read_once_per_hook_call_and_afresh_at_the_next(tmp_path: Path) -> None:
    key = fake_backend(tmp_path, ENTRY_POINT_BACKEND)
    log = tmp_path / "log"
    with WorkerPool() as pool:
        worker = pool.acquire(key)
        assert worker.call("get_requires_for_build_wheel", tmp_path, [{}], log) == [True, []]
        # a distribution appears between two calls (on the worker's path: the backend-path)
        info = Path(key[1][0]) / "plugin-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text("Metadata-Version: 2.1\nName: plugin\nVersion: 1.0\n")
        (info / "entry_points.txt").write_text("[primes.test]\nhello = plugin:hello\n")
        assert worker.call("get_requires_for_build_wheel", tmp_path, [{}], log) == [
            True,
            ["hello"],
        ]
