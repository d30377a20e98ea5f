"""A package whose library wheels this interpreter cannot load is refused (deps, issue 14)."""

from __future__ import annotations

import json
import platform
import sys
from pathlib import Path

import pytest
from packaging.tags import sys_tags
from primes_runtime.host.node import Node
from primes_runtime.release import handler, wheeltags
from primes_runtime.release.errors import ReleaseError

from tests.runtime.release.deployed import tree_node
from tests.runtime.release.trees import (
    App,
    mark_permanent,
    snapshot_tree,
    tar_tree,
    write_release,
    write_sums,
)

MAC_WHEEL = "fastlib-1.0-cp311-cp311-macosx_11_0_arm64.whl"


def test_node_tags_are_packaging_tags_on_this_cpython_linux() -> None:
    assert wheeltags.node_tags() == {str(tag) for tag in sys_tags()}


def test_pure_python_and_this_platforms_wheels_are_loadable() -> None:
    tags = wheeltags.node_tags()
    cp = f"cp{sys.version_info[0]}{sys.version_info[1]}"
    assert "py3-none-any" in tags
    assert f"{cp}-abi3-linux_{platform.machine()}" in tags
    assert f"{cp}-{cp}-macosx_11_0_arm64" not in tags


def package_with_library(work: Path, wheel: str, tags: list[str]) -> Path:
    tree = work / "pkgtree"
    write_release(tree, "2", [App("counter", "2", {"counter": "VSN = 2\n"})])
    mark_permanent(tree, "2")
    lib = tree / "lib" / "fastlib-1.0"
    lib.mkdir(parents=True)
    (lib / "fastlib.py").write_text("FAST = True\n")
    manifest_path = tree / "releases" / "2" / "release.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["libraries"] = [
        {"name": "fastlib", "version": "1.0", "path": "lib/fastlib-1.0", "wheel": wheel,
         "tags": tags, "requires": [], "used_by": ["counter"], "modules": {}, "extensions": {}}
    ]  # fmt: skip
    manifest_path.write_text(json.dumps(manifest))
    write_sums(tree, "2")
    return tar_tree(tree, work / "primenode_2.tar.gz")


@pytest.fixture
def deployed(node: Node, tmp_path: Path) -> Node:
    """The test's node, as if booted from a tree running release 1."""
    root = tmp_path / "node"
    write_release(root, "1", [App("counter", "1", {"counter": "VSN = 1\n"})])
    mark_permanent(root, "1")
    return tree_node(root, "1")


def test_a_wheel_for_another_platform_is_refused_at_unpack_and_the_tree_is_untouched(
    deployed: Node, tmp_path: Path
) -> None:
    package = package_with_library(tmp_path, MAC_WHEEL, ["cp311-cp311-macosx_11_0_arm64"])
    before = snapshot_tree(deployed.root)
    with pytest.raises(ReleaseError) as caught:
        handler.unpack(deployed, package)
    message = str(caught.value)
    assert f"refused, wheel {MAC_WHEEL} (cp311-cp311-macosx_11_0_arm64) cannot be loaded" in message
    assert f"the node's tags: {wheeltags.describe()}" in message
    assert "\n" not in message
    assert snapshot_tree(deployed.root) == before


def test_a_pure_python_library_wheel_is_unpacked(deployed: Node, tmp_path: Path) -> None:
    package = package_with_library(tmp_path, "fastlib-1.0-py3-none-any.whl", ["py3-none-any"])
    assert handler.unpack(deployed, package) == "2"
    assert (deployed.root / "lib" / "fastlib-1.0" / "fastlib.py").is_file()


def test_an_upgrade_to_a_package_with_a_foreign_wheel_is_refused_before_anything_changes(
    deployed: Node, tmp_path: Path
) -> None:
    package = package_with_library(tmp_path, MAC_WHEEL, ["cp311-cp311-macosx_11_0_arm64"])
    before = snapshot_tree(deployed.root)
    with pytest.raises(ReleaseError, match=f"refused, wheel {MAC_WHEEL} "):
        handler.upgrade(deployed, str(package))
    assert snapshot_tree(deployed.root) == before
