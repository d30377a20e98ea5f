"""Fixtures the e2e tests share."""

from __future__ import annotations

import pytest

from tests.e2e.world import World, make_world


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    """A local index with primes-build and primes-runtime, and a venv with primes-build."""
    return make_world(tmp_path_factory.mktemp("world"))
