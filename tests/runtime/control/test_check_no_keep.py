"""`check PKG --no-keep` through the real bin/primenode: the dry run, then the tree as it was."""

from __future__ import annotations

import json
from pathlib import Path

from .conftest import COUNTER_V2, Script, make_package


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Every path of the tree (a directory as None) with its content; the node's logs and run
    files and bytecode caches aside."""
    found: dict[str, bytes | None] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if rel.parts[0] in ("log", "run") or "__pycache__" in rel.parts:
            continue
        found[str(rel)] = path.read_bytes() if path.is_file() else None
    return found


def test_check_no_keep_of_a_new_package_reports_the_dry_run_and_leaves_the_tree_as_it_was(
    running: Script, tmp_path: Path
) -> None:
    package = make_package(tmp_path)
    before = snapshot(running.root)
    out = running.ok("check", str(package), "--no-keep")
    assert out.startswith("release 2 can be installed over 1 (releases/2/up_from_1.relup, ")
    assert "demo_app.counter: 1 process(es) to suspend" in out
    assert "unpacked release 2 for this check; removed it again (--no-keep)" in out
    assert snapshot(running.root) == before
    assert running.ok("versions") == "1 permanent\n"
    result = running.run("check", str(package), "--no-keep", "--json")
    assert result.returncode == 0, result.stderr
    checked = json.loads(result.stdout)
    assert (checked["ok"], checked["command"], checked["unpacked"]) == (True, "check", True)
    assert checked["processes"] == [{"module": "demo_app.counter", "count": 1}]
    assert snapshot(running.root) == before
    kept = running.ok("check", str(package))  # default: kept
    assert "\n  unpacked release 2 for this check; it stays unpacked\n" in kept
    assert running.ok("versions") == "1 permanent\n2 unpacked\n"


def test_check_no_keep_whose_dry_run_fails_also_removes_what_it_unpacked(
    running: Script, tmp_path: Path
) -> None:
    broken = COUNTER_V2 + '\nraise RuntimeError("release 2 cannot load")\n'
    package = make_package(tmp_path, broken)
    before = snapshot(running.root)
    result = running.run("check", str(package), "--no-keep", "--json")
    assert result.returncode == 1, (result.stdout, result.stderr)
    failed = json.loads(result.stdout)
    assert failed["ok"] is False and failed["report"] is None
    assert "release 2 cannot load" in str(failed["error"])
    assert snapshot(running.root) == before
    assert running.ok("versions") == "1 permanent\n"


def test_check_no_keep_of_a_release_already_unpacked_keeps_it(
    running: Script, tmp_path: Path
) -> None:
    running.ok("unpack", str(make_package(tmp_path)))
    out = running.ok("check", "2", "--no-keep")
    assert "for this check" not in out
    assert running.ok("versions") == "1 permanent\n2 unpacked\n"
