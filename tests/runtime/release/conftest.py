"""Release handler tests: a per-test module name and a clean import state afterwards."""

from __future__ import annotations

import itertools
import sys
from collections.abc import Iterator

import pytest
from primes_runtime.host.node import Node

_ids = itertools.count(1)


@pytest.fixture
def mod(node: Node) -> Iterator[str]:
    """A callback module name no other test uses (modules are cached process-wide), in a
    test with a node of its own (closed before the module is forgotten)."""
    name = f"rh_counter_{next(_ids)}"
    path_before = list(sys.path)
    yield name
    node.close(timeout=2.0)
    sys.path[:] = path_before
    for loaded in [m for m in sys.modules if m == name or m.startswith(name + "_")]:
        del sys.modules[loaded]
