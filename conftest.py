"""Fixtures every test root shares: a node of the test's own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from primes_runtime.node import Node


@pytest.fixture
def node() -> Iterator[Node]:
    """A fresh node, entered by the test's thread; closed (every process killed, its
    threads ended) afterwards."""
    fresh = Node(min_workers=2)
    with fresh.entered():
        yield fresh
    fresh.close(timeout=5.0)


@pytest.fixture
def default_node(node: Node) -> Node:
    """``node``, also made the default node of threads the app under test starts itself
    (as a booted node is); no longer the default once closed."""
    node.make_default()
    return node
