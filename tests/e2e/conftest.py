"""Fixtures the e2e tests share: the local index of primes wheels, and the ratelimiter example
(tests/e2e/example.py), each made once per pytest run whichever xdist worker asks first, and
a deployed tree of it for each test."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.e2e import example
from tests.e2e.world import World, shared_world


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    """A local index with primes-build and primes-runtime, and a venv with primes-build."""
    return shared_world(tmp_path_factory)


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The locked wheels (uvicorn, starlette and theirs)."""
    return example.wheelhouse(tmp_path_factory)


@pytest.fixture(scope="session")
def ratelimiter_v1(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """ratelimiter_1.tar.gz, built with python -m build."""
    return example.release_1(tmp_path_factory)


@pytest.fixture(scope="session")
def runtime_2(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """ratelimiter_2.tar.gz: release 1's apps on primes-runtime 2."""
    return example.runtime_2(tmp_path_factory)


@pytest.fixture
def deployed(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Release 1 in a tree of the test's own (not started), a copy of a warm one; its
    bin/ratelimiter."""
    root = tmp_path / "srv" / "ratelimiter"
    shutil.copytree(example.warm_tree(tmp_path_factory), root, symlinks=True)
    return root / "bin" / "ratelimiter"
