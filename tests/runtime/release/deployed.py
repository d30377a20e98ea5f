"""A deployed tree with release 1 running in this test process and release 2 unpacked."""

from __future__ import annotations

import sys
from pathlib import Path

from primes_runtime.host import config
from primes_runtime.host.node import Node
from primes_runtime.kernel.context import current_node

from tests.runtime.release.servers import CODE_CHANGE_V2, counter
from tests.runtime.release.trees import App, mark_permanent, write_release


def tree_node(root: Path, release: str) -> Node:
    """The test's own node (the one its thread entered), as if booted from tree ``root``
    running ``release``: the processes the test started are that node's."""
    node = current_node()
    node.root, node.release = root, release
    node.config = config.load(root, release)
    return node


def deploy(tmp_path: Path, mod: str, script: str, *, v2: str | None = None) -> Node:
    """A tree with release 1 permanent and running (its code dir on sys.path) and 2 unpacked."""
    root = tmp_path / "node"
    write_release(root, "1", [App("counter", "1", {mod: counter(1)})])
    v2_source = v2 if v2 is not None else counter(2, code_change=CODE_CHANGE_V2)
    write_release(root, "2", [App("counter", "2", {mod: v2_source})], relups={"up_from_1": script})
    mark_permanent(root, "1")
    (root / "releases" / "RELEASES").write_text(
        '{"format": 1, "releases": [{"status": "permanent", "version": "1"},'
        ' {"status": "unpacked", "version": "2"}]}\n'
    )
    sys.path.insert(0, str(root / "lib" / "counter-1"))
    return tree_node(root, "1")
