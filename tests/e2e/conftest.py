"""Fixtures the e2e tests share: the local index of primes wheels, and the ratelimiter example
(tools/asgi_example.py), each made once per pytest run whichever xdist worker asks first, and
a deployed tree of it for each test."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from primes_runtime.loading.bytecode import compile_dirs

from tests.e2e.world import World, once, shared_world
from tools.asgi_example import build, copy_example, deploy, fill_wheelhouse


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    """A local index with primes-build and primes-runtime, and a venv with primes-build."""
    return shared_world(tmp_path_factory)


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The locked wheels (uvicorn, starlette and theirs), downloaded once per run."""
    return once(tmp_path_factory, "wheelhouse", fill_wheelhouse)


@pytest.fixture(scope="session")
def ratelimiter_v1(tmp_path_factory: pytest.TempPathFactory, wheelhouse: Path) -> Path:
    """ratelimiter_1.tar.gz, built with python -m build."""

    def make(top: Path) -> None:
        build(copy_example(top / "src" / "ratelimiter"), top / "dist", wheelhouse)

    return once(tmp_path_factory, "ratelimiter-1", make) / "dist" / "ratelimiter_1.tar.gz"


@pytest.fixture(scope="session")
def ratelimiter_tree(tmp_path_factory: pytest.TempPathFactory, ratelimiter_v1: Path) -> Path:
    """Release 1 unpacked with tar, its bytecode written as the node's first start writes it
    (primes_runtime's compile_dirs, this interpreter): what each test's tree is a copy of.
    A fresh tree's first start compiles in a child for about 0.5 s of CPU; the tests here
    are about what comes after (the seed story and the fleet start fresh trees)."""

    def make(top: Path) -> None:
        deploy(ratelimiter_v1, top / "ratelimiter")
        compile_dirs([top / "ratelimiter" / "lib"])

    return once(tmp_path_factory, "ratelimiter-1-tree", make) / "ratelimiter"


@pytest.fixture
def deployed(tmp_path: Path, ratelimiter_tree: Path) -> Path:
    """Release 1 in a tree of the test's own (not started); its bin/ratelimiter."""
    root = tmp_path / "srv" / "ratelimiter"
    shutil.copytree(ratelimiter_tree, root, symlinks=True)
    return root / "bin" / "ratelimiter"
