"""Tests for primes_runtime.release.package: verify a package, unpack only new directories."""

from __future__ import annotations

import gzip
import io
import tarfile
from pathlib import Path

import pytest
from primes_runtime.release import package
from primes_runtime.release.errors import ReleaseError

from tests.runtime.release.trees import (
    App,
    make_package,
    mark_permanent,
    snapshot_tree,
    tar_tree,
    write_release,
    write_sums,
)

pytestmark = pytest.mark.usefixtures("node")

V1 = [App("counter", "1", {"counter": "VSN = 1\n"})]
V2 = [App("counter", "2", {"counter": "VSN = 2\n"}), App("extra", "1", {"extra": "X = 1\n"})]


@pytest.fixture
def deployed(tmp_path: Path) -> Path:
    root = tmp_path / "node"
    write_release(root, "1", V1)
    mark_permanent(root, "1")
    return root


def _pkgtree(tmp_path: Path) -> Path:
    tree = tmp_path / "t"
    write_release(tree, "2", V2, relups={"up_from_1": "point_of_no_return\n"})
    mark_permanent(tree, "2")
    return tree


def test_a_good_package_verifies(tmp_path: Path, deployed: Path) -> None:
    with package.staged(make_package(tmp_path, "2", V2), deployed) as pkg:
        assert (pkg.name, pkg.version) == ("primenode", "2")
        assert "lib/counter-2/counter.py" in pkg.hashes
        assert pkg.staging.parent == deployed / "releases"
    assert not pkg.staging.exists()


def test_extract_adds_only_the_release_dir_and_missing_lib_dirs(
    tmp_path: Path, deployed: Path
) -> None:
    before = snapshot_tree(deployed)
    with package.staged(make_package(tmp_path, "2", V2), deployed) as pkg:
        added = package.extract(pkg, deployed)
    assert added == ["releases/2", "lib/counter-2", "lib/extra-1"]
    after = snapshot_tree(deployed)
    assert {k: v for k, v in after.items() if k in before} == before
    assert (deployed / "lib/counter-2/counter.py").read_text() == "VSN = 2\n"
    assert not (deployed / "bin").exists()  # bin/ is never taken from a package
    assert not [p for p in (deployed / "releases").iterdir() if p.name.startswith(".")]


def test_an_existing_equal_lib_dir_is_kept_not_rewritten(tmp_path: Path, deployed: Path) -> None:
    runtime_file = deployed / "lib/primes_runtime-1/primes_runtime/__init__.py"
    inode = runtime_file.stat().st_ino
    with package.staged(make_package(tmp_path, "2", V2), deployed) as pkg:
        package.extract(pkg, deployed)
    assert runtime_file.stat().st_ino == inode


def _refused(pkg_path: Path, deployed: Path, match: str) -> None:
    before = snapshot_tree(deployed)
    with (
        pytest.raises(ReleaseError, match=match) as info,
        package.staged(pkg_path, deployed) as pkg,
    ):
        package.extract(pkg, deployed)
    assert "\n" not in str(info.value)
    assert snapshot_tree(deployed) == before
    assert not [p for p in (deployed / "releases").iterdir() if p.name.startswith(".")]


def test_a_tampered_file_is_refused_and_the_tree_is_unchanged(
    tmp_path: Path, deployed: Path
) -> None:
    tree = _pkgtree(tmp_path)
    write_sums(tree, "2")
    (tree / "lib/counter-2/counter.py").write_text("VSN = 'evil'\n")
    _refused(tar_tree(tree, tmp_path / "p.tar.gz"), deployed, "does not match its sha256")


def test_a_file_not_listed_in_the_sums_is_refused(tmp_path: Path, deployed: Path) -> None:
    tree = _pkgtree(tmp_path)
    write_sums(tree, "2")
    (tree / "lib/counter-2/sneaky.py").write_text("x = 1\n")
    _refused(tar_tree(tree, tmp_path / "p.tar.gz"), deployed, "sneaky.py is not listed")


def test_a_listed_file_that_is_missing_is_refused(tmp_path: Path, deployed: Path) -> None:
    tree = _pkgtree(tmp_path)
    write_sums(tree, "2")
    (tree / "lib/extra-1/extra.py").unlink()
    _refused(tar_tree(tree, tmp_path / "p.tar.gz"), deployed, "extra.py is listed .* but missing")


def test_a_package_without_sums_is_refused(tmp_path: Path, deployed: Path) -> None:
    tree = _pkgtree(tmp_path)
    _refused(tar_tree(tree, tmp_path / "p.tar.gz"), deployed, "SHA256SUMS is missing")


def _with_member(tmp_path: Path, info: tarfile.TarInfo) -> Path:
    tree = _pkgtree(tmp_path)
    write_sums(tree, "2")
    return tar_tree(tree, tmp_path / "p.tar.gz", extra=[info])


@pytest.mark.parametrize(
    ("name", "match"),
    [("/etc/evil", "absolute path '/etc/evil'"), ("lib/../../evil", "climbs out with '..'")],
)
def test_unsafe_paths_are_refused(tmp_path: Path, deployed: Path, name: str, match: str) -> None:
    _refused(_with_member(tmp_path, tarfile.TarInfo(name)), deployed, match)


def test_a_link_pointing_outside_the_tree_is_refused(tmp_path: Path, deployed: Path) -> None:
    link = tarfile.TarInfo("lib/counter-2/escape")
    link.type = tarfile.SYMTYPE
    link.linkname = "../../../etc/passwd"
    _refused(_with_member(tmp_path, link), deployed, "points outside the tree")


def test_a_link_inside_the_tree_is_refused_too(tmp_path: Path, deployed: Path) -> None:
    link = tarfile.TarInfo("lib/counter-2/alias.py")
    link.type = tarfile.SYMTYPE
    link.linkname = "counter.py"
    _refused(_with_member(tmp_path, link), deployed, "packages hold no links")


def test_a_device_is_refused(tmp_path: Path, deployed: Path) -> None:
    dev = tarfile.TarInfo("lib/counter-2/null")
    dev.type = tarfile.CHRTYPE
    _refused(_with_member(tmp_path, dev), deployed, "not a regular file or dir")


def test_an_already_unpacked_release_is_refused(tmp_path: Path, deployed: Path) -> None:
    _refused(make_package(tmp_path, "1", V1), deployed, "release 1 is already unpacked")


def test_a_lib_dir_that_exists_with_other_content_is_refused(
    tmp_path: Path, deployed: Path
) -> None:
    changed = [App("counter", "1", {"counter": "VSN = 'changed without a bump'\n"})]
    _refused(make_package(tmp_path, "2", changed), deployed, "lib/counter-1 exists .* different")


def test_garbage_is_not_a_package(tmp_path: Path, deployed: Path) -> None:
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(gzip.compress(b"not a tar") + b"\x00")
    _refused(junk, deployed, "not a readable .tar.gz package")


def test_a_tar_without_a_release_is_refused(tmp_path: Path, deployed: Path) -> None:
    empty = tmp_path / "empty.tar.gz"
    with tarfile.open(empty, "w:gz") as tar:
        info = tarfile.TarInfo("README")
        info.size = 2
        tar.addfile(info, io.BytesIO(b"hi"))
    _refused(empty, deployed, "expected exactly one releases/<vsn>/release.json")


def test_a_missing_package_file_says_so(tmp_path: Path, deployed: Path) -> None:
    with (
        pytest.raises(ReleaseError, match="no such package file"),
        package.staged(tmp_path / "primenode_9.tar.gz", deployed),
    ):
        pass


def test_the_code_of_new_lib_dirs_arrives_compiled_and_shared_dirs_are_not_recompiled(
    tmp_path: Path, deployed: Path
) -> None:
    shared = [App("counter", "1", {"counter": "VSN = 1\n"}), App("extra", "1", {"extra": "X\n"})]
    with package.staged(make_package(tmp_path, "2", shared), deployed) as pkg:
        compiled = {p.relative_to(pkg.staging).as_posix() for p in pkg.staging.rglob("*.pyc")}
        package.extract(pkg, deployed)
    assert [p.split("/__pycache__/")[0] for p in sorted(compiled)] == ["lib/extra-1"]
    assert list((deployed / "lib" / "extra-1").rglob("__pycache__/extra.*.pyc"))
    assert not list((deployed / "lib" / "counter-1").rglob("*.pyc"))


def test_a_new_module_that_does_not_compile_is_still_unpacked(
    tmp_path: Path, deployed: Path
) -> None:
    broken = [*V1, App("extra", "1", {"extra": "def broken(:\n"})]
    with package.staged(make_package(tmp_path, "2", broken), deployed) as pkg:
        package.extract(pkg, deployed)
    assert (deployed / "lib" / "extra-1" / "extra.py").read_text() == "def broken(:\n"
    assert not list((deployed / "lib" / "extra-1").rglob("*.pyc"))


def test_the_lib_dirs_the_tree_has_are_verified_but_not_staged_again(
    tmp_path: Path, deployed: Path
) -> None:
    shared = [App("counter", "1", {"counter": "VSN = 1\n"}), App("extra", "1", {"extra": "X\n"})]
    with package.staged(make_package(tmp_path, "2", shared), deployed) as pkg:
        assert "lib/counter-1/counter.py" in pkg.hashes
        assert not (pkg.staging / "lib" / "counter-1").exists()
        assert (pkg.staging / "lib" / "extra-1" / "extra.py").read_text() == "X\n"
        assert package.extract(pkg, deployed) == ["releases/2", "lib/extra-1"]


def test_a_lib_dir_the_tree_has_with_other_content_is_still_refused(
    tmp_path: Path, deployed: Path
) -> None:
    changed = [App("counter", "1", {"counter": "VSN = 'changed'\n"})]
    with (
        package.staged(make_package(tmp_path, "2", changed), deployed) as pkg,
        pytest.raises(ReleaseError, match=r"lib/counter-1 exists .* with different content"),
    ):
        package.extract(pkg, deployed)
