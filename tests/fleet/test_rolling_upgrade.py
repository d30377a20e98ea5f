"""Rolling releases across nodes on this machine with ansible-playbook (e2e)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.fleet.fleet import (
    MARKER,
    Calls,
    Node,
    Packages,
    Play,
    calling,
    deploy_fleet,
    inventory,
    playbook,
    shared_packages,
    stop_fleet,
)
from tools.story import deploy

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def packages(tmp_path_factory: pytest.TempPathFactory) -> Packages:
    return shared_packages(tmp_path_factory)


@pytest.fixture
def fleet(tmp_path: Path, packages: Packages) -> Iterator[list[Node]]:
    """Three trees of release 1, each in its own directory, started (a roll that halts at
    the second node leaves the third untouched)."""
    nodes = deploy_fleet(packages, tmp_path / "hosts")
    try:
        yield nodes
    finally:
        stop_fleet(nodes)


@pytest.fixture
def pair(tmp_path: Path, packages: Packages) -> Iterator[list[Node]]:
    """Two trees of release 1, started: enough for a roll that is not to halt midway."""
    nodes = deploy_fleet(packages, tmp_path / "hosts", size=2)
    try:
        yield nodes
    finally:
        stop_fleet(nodes)


@pytest.fixture(scope="module")
def untouched(tmp_path_factory: pytest.TempPathFactory, packages: Packages) -> Iterator[list[Node]]:
    """Two trees of release 1, started, shared by the tests of check mode on nodes that never
    saw the package (each test asserts that its run changed no tree)."""
    nodes = deploy_fleet(packages, tmp_path_factory.mktemp("untouched"), size=2)
    try:
        yield nodes
    finally:
        stop_fleet(nodes)


@dataclass(frozen=True)
class Rolled:
    """Three nodes rolled from 1 to 2 while a client called each, and what everyone saw."""

    nodes: list[Node]
    play: Play
    before: dict[str, int]
    seen: dict[str, Calls]
    workdir: Path


@pytest.fixture(scope="module")
def rolled(tmp_path_factory: pytest.TempPathFactory, packages: Packages) -> Iterator[Rolled]:
    """The roll from 1 to 2 over three nodes, once for the module: the tests after the first
    look at what it left (a second run, then the roll back, last in the file)."""
    workdir = tmp_path_factory.mktemp("rolled")
    nodes = deploy_fleet(packages, workdir / "hosts")
    try:
        before = {n.name: n.count() for n in nodes}
        probe = '{"primes_probe": ["{{ primes_root }}/bin/primenode", "rpc", "pm", "count"]}'
        with calling(nodes) as seen:
            play = roll(nodes, packages, workdir, "-e", probe, "-v")
        yield Rolled(nodes, play, before, seen, workdir)
    finally:
        stop_fleet(nodes)


def roll(fleet: list[Node], packages: Packages, tmp_path: Path, *extra: str) -> Play:
    hosts = inventory(fleet, tmp_path / "hosts.ini")
    return playbook(hosts, "-e", f"primes_package={packages.two}", *extra)


def test_a_roll_from_1_to_2_reaches_every_node_while_clients_see_no_failed_call(
    rolled: Rolled,
) -> None:
    play, before, seen = rolled.play, rolled.before, rolled.seen
    assert play.returncode == 0, play.output
    for node in rolled.nodes:
        result = play.result(node.name)
        assert (result["previous"], result["release"]) == ("1", "2")
        pauses = result["pauses"]
        assert isinstance(pauses, list) and pauses, result
        assert {p["module"] for p in pauses} == {"prime_miner.miner"}
        assert float(str(result["duration_ms"])) > 0
        assert node.versions() == {"2": "permanent", "1": "old"}
        assert node.count() >= before[node.name]  # the primes survived the upgrade
        assert seen[node.name].failed == []
        assert seen[node.name].ok > 0
        assert seen[node.name].releases == {"1", "2"}  # served through the switch
        assert play.recap[node.name]["changed"] == 1
        assert play.recap[node.name]["failed"] == 0


def test_a_second_run_of_the_same_roll_reports_no_change_on_any_node(
    rolled: Rolled, packages: Packages
) -> None:
    assert rolled.play.returncode == 0, rolled.play.output
    again = roll(rolled.nodes, packages, rolled.workdir)
    assert again.returncode == 0, again.output
    assert sorted(again.recap) == ["node1", "node2", "node3"]
    assert all(counts["changed"] == 0 for counts in again.recap.values()), again.recap


def test_a_downgrade_roll_takes_every_node_back_to_1_with_its_state(rolled: Rolled) -> None:
    assert rolled.play.returncode == 0, rolled.play.output
    grown = {n.name: n.count() for n in rolled.nodes}
    hosts = rolled.workdir / "hosts.ini"
    back = playbook(hosts, "-e", "primes_downgrade=1", playbook_name="rolling_downgrade.yml")
    assert back.returncode == 0, back.output
    for node in rolled.nodes:
        assert node.versions() == {"1": "permanent", "2": "old"}
        assert node.count() >= grown[node.name]
        assert back.recap[node.name]["changed"] == 1


def test_a_code_change_failing_on_the_second_node_halts_the_roll_there_rolled_back(
    fleet: list[Node], packages: Packages, tmp_path: Path
) -> None:
    first, second, third = fleet
    (second.root / MARKER).write_text("", encoding="utf-8")
    held = second.count()
    play = roll(fleet, packages, tmp_path)
    assert play.returncode != 0
    assert first.versions() == {"2": "permanent", "1": "old"}
    assert second.versions() == {"1": "permanent"}
    assert third.versions() == {"1": "permanent"}
    assert not (third.root / "releases" / packages.two.name).exists()  # never reached
    served = second.get(second.port())
    assert served["release"] == "1"
    assert int(str(served["count"])) >= held
    assert play.recap["node1"]["failed"] == 0
    assert play.recap["node2"]["failed"] == 1
    assert "node3" not in play.recap
    failed = play.result("node2", "fatal")
    assert failed["rolled_back"] is True and failed["refused"] is False
    assert str(failed["failed_step"]).endswith("(code_change prime_miner.miner)")
    assert failed["failed_script"] == "releases/2/up_from_1.relup"
    assert f"releases/2/up_from_1.relup:{failed['failed_line']} (" in str(failed["failed_step"])
    assert failed["exit_code"] == 1 and failed["rollback_problems"] == []
    paused = failed["pauses"]
    assert isinstance(paused, list) and {p["module"] for p in paused} == {"prime_miner.miner"}
    assert failed["versions"] == {"1": "permanent"}
    fatal = [line for line in play.output.splitlines() if line.startswith("fatal: [node2]")]
    assert len(fatal) == 1, play.output
    assert "code_change" in fatal[0]
    assert f"{MARKER} is set on this node" in fatal[0]
    assert "the node rolled back and serves release 1 with its state" in fatal[0]


def files(node: Node) -> list[tuple[str, bytes]]:
    """Every file of the tree's releases/ and lib/ with its content (bytecode caches aside)."""
    found = []
    for top in ("releases", "lib", "bin"):
        for path in sorted((node.root / top).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                found.append((str(path.relative_to(node.root)), path.read_bytes()))
    return found


def test_check_mode_reports_the_roll_and_changes_no_node(
    untouched: list[Node], packages: Packages, tmp_path: Path
) -> None:
    listing = {n.name: files(n) for n in untouched}
    play = roll(untouched, packages, tmp_path, "--check", "--diff")
    assert play.returncode == 0, play.output
    for node in untouched:
        assert node.versions() == {"1": "permanent"}
        assert files(node) == listing[node.name]
        assert play.recap[node.name]["changed"] == 1  # what the real run would do
    assert play.output.count("+2 permanent") == len(untouched)


def test_check_mode_runs_the_nodes_own_check_once_the_release_is_unpacked(
    pair: list[Node], packages: Packages, tmp_path: Path
) -> None:
    assert roll(pair, packages, tmp_path, "-e", "primes_state=unpacked").returncode == 0
    listing = {n.name: files(n) for n in pair}
    play = roll(pair, packages, tmp_path, "--check", "-v")
    assert play.returncode == 0, play.output
    for node in pair:
        checked = play.result(node.name)["check"]
        assert isinstance(checked, dict)
        assert (checked["from_version"], checked["to_version"]) == ("1", "2")
        assert checked["unpacked"] is False  # the node had it already
        assert node.versions() == {"1": "permanent", "2": "unpacked"}
        assert files(node) == listing[node.name]


def tree(node: Node) -> dict[str, bytes | None]:
    """Every path of the tree (a directory as None) with its content; the node's logs, run
    files and bytecode caches aside."""
    found: dict[str, bytes | None] = {}
    for path in sorted(node.root.rglob("*")):
        rel = path.relative_to(node.root)
        if rel.parts[0] in ("log", "run") or "__pycache__" in rel.parts:
            continue
        found[str(rel)] = path.read_bytes() if path.is_file() else None
    return found


def times(node: Node) -> dict[str, int]:
    """Modification times (ns) of releases/RELEASES and the directories a release goes into."""
    paths = ("releases/RELEASES", "releases", "lib", ".")
    return {p: (node.root / p).stat().st_mtime_ns for p in paths}


def test_check_mode_on_nodes_that_never_saw_the_package_reports_their_check_and_keeps_each_tree(
    untouched: list[Node], packages: Packages, tmp_path: Path
) -> None:
    before = {n.name: tree(n) for n in untouched}
    stamped = {n.name: times(n) for n in untouched}
    play = roll(untouched, packages, tmp_path, "--check", "-v")
    assert play.returncode == 0, play.output
    for node in untouched:
        result = play.result(node.name)
        checked = result["check"]
        assert isinstance(checked, dict), result
        assert (checked["from_version"], checked["to_version"]) == ("1", "2")
        assert checked["script"] == "releases/2/up_from_1.relup"
        assert checked["unpacked"] is True  # the node unpacked it for its check, then removed it
        assert int(str(checked["instructions"])) > 0
        counted = checked["processes"]
        assert isinstance(counted, list)
        assert "prime_miner.miner" in {row["module"] for row in counted}
        assert result["versions"] == {"1": "old", "2": "permanent"}  # the prediction
        assert node.versions() == {"1": "permanent"}
        assert tree(node) == before[node.name]
        assert times(node) == stamped[node.name]


def test_a_package_typed_relative_to_where_ansible_playbook_runs_is_found_there(
    pair: list[Node], packages: Packages, tmp_path: Path
) -> None:
    hosts = inventory(pair, tmp_path / "hosts.ini")
    typed_in = packages.two.parent.parent
    relative = str(packages.two.relative_to(typed_in))  # dist/primenode_2.tar.gz
    play = playbook(hosts, "-e", f"primes_package={relative}", cwd=typed_in)
    assert play.returncode == 0, play.output
    for node in pair:
        assert node.versions() == {"2": "permanent", "1": "old"}


def test_a_node_that_refuses_the_package_keeps_no_copy_of_it_and_reports_no_change(
    fleet: list[Node], packages: Packages, tmp_path: Path
) -> None:
    first, second, _ = fleet
    signers = second.root / "releases" / "allowed_signers"
    signers.write_text("release@example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE1d\n")
    signers.chmod(0o644)
    play = roll(fleet, packages, tmp_path, "-v")
    assert play.returncode != 0
    failed = play.result("node2", "fatal")
    assert failed["refused"] is True and failed["changed"] is False, failed
    assert failed["package_copied"] is False
    assert "refused, nothing changed (release 1 still runs)" in str(failed["msg"])
    assert not (second.root / "releases" / packages.two.name).exists()
    assert second.versions() == {"1": "permanent"}
    assert play.recap["node2"]["changed"] == 0 and play.recap["node2"]["failed"] == 1
    assert (first.root / "releases" / packages.two.name).is_file()  # accepted, kept
    assert "node3" not in play.recap


def test_a_failing_probe_puts_the_node_back_on_its_old_release_and_halts_the_roll(
    fleet: list[Node], packages: Packages, tmp_path: Path
) -> None:
    first, second, third = fleet
    (second.root / "unhealthy").write_text("", encoding="utf-8")
    probe = '{"primes_probe": ["test", "!", "-e", "{{ primes_root }}/unhealthy"]}'
    play = roll(fleet, packages, tmp_path, "-e", probe, "-e", "primes_probe_retries=1")
    assert play.returncode != 0
    assert first.versions() == {"2": "permanent", "1": "old"}
    assert second.versions() == {"1": "permanent", "2": "old"}  # went to 2, then back
    assert third.versions() == {"1": "permanent"}
    assert second.get(second.port())["release"] == "1"
    assert play.recap["node2"]["failed"] == 1
    assert "node3" not in play.recap
    fatal = [line for line in play.output.splitlines() if line.startswith("fatal: [node2]")]
    assert any(
        "health check failed" in line and "rolled back to release 1" in line for line in fatal
    )


def test_the_package_ships_a_notify_unit_that_systemd_accepts_for_a_deployed_tree(
    packages: Packages, tmp_path: Path
) -> None:
    root = tmp_path / "srv" / "primenode"
    deploy(packages.two, root)
    unit = (root / "releases" / "2" / "primenode@.service").read_text(encoding="utf-8")
    assert "Type=notify" in unit
    assert "ExecStart=/%I/bin/primenode foreground" in unit
    instance = subprocess.run(
        ["systemd-escape", "--path", str(root)], capture_output=True, text=True, check=True
    ).stdout.strip()
    named = tmp_path / "units" / f"primenode@{instance}.service"
    named.parent.mkdir()
    named.write_text(unit, encoding="utf-8")
    verify = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", str(named)], capture_output=True, text=True
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr


def test_a_node_that_is_not_running_fails_the_task_saying_so_in_check_mode_and_for_real(
    packages: Packages, tmp_path: Path
) -> None:
    node = Node("node1", tmp_path / "hosts" / "node1" / "primenode")
    deploy(packages.one, node.root)  # deployed, never started
    before = tree(node)
    checked = roll([node], packages, tmp_path, "--check", "-v")
    assert checked.returncode != 0
    result = checked.result("node1", "fatal")
    assert result["exit_code"] == 3, result
    assert "the node is not running, so it cannot check release 2" in str(result["msg"])
    assert tree(node) == before
    real = roll([node], packages, tmp_path, "-v")
    assert real.returncode != 0
    failed = real.result("node1", "fatal")
    assert failed["exit_code"] == 3 and failed["rolled_back"] is False, failed
    assert "the node is not running; start it (bin/<name> start) and retry" in str(failed["msg"])
    assert node.versions() == {"1": "permanent"}
