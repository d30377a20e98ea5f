"""Packages crafted to reach outside lib/ (their SHA256SUMS right, the tree unsigned): refused at
unpack; and a manifest that does name such a path never makes uninstall or recovery delete it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import Script, make_package, repack

LIBRARY = {"name": "somelib", "version": "1", "path": "lib/somelib-1", "tags": ["py3-none-any"]}


def victim(tmp_path: Path) -> Path:
    """A directory next to the tree, holding one file, that nothing may delete."""
    outside = tmp_path / "victim"
    outside.mkdir(exist_ok=True)
    (outside / "precious").write_text("keep me\n", encoding="utf-8")
    return outside


def edited_manifest(text: bytes | str, key: str, path: str) -> str:
    """release.json with the code dir of `key` (apps, runtime or libraries) set to `path`."""
    data = json.loads(text)
    if key == "apps":
        data["apps"][0]["path"] = path
    elif key == "runtime":
        data["runtime"]["path"] = path
    else:
        data["libraries"] = [{**LIBRARY, "path": path}]
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def refused_at_unpack(node: Script, package: Path, reason: str) -> None:
    result = node.run("unpack", str(package))
    assert result.returncode == 1, result.stdout
    assert result.stderr.count("\n") == 1 and reason in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert node.ok("versions") == "1 permanent\n"
    assert sorted(p.name for p in (node.root / "releases").iterdir()) == [
        "1", "RELEASES", "start_data"
    ]  # fmt: skip
    assert sorted(p.name for p in (node.root / "lib").iterdir()) == [
        "demo_app-1", "primes_runtime-1"
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("key", "path"),
    [
        ("apps", "lib/../../../victim"),
        ("runtime", "ABSOLUTE"),
        ("libraries", "ABSOLUTE"),
        ("libraries", "lib/somelib-1/.."),
    ],
)
def test_a_manifest_naming_a_code_dir_that_is_not_a_plain_name_under_lib_is_refused_at_unpack(
    running: Script, tmp_path: Path, key: str, path: str
) -> None:
    outside = victim(tmp_path)
    path = str(outside) if path == "ABSOLUTE" else path

    def outside_lib(files: dict[str, bytes]) -> None:
        manifest = "releases/2/release.json"
        files[manifest] = edited_manifest(files[manifest], key, path).encode()

    package = repack(make_package(tmp_path), outside_lib)
    refused_at_unpack(running, package, f"names the code dir {path!r}, which is not a plain name")
    assert (outside / "precious").is_file()


@pytest.mark.parametrize(
    ("stray", "reason"),
    [
        ("lib/evil.pth", "a file directly in lib/: lib/evil.pth"),
        ("lib/evil-1/evil.py", "lib/evil-1 is not a code dir releases/2/release.json lists"),
    ],
)
def test_a_package_with_anything_in_lib_its_manifest_does_not_list_is_refused_at_unpack(
    running: Script, tmp_path: Path, stray: str, reason: str
) -> None:
    package = repack(make_package(tmp_path), lambda files: files.update({stray: b"import os\n"}))
    refused_at_unpack(running, package, reason)


def test_uninstall_never_removes_a_directory_outside_the_tree_whatever_the_manifest_says(
    running: Script, tmp_path: Path
) -> None:
    outside = victim(tmp_path)
    running.ok("unpack", str(make_package(tmp_path)))
    manifest = running.root / "releases" / "2" / "release.json"
    text = edited_manifest(manifest.read_text(), "apps", "lib/../../../victim")
    manifest.write_text(edited_manifest(text, "libraries", str(outside)), encoding="utf-8")

    running.ok("uninstall", "2")

    assert (outside / "precious").is_file()
    assert running.ok("versions") == "1 permanent\n"
    assert not (running.root / "releases" / "2").exists()


def test_the_recovery_pass_never_removes_a_directory_outside_the_tree(
    tree: Path, script: Script, tmp_path: Path
) -> None:
    outside = victim(tmp_path)
    (tree / ".node.lock").touch(mode=0o600)  # a node ran here and was killed mid-unpack
    unlisted = tree / "releases" / "2"
    unlisted.mkdir()
    release = {**json.loads((tree / "releases" / "1" / "release.json").read_text()), "version": "2"}
    text = edited_manifest(json.dumps(release), "apps", "lib/../../../victim")
    (unlisted / "release.json").write_text(edited_manifest(text, "libraries", str(outside)))

    result = script.run("versions")

    assert result.returncode == 0, result.stderr
    assert "recovered: removed release 2, which RELEASES does not list" in result.stderr
    assert (outside / "precious").is_file()
    assert (tree / "releases" / "1" / "release.json").is_file()
    assert not unlisted.exists()
