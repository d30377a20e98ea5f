"""Fixtures for the build backend's tests: a copy of a small sample release per test."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.build_backend.helpers import copy_sample


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    """A copy of samples/minimal: release `sample` 1, apps alpha and beta, a stand-in runtime."""
    return copy_sample(tmp_path / "sample")
