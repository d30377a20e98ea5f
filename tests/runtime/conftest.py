"""Runtime tests: fixture callback modules on sys.path; a fresh node for each test that asks."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from primes_runtime.node import Node

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))


@pytest.fixture
def node() -> Iterator[Node]:
    """A node of its own, entered by the test's thread; closed (every process killed,
    its threads ended) afterwards."""
    fresh = Node(min_workers=2)
    with fresh.entered():
        yield fresh
    fresh.close(timeout=5.0)
