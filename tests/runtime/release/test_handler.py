"""Tests for the lifecycle API: unpack, versions, make permanent, upgrade, downgrade, uninstall."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import primes_runtime
import pytest
from primes_runtime.behaviours import server
from primes_runtime.host.node import Node
from primes_runtime.release import handler
from primes_runtime.release.errors import ReleaseError
from primes_runtime.release.reports import InstallFailed, ReleaseStatus
from rt_fixtures.kernel import node_thread

from tests.runtime.release.deployed import deploy
from tests.runtime.release.servers import CODE_CHANGE_V2, counter, up_script
from tests.runtime.release.trees import App, make_package, snapshot_tree

pytestmark = pytest.mark.usefixtures("node")


def down_script(mod: str) -> str:
    return f"""\
        load_object_code {{"app": "counter", "from_vsn": "2", "to_vsn": "1", "path": "lib/counter-1", "modules": ["{mod}"]}}
        point_of_no_return
        suspend {{"modules": ["{mod}"], "timeout": 5.0}}
        code_change {{"modules": ["{mod}"], "mode": "down", "old_vsn": ["down", "1"], "extra": "from2to1", "timeout": 5.0}}
        load {{"module": "{mod}"}}
        resume {{"modules": ["{mod}"]}}
        """  # noqa: E501


def statuses(node: Node) -> list[tuple[str, str]]:
    return [(s.version, s.status) for s in handler.which_releases(node)]


def tree_state(root: Path) -> dict[str, object]:
    """Every file of the tree, RELEASES by its meaning (the handler rewrites its layout)."""
    files: dict[str, object] = dict(snapshot_tree(root))
    files["releases/RELEASES"] = json.loads((root / "releases" / "RELEASES").read_text())
    return files


def only_v1(tmp_path: Path, mod: str) -> Node:
    """Release 1 running and permanent; nothing else unpacked."""
    node = deploy(tmp_path, mod, up_script(mod))
    shutil.rmtree(node.root / "releases" / "2")
    shutil.rmtree(node.root / "lib" / "counter-2")
    (node.root / "releases" / "RELEASES").write_text(
        '{"format": 1, "releases": [{"status": "permanent", "version": "1"}]}\n'
    )
    return node


def package_v2(tmp_path: Path, mod: str) -> Path:
    v2 = [App("counter", "2", {mod: counter(2, code_change=CODE_CHANGE_V2)})]
    return make_package(tmp_path, "2", v2, relups={"up_from_1": up_script(mod)})


def test_statuses_follow_the_lifecycle(tmp_path: Path, mod: str) -> None:
    node = only_v1(tmp_path, mod)
    assert statuses(node) == [("1", "permanent")]
    assert handler.unpack(node, package_v2(tmp_path, mod)) == "2"
    assert statuses(node) == [("1", "permanent"), ("2", "unpacked")]
    handler.install(node, "2")
    assert statuses(node) == [("1", "permanent"), ("2", "current")]
    handler.make_permanent(node, "2")
    assert statuses(node) == [("1", "old"), ("2", "permanent")]
    assert (node.root / "releases" / "start_data").read_text() == "2 lib/primes_runtime-1\n"
    on_disk = json.loads((node.root / "releases" / "RELEASES").read_text())["releases"]
    assert {r["status"] for r in on_disk} == {"old", "permanent"}  # "current" is never written
    assert handler.which_releases(node)[0] == ReleaseStatus("1", "old")


def test_check_is_a_dry_run_that_changes_nothing(tmp_path: Path, mod: str) -> None:
    node = deploy(tmp_path, mod, up_script(mod))
    pid = server.start(mod, "a")
    report = handler.check(node, "2")
    assert report.modules_prepared == (mod,)
    assert report.processes == ((mod, 1),)
    assert "can be installed over 1" in report.summary()
    assert node.release == "1"
    assert primes_runtime.call(pid, "vsn") == 1
    assert "migrated" not in primes_runtime.call(pid, "state")  # type: ignore[operator]


def test_check_warns_when_no_process_runs_a_suspended_module(tmp_path: Path, mod: str) -> None:
    node = deploy(tmp_path, mod, up_script(mod))
    report = handler.check(node, "2")
    assert report.warnings == (
        f"no process runs {mod}; its suspend and code_change will do nothing",
    )


def test_check_lists_every_problem_of_a_bad_script(tmp_path: Path, mod: str) -> None:
    bad = f"""\
        load_object_code {{"app": "counter", "from_vsn": "1", "to_vsn": "2", "path": "lib/counter-2", "modules": ["{mod}"]}}
        point_of_no_return
        suspend {{"modules": ["{mod}"], "timeout": 5.0}}
        load {{"module": "other"}}
        load {{"module": "{mod}"}}
        load {{"module": "{mod}"}}
        """  # noqa: E501
    node = deploy(tmp_path, mod, bad)
    with pytest.raises(ReleaseError) as info:
        handler.check(node, "2")
    message = str(info.value)
    assert "3 problem(s), nothing was changed" in message
    assert "line 4: load of other not prepared by load_object_code" in message
    assert f"line 6: {mod} is loaded twice" in message
    assert f"{mod} is suspended and never resumed" in message


def test_make_permanent_needs_the_release_to_be_current(tmp_path: Path, mod: str) -> None:
    node = deploy(tmp_path, mod, up_script(mod))
    with pytest.raises(ReleaseError, match=r"release 2 is not current .* install it first"):
        handler.make_permanent(node, "2")


def test_upgrade_from_a_package_path_unpacks_installs_and_makes_permanent(
    tmp_path: Path, mod: str
) -> None:
    node = only_v1(tmp_path, mod)
    pid = server.start(mod, "a")
    report = handler.upgrade(node, str(package_v2(tmp_path, mod)))
    assert report.permanent and "made permanent" in report.summary()
    assert statuses(node) == [("1", "old"), ("2", "permanent")]
    assert primes_runtime.call(pid, "vsn") == 2


def test_upgrade_by_version_finds_the_package_in_releases(tmp_path: Path, mod: str) -> None:
    node = only_v1(tmp_path, mod)
    shutil.copy(package_v2(tmp_path, mod), node.root / "releases" / "primenode_2.tar.gz")
    handler.upgrade(node, "2")
    assert statuses(node) == [("1", "old"), ("2", "permanent")]


def test_upgrade_to_an_unknown_version_says_where_it_looked(tmp_path: Path, mod: str) -> None:
    node = only_v1(tmp_path, mod)
    with pytest.raises(ReleaseError, match=r"release 7 is not unpacked and .*primenode_7.tar.gz"):
        handler.upgrade(node, "7")


def test_unpack_refuses_a_package_of_another_release(tmp_path: Path, mod: str) -> None:
    node = only_v1(tmp_path, mod)
    pkg = package_v2(tmp_path, mod)
    tree = tmp_path / "pkgtree-2"
    manifest = tree / "releases" / "2" / "release.json"
    manifest.write_text(manifest.read_text().replace('"primenode"', '"othernode"'))
    from tests.runtime.release.trees import tar_tree, write_sums

    write_sums(tree, "2")
    pkg = tar_tree(tree, tmp_path / "othernode_2.tar.gz")
    before = snapshot_tree(node.root)
    with pytest.raises(ReleaseError, match="release 'othernode', this node runs 'primenode'"):
        handler.unpack(node, pkg)
    assert snapshot_tree(node.root) == before


def test_downgrade_runs_the_down_script_and_makes_the_old_release_permanent(
    tmp_path: Path, mod: str
) -> None:
    node = only_v1(tmp_path, mod)
    v2 = [App("counter", "2", {mod: counter(2, code_change=CODE_CHANGE_V2)})]
    relups = {"up_from_1": up_script(mod), "down_to_1": down_script(mod)}
    handler.unpack(node, make_package(tmp_path, "2", v2, relups=relups))
    pid = server.start(mod, "a")
    handler.upgrade(node, "2")
    report = handler.downgrade(node, "1")
    assert report.direction == "down" and report.permanent
    assert statuses(node) == [("1", "permanent"), ("2", "old")]
    assert primes_runtime.call(pid, "vsn") == 1
    state = primes_runtime.call(pid, "state")
    # v2's code_change ran with ("down", "1") before v1's code was loaded
    assert state == {"seen": [], "tag": "a", "migrated": [("down", "1"), "from2to1"]}


def test_downgrade_refuses_a_newer_release(tmp_path: Path, mod: str) -> None:
    node = deploy(tmp_path, mod, up_script(mod))
    with pytest.raises(ReleaseError, match="not a downgrade; use upgrade"):
        handler.downgrade(node, "2")


def test_uninstall_removes_an_old_release_and_only_its_own_code(tmp_path: Path, mod: str) -> None:
    node = only_v1(tmp_path, mod)
    handler.upgrade(node, str(package_v2(tmp_path, mod)))
    handler.uninstall(node, "1")
    assert statuses(node) == [("2", "permanent")]
    assert not (node.root / "releases" / "1").exists()
    assert not (node.root / "lib" / "counter-1").exists()
    assert (node.root / "lib" / "primes_runtime-1").is_dir()  # release 2 still uses it
    assert not [p for p in (node.root / "releases").iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("version", ["1", "2"])
def test_uninstall_refuses_the_current_and_the_permanent_release(
    tmp_path: Path, mod: str, version: str
) -> None:
    node = deploy(tmp_path, mod, up_script(mod))
    handler.install(node, "2")  # 2 is current, 1 is permanent
    with pytest.raises(ReleaseError, match=f"release {version} is (current|permanent)"):
        handler.uninstall(node, version)
    assert (node.root / "releases" / version).is_dir()


def test_uninstall_of_an_unknown_release_says_so(tmp_path: Path, mod: str) -> None:
    node = deploy(tmp_path, mod, up_script(mod))
    with pytest.raises(ReleaseError, match="release 9 is not known"):
        handler.uninstall(node, "9")


def test_a_refused_upgrade_from_a_package_leaves_the_tree_as_it_was(
    tmp_path: Path, mod: str
) -> None:
    node = only_v1(tmp_path, mod)
    pid = server.start(mod)  # loaded, so its new version is imported before anything changes
    broken = counter(2) + '\nraise RuntimeError("version 2 does not load")\n'
    pkg = make_package(tmp_path, "2", [App("counter", "2", {mod: broken})],
                       relups={"up_from_1": up_script(mod)})  # fmt: skip
    before = tree_state(node.root)
    with pytest.raises(ReleaseError, match="release 2 cannot be installed"):
        handler.upgrade(node, str(pkg))
    assert tree_state(node.root) == before
    assert statuses(node) == [("1", "permanent")]
    assert not [p for p in (node.root / "releases").iterdir() if p.name.startswith(".")]
    assert primes_runtime.call(pid, "vsn") == 1


def test_an_upgrade_rolled_back_after_the_point_of_no_return_removes_what_it_unpacked(
    tmp_path: Path, mod: str
) -> None:
    node = only_v1(tmp_path, mod)
    pid = server.start(mod, "explode")  # v2's code_change raises for this one
    before = tree_state(node.root)
    with pytest.raises(InstallFailed, match="rolled back, release 1 is still current") as failed:
        handler.upgrade(node, str(package_v2(tmp_path, mod)))
    # (a rollback problem keeps it: the summary says which, should one come under load)
    assert tree_state(node.root) == before, failed.value.report.summary()
    assert statuses(node) == [("1", "permanent")]
    assert primes_runtime.call(pid, "vsn") == 1


def test_upgrade_refuses_a_package_that_differs_from_the_unpacked_release_of_its_version(
    tmp_path: Path, mod: str
) -> None:
    node = only_v1(tmp_path, mod)
    handler.unpack(node, package_v2(tmp_path / "first", mod))
    fixed = counter(2, code_change=CODE_CHANGE_V2) + "\nFIXED = True\n"
    other = make_package(tmp_path / "second", "2", [App("counter", "2", {mod: fixed})],
                         relups={"up_from_1": up_script(mod)})  # fmt: skip
    before = tree_state(node.root)
    with pytest.raises(
        ReleaseError,
        match=r"release 2 is already unpacked here, from a different .*or uninstall 2 first",
    ):
        handler.upgrade(node, str(other))
    assert tree_state(node.root) == before
    assert node.release == "1"


def test_upgrade_with_the_package_of_an_unpacked_release_installs_that_release(
    tmp_path: Path, mod: str
) -> None:
    node = only_v1(tmp_path, mod)
    pkg = package_v2(tmp_path, mod)
    handler.unpack(node, pkg)
    handler.upgrade(node, str(pkg))
    assert statuses(node) == [("1", "old"), ("2", "permanent")]


def test_a_release_operation_waits_for_the_node_release_lock_and_adopts_the_new_config(
    tmp_path: Path, mod: str
) -> None:
    node = deploy(tmp_path, mod, up_script(mod))
    renamed = '[node]\nname = "renamed"\nprobation = 0\n'
    (node.root / "releases" / "2" / "node.toml").write_text(renamed)
    server.start(mod, "a")
    done = threading.Event()
    with node.release_lock:  # another release operation is under way
        worker = node_thread(target=lambda: (handler.install(node, "2"), done.set()))
        worker.start()
        assert not done.wait(0.3)
        assert node.release == "1"
    assert done.wait(30)
    worker.join(10)
    assert node.release == "2" and node.config.name == "renamed" and node.config.probation == 0
    assert node.manifest is not None and node.manifest.version == "2"
