"""A roll over real ssh connections: five hosts on this machine (tests/fleet/sshhosts.py),
each with its own sshd, host key, network and the same tree path; ansible-playbook logs in
with a key made here and checks the host keys (e2e)."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fleet.fleet import Packages, Play, playbook, shared_packages
from tests.fleet.sshhosts import Host, Hosts, HostsUnavailable, inventory, restart_sshd, ssh_hosts
from tools.story import deploy, primenode

pytestmark = pytest.mark.e2e

SIZE = 5


@pytest.fixture(scope="module")
def packages(tmp_path_factory: pytest.TempPathFactory) -> Packages:
    return shared_packages(tmp_path_factory)


@pytest.fixture
def hosts(packages: Packages) -> Iterator[Hosts]:
    """Five hosts, each with release 1 deployed at the same path and started over ssh."""
    try:
        made = ssh_hosts(SIZE)
        fleet = made.__enter__()
    except HostsUnavailable as exc:
        pytest.skip(f"no ssh hosts on this machine: {exc}")
    try:
        for host in fleet.hosts:
            deploy(packages.one, host.home / "primenode")
            started = fleet.ssh(host, str(fleet.mount / "primenode" / "bin" / "primenode"), "start")
            assert started.returncode == 0, started.stderr
        yield fleet
    finally:
        for host in fleet.hosts:
            primenode(host.home / "primenode", "stop", check=False)
        made.__exit__(None, None, None)


def roll(fleet: Hosts, packages: Packages, workdir: Path) -> tuple[Play, float]:
    hosts = inventory(fleet, workdir / "hosts.ini", "primes_systemd=true")
    started = time.monotonic()
    play = playbook(
        hosts, "-e", f"primes_package={packages.two}", "-v",
        env={"ANSIBLE_HOST_KEY_CHECKING": "1",
             "ANSIBLE_SSH_ARGS": "-o ControlMaster=auto -o ControlPersist=5s"},
    )  # fmt: skip
    return play, time.monotonic() - started


def versions(host: Host) -> dict[str, str]:
    """The host's releases and their status, read from its tree on this machine."""
    shown = primenode(host.home / "primenode", "versions").stdout
    return dict(line.split() for line in shown.splitlines() if line.strip())


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_roll_over_ssh_halts_at_an_unreachable_host_and_a_rerun_copies_each_package_once(
    hosts: Hosts, packages: Packages, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second, third, fourth, fifth = hosts.hosts
    third.stop_sshd()
    play, took = roll(hosts, packages, tmp_path)
    assert play.returncode != 0, play.output
    assert f"fatal: [{third.name}]: UNREACHABLE!" in play.output
    assert play.recap[third.name]["unreachable"] == 1
    for host in (first, second):
        result = play.result(host.name)
        assert result["package_copied"] is True and result["release"] == "2", result
        assert versions(host) == {"2": "permanent", "1": "old"}
        assert play.recap[host.name]["failed"] == 0
        assert f"{host.name}: primes_systemd is set but systemd does not run here" in play.output
    for host in (third, fourth, fifth):
        assert versions(host) == {"1": "permanent"}
        assert not (host.home / "primenode" / "releases" / packages.two.name).exists()
    assert fourth.name not in play.recap and fifth.name not in play.recap
    durations = {h.name: play.result(h.name)["duration_ms"] for h in (first, second)}

    restart_sshd(hosts, third)
    again, took_again = roll(hosts, packages, tmp_path)
    assert again.returncode == 0, again.output
    for host in hosts.hosts:
        result = again.result(host.name, "ok" if host in (first, second) else "changed")
        assert result["package_copied"] is (host not in (first, second)), result
        copy = host.home / "primenode" / "releases" / packages.two.name
        assert sha256(copy) == sha256(packages.two)
        assert versions(host) == {"2": "permanent", "1": "old"}
        counts = hosts.ssh(host, str(hosts.mount / "primenode" / "bin" / "primenode"), "rpc",
                           "pm", "count")  # fmt: skip
        assert counts.returncode == 0 and int(counts.stdout) > 0, counts.stderr
    assert again.recap[first.name]["changed"] == 0 and again.recap[second.name]["changed"] == 0
    with capsys.disabled():
        print(
            f"\nssh roll, host 3 unreachable: {took:.1f} s; the rerun over 5 hosts (3 "
            f"upgraded): {took_again:.1f} s; upgrade commands per host (ms): "
            + json.dumps(durations)
        )
