"""The trees a crash between two file-system steps leaves, made by hand, and the recovery pass
that bin/primenode (with no node running) and the node run on them."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pytest

from .conftest import Script, make_package, repack


@pytest.fixture(autouse=True)
def has_run_a_node(tree: Path) -> None:
    """These trees look interrupted mid-operation, so a node ran on them: it left its lock."""
    (tree / ".node.lock").touch(mode=0o600)


def test_a_tree_no_node_ever_ran_on_is_not_touched_by_versions(tree: Path, script: Script) -> None:
    (tree / ".node.lock").unlink()
    before = sorted(p.name for p in tree.iterdir())
    assert script.run("versions").stdout == "1 permanent\n"
    assert sorted(p.name for p in tree.iterdir()) == before


def staged(tmp_path: Path, package: Path | None = None) -> Path:
    """Package 2's (or `package`'s) files unpacked into a scratch dir (what the unpacker
    stages)."""
    scratch = tmp_path / "scratch"
    with tarfile.open(package or make_package(tmp_path)) as tar:
        tar.extractall(scratch, filter="data")
    return scratch


def write_releases(root: Path, entries: dict[str, str]) -> None:
    data = {"format": 1, "releases": [{"version": v, "status": s} for v, s in entries.items()]}
    (root / "releases" / "RELEASES").write_text(json.dumps(data) + "\n", encoding="utf-8")


def leftovers(root: Path) -> list[str]:
    return sorted(p.name for p in (root / "releases").iterdir() if p.name.startswith("."))


def test_an_unpack_killed_after_its_second_rename_is_undone_and_can_be_redone(
    tree: Path, script: Script, tmp_path: Path
) -> None:
    scratch = staged(tmp_path)
    staging = tree / "releases" / ".unpack-k1ll3d"
    staging.mkdir()
    (scratch / "releases" / "2").rename(tree / "releases" / "2")  # rename 1
    (scratch / "lib" / "demo_app-2").rename(tree / "lib" / "demo_app-2")  # rename 2, then kill
    (tree / "releases" / ".RELEASES.x1y2.tmp").write_text("{", encoding="utf-8")

    result = script.run("versions")

    assert result.returncode == 0, result.stderr
    assert result.stdout == "1 permanent\n"
    assert "recovered: removed release 2, which RELEASES does not list" in result.stderr
    assert not (tree / "releases" / "2").exists() and not (tree / "lib" / "demo_app-2").exists()
    assert leftovers(tree) == []
    script.ok("start")
    try:
        assert "release 2 installed over 1" in script.ok(
            "upgrade", str(tmp_path / "primenode_2.tar.gz")
        )
    finally:
        script.run("stop")


def with_a_library(files: dict[str, bytes]) -> None:
    """Release 2 ships a library of its own, lib/somelib-1."""
    manifest = json.loads(files["releases/2/release.json"])
    manifest["libraries"] = [
        {"name": "somelib", "version": "1", "path": "lib/somelib-1", "tags": ["py3-none-any"]}
    ]
    files["releases/2/release.json"] = json.dumps(manifest).encode()
    files["lib/somelib-1/somelib.py"] = b"LIB = 1\n"


def test_an_unpack_killed_after_renaming_a_new_library_removes_the_library_dir_too(
    tree: Path, script: Script, tmp_path: Path
) -> None:
    scratch = staged(tmp_path, repack(make_package(tmp_path), with_a_library))
    for new_dir in ("releases/2", "lib/demo_app-2", "lib/somelib-1"):  # every rename, then kill
        (scratch / new_dir).rename(tree / new_dir)

    result = script.run("versions")

    assert result.returncode == 0, result.stderr
    assert "(and lib/demo_app-2, lib/somelib-1)" in result.stderr
    assert sorted(p.name for p in (tree / "lib").iterdir()) == ["demo_app-1", "primes_runtime-1"]


def test_an_uninstall_killed_after_its_first_rename_is_finished_at_the_next_start(
    tree: Path, script: Script, tmp_path: Path
) -> None:
    scratch = staged(tmp_path)
    (scratch / "releases" / "2").rename(tree / "releases" / "2")
    trash = tree / "releases" / ".uninstall-k1ll3d"
    trash.mkdir()
    (scratch / "lib" / "demo_app-2").rename(trash / "0")  # RELEASES already dropped 2
    write_releases(tree, {"1": "permanent"})

    script.ok("start")
    try:
        assert script.ok("versions") == "1 permanent\n"
    finally:
        script.run("stop")
    assert not (tree / "releases" / "2").exists()
    assert leftovers(tree) == []


def test_a_make_permanent_killed_before_the_start_data_rename_boots_the_new_permanent_release(
    tree: Path, script: Script, tmp_path: Path
) -> None:
    scratch = staged(tmp_path)
    (scratch / "releases" / "2").rename(tree / "releases" / "2")
    (scratch / "lib" / "demo_app-2").rename(tree / "lib" / "demo_app-2")
    write_releases(tree, {"1": "old", "2": "permanent"})  # committed; start_data still says 1
    (tree / "releases" / ".start_data.k1ll.tmp").write_text("2 lib/primes_runtime-1\n")

    script.ok("start")
    try:
        status = json.loads(script.ok("status", "--json"))
        assert status["release"] == "2"
        assert script.ok("versions") == "1 old\n2 permanent\n"
    finally:
        script.run("stop")
    assert (tree / "releases" / "start_data").read_text() == "2 lib/primes_runtime-1\n"
    assert leftovers(tree) == []


def test_the_node_repairs_the_tree_before_a_release_operation_and_logs_it(
    running: Script, tmp_path: Path
) -> None:
    tree = running.root
    scratch = staged(tmp_path)
    (scratch / "releases" / "2").rename(tree / "releases" / "2")  # a kill after rename 1

    assert running.ok("versions") == "1 permanent\n"

    assert not (tree / "releases" / "2").exists()
    log = (tree / "log" / "node.log").read_text(encoding="utf-8")
    assert "recovery before listing the releases: removed release 2" in log


def test_a_release_listed_without_its_directory_is_forgotten(tree: Path, script: Script) -> None:
    write_releases(tree, {"1": "permanent", "7": "old"})

    result = script.run("versions")

    assert result.stdout == "1 permanent\n"
    assert "recovered: forgot release 7" in result.stderr
    assert json.loads((tree / "releases" / "RELEASES").read_text())["releases"] == [
        {"status": "permanent", "version": "1"}
    ]


def test_an_unreadable_releases_file_is_left_alone_and_reported_in_one_line(
    tree: Path, script: Script
) -> None:
    (tree / "releases" / "RELEASES").write_text("{not json", encoding="utf-8")
    before = (tree / "releases" / "start_data").read_bytes()

    result = script.run("versions")

    assert result.returncode != 0
    assert result.stderr.count("\n") == 1 and "RELEASES: not JSON" in result.stderr
    assert (tree / "releases" / "RELEASES").read_text() == "{not json"
    assert (tree / "releases" / "start_data").read_bytes() == before
