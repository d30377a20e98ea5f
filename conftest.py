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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Files holding an e2e test run first, in collection order, the rest after them.

    `make test` hands whole files to its workers in this order (`--dist loadfile
    --no-loadscope-reorder`): the long e2e files start while the short ones are still to
    come, so the workers finish together instead of one waiting on a long file at the end.
    """
    heavy = {item.path for item in items if item.get_closest_marker("e2e") is not None}
    items.sort(key=lambda item: item.path not in heavy)
