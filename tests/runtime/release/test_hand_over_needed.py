"""install and downgrade of a release on another runtime change nothing in place: they ask for
a hand-over (install: not permanent) or refuse, and `check` says which way a release lies."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from primes_runtime import server
from primes_runtime.node import Node
from primes_runtime.release import forward, handler
from primes_runtime.release.errors import ReleaseError

from tests.runtime.release.deployed import deploy
from tests.runtime.release.servers import up_script
from tests.runtime.release.trees import snapshot_tree

pytestmark = pytest.mark.usefixtures("node")


def on_runtime(root: Path, version: str, runtime: str) -> None:
    """Make release `version` name another runtime dir (a copy of the one it names)."""
    path = root / "releases" / version / "release.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    if not (root / runtime).exists():
        shutil.copytree(root / manifest["runtime"]["path"], root / runtime)
    manifest["runtime"]["path"] = runtime
    path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def statuses(node: Node) -> list[tuple[str, str]]:
    return [(s.version, s.status) for s in handler.which_releases(node)]


def test_install_of_a_release_on_another_runtime_asks_for_a_hand_over_and_changes_nothing(
    tmp_path: Path, mod: str
) -> None:
    node = deploy(tmp_path, mod, up_script(mod))
    on_runtime(node.root, "2", "lib/primes_runtime-2")
    before = snapshot_tree(node.root)

    with pytest.raises(handler.HandOverNeeded) as raised:
        handler.install(node, "2")

    assert raised.value.command == "install"
    assert raised.value.permanent is False
    assert "the runtime changes (primes_runtime-1 -> primes_runtime-2)" in raised.value.why
    assert node.release == "1"
    assert statuses(node) == [("1", "permanent"), ("2", "unpacked")]
    assert snapshot_tree(node.root) == before


def test_a_downgrade_to_an_older_release_on_another_runtime_asks_for_a_permanent_hand_over(
    tmp_path: Path, mod: str
) -> None:
    node = deploy(tmp_path, mod, up_script(mod))
    server.start(mod, "a")
    handler.upgrade(node, "2")
    on_runtime(node.root, "1", "lib/primes_runtime-0")

    with pytest.raises(handler.HandOverNeeded) as raised:
        handler.downgrade(node, "1")

    assert (raised.value.command, raised.value.permanent) == ("downgrade", True)
    assert node.release == "2"
    assert statuses(node) == [("1", "old"), ("2", "permanent")]


def test_a_downgrade_to_a_newer_release_on_another_runtime_is_refused_naming_upgrade(
    tmp_path: Path, mod: str
) -> None:
    node = deploy(tmp_path, mod, up_script(mod))
    on_runtime(node.root, "2", "lib/primes_runtime-2")
    before = snapshot_tree(node.root)

    with pytest.raises(ReleaseError, match="downgrade only goes back: to go there, run upgrade 2"):
        handler.downgrade(node, "2")

    assert node.release == "1"
    assert snapshot_tree(node.root) == before


def test_check_of_a_hand_over_no_script_leads_to_says_which_way_it_lies(
    tmp_path: Path, mod: str
) -> None:
    node = deploy(tmp_path, mod, up_script(mod))
    on_runtime(node.root, "2", "lib/primes_runtime-2")
    (node.root / "releases" / "2" / "up_from_1.relup").unlink()

    report, unpacked, why, way = handler.check_target(node, "2")

    assert (report.to_version, report.script, unpacked, way) == (
        "2",
        "no script, a hand-over",
        False,
        "up",
    )
    assert why is not None and "the runtime changes" in why


@pytest.mark.parametrize(
    ("version", "current", "script"),
    [("2", "1", "down"), ("1", "2", None), ("1.0", "1.1", None), ("a", "b", "down")],
)
def test_a_downgrade_goes_back_by_its_script_else_by_pep_440(
    version: str, current: str, script: str | None
) -> None:
    forward.refuse_unless_older(version, current, script)


@pytest.mark.parametrize(
    ("version", "current", "script", "said"),
    [
        ("1", "2", "up", "not older than the current release 2"),
        ("3", "2", None, "downgrade only goes back: to go there, run upgrade 3"),
        ("2", "2", None, "not older"),
        ("b", "a", None, "cannot tell whether release b is older"),
    ],
)
def test_a_downgrade_that_does_not_go_back_is_refused_in_one_line(
    version: str, current: str, script: str | None, said: str
) -> None:
    with pytest.raises(ReleaseError, match=said) as raised:
        forward.refuse_unless_older(version, current, script)
    assert "\n" not in str(raised.value)
