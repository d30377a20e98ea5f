"""Fixtures every test root shares: a node of the test's own."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

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


_SHADOW = pytest.StashKey[Path]()


def pytest_configure(config: pytest.Config) -> None:
    """`python3` on the tests' PATH is an interpreter, not a version manager's shell script.

    A start script without PRIMES_PYTHON runs `python3` from PATH. On a machine with pyenv
    that is a shim: a chain of bash processes costing about 0.1 s of CPU per command, three
    times what the command itself takes, and the suite runs thousands of them. A directory
    whose `python3` is this interpreter's base goes first on PATH (worker processes inherit
    it); a `python3` that is no script is left alone.
    """
    found = shutil.which("python3")
    if found is None or not _is_script(Path(found)):
        return
    shadow = Path(tempfile.mkdtemp(prefix="primes-tests-python3-"))
    (shadow / "python3").symlink_to(os.path.realpath(sys._base_executable))  # type: ignore[attr-defined]
    os.environ["PATH"] = f"{shadow}{os.pathsep}{os.environ.get('PATH', '')}"
    config.stash[_SHADOW] = shadow


def pytest_unconfigure(config: pytest.Config) -> None:
    shadow = config.stash.get(_SHADOW, None)
    if shadow is not None:
        shutil.rmtree(shadow, ignore_errors=True)


def _is_script(path: Path) -> bool:
    try:
        with path.open("rb") as file:
            return file.read(2) == b"#!"
    except OSError:
        return False


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Files holding an e2e test run first, in collection order, the rest after them.

    `make test` hands whole files to its workers in this order (`--dist loadfile
    --no-loadscope-reorder`): the long e2e files start while the short ones are still to
    come, so the workers finish together instead of one waiting on a long file at the end.
    """
    heavy = {item.path for item in items if item.get_closest_marker("e2e") is not None}
    items.sort(key=lambda item: item.path not in heavy)
