"""Fixtures the e2e tests share: the local index of primes wheels, and the ratelimiter example
built once per session (tools/asgi_example.py), and deployed."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.world import World, make_world
from tools.asgi_example import build, copy_example, deploy, fill_wheelhouse


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    """A local index with primes-build and primes-runtime, and a venv with primes-build."""
    return make_world(tmp_path_factory.mktemp("world"))


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The locked wheels (uvicorn, starlette and theirs), downloaded once per session."""
    return fill_wheelhouse(tmp_path_factory.mktemp("wheelhouse"))


@pytest.fixture(scope="session")
def ratelimiter_v1(tmp_path_factory: pytest.TempPathFactory, wheelhouse: Path) -> Path:
    """ratelimiter_1.tar.gz, built with python -m build."""
    src = copy_example(tmp_path_factory.mktemp("src1") / "ratelimiter")
    return build(src, tmp_path_factory.mktemp("dist1"), wheelhouse)


@pytest.fixture
def deployed(tmp_path: Path, ratelimiter_v1: Path) -> Path:
    """Release 1 unpacked into a fresh tree (not started); its bin/ratelimiter."""
    return deploy(ratelimiter_v1, tmp_path / "srv" / "ratelimiter")
