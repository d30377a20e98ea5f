"""What a pytest run makes once and shares among its xdist workers (a package build, a venv):
the first test that asks makes it under a lock, the others wait for it and use it."""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def run_dir(factory: pytest.TempPathFactory) -> Path:
    """A directory the whole pytest run shares: the parent of the xdist workers' own base
    temp dirs, or the base temp dir without xdist."""
    base = factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def once(factory: pytest.TempPathFactory, name: str, make: Callable[[Path], object]) -> Path:
    """run_dir/name, filled by `make` the first time a test of this run asks (under a lock,
    so that the workers that ask meanwhile wait for it); a `make` that failed is redone."""
    shared = run_dir(factory)
    target = shared / name
    done = shared / f"{name}.done"
    with _locked(shared / f"{name}.lock"):
        if not done.exists():
            shutil.rmtree(target, ignore_errors=True)
            target.mkdir()
            make(target)
            done.touch()
    return target


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
