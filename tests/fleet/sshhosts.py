"""Separate hosts on this machine, reached over ssh: one network namespace each (a veth pair
to the controller), with its own sshd, host key and mount namespace, in which the host's own
directory is mounted on the same tree path as every other host's."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

SSHD = Path("/usr/sbin/sshd")
HOST_PYTHON = "/usr/bin/python3"
"""The hosts' Python, named in the inventory (ansible's discovery fails on a pyenv shim)."""
SSHD_CONFIG = """\
ListenAddress {address}:22
HostKey {dir}/host_key
PidFile {dir}/sshd.pid
AuthorizedKeysFile {dir}/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
UseDNS no
Subsystem sftp internal-sftp
"""


class HostsUnavailable(Exception):
    """This machine cannot make the hosts (not root, no sshd, no network namespaces)."""


@dataclass
class Host:
    """One host: its name, address, namespace and the directory it sees at the tree path."""

    name: str
    address: str
    netns: str
    outer: str
    home: Path
    """The host's own directory on this machine; the host sees it at Hosts.mount."""
    sshd: subprocess.Popen[bytes] | None = None

    def stop_sshd(self) -> None:
        """Stop the host's sshd listener (its sessions and node go on): unreachable."""
        if self.sshd is not None and self.sshd.pid > 1:
            self.sshd.send_signal(signal.SIGTERM)
            self.sshd.wait(10)
        self.sshd = None


@dataclass
class Hosts:
    """The hosts, the key the controller logs in with and the known_hosts naming them."""

    base: Path
    mount: Path
    """The path at which every host sees its own directory."""
    key: Path
    known_hosts: Path
    hosts: list[Host]

    def ssh(self, host: Host, *argv: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """Run a command on the host over ssh, as the controller would."""
        return subprocess.run(
            ["ssh", *self.options(), f"root@{host.address}", *argv],
            capture_output=True, text=True, timeout=timeout, check=False,
        )  # fmt: skip

    def options(self) -> list[str]:
        return [
            "-i", str(self.key), "-o", f"UserKnownHostsFile={self.known_hosts}",
            "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes",
            "-o", "ConnectTimeout=5",
        ]  # fmt: skip


def inventory(fleet: Hosts, path: Path, *extra: str) -> Path:
    """An Ansible inventory of the hosts by address, logged in as root with the fleet's key,
    host keys checked; `extra` lines join its vars."""
    lines = ["[primes]", *(f"{h.name} ansible_host={h.address}" for h in fleet.hosts), ""]
    lines += [
        "[primes:vars]",
        "ansible_user=root",
        f"ansible_ssh_private_key_file={fleet.key}",
        f"ansible_ssh_common_args='-o UserKnownHostsFile={fleet.known_hosts} "
        "-o StrictHostKeyChecking=yes -o ConnectTimeout=5'",
        f"ansible_python_interpreter={HOST_PYTHON}",
        f"primes_root={fleet.mount / 'primenode'}",
        *extra,
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _run(*argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), capture_output=True, text=True, check=check, timeout=60)


def _check_machine() -> None:
    if os.geteuid() != 0:
        raise HostsUnavailable("network namespaces need root")
    if not SSHD.is_file():
        raise HostsUnavailable(f"no {SSHD}: install openssh-server")
    for tool in ("ip", "unshare", "ssh", "ssh-keygen"):
        if shutil.which(tool) is None:
            raise HostsUnavailable(f"no {tool} on PATH")


def _start_sshd(host: Host, mount: Path) -> subprocess.Popen[bytes]:
    """sshd in the host's namespaces, with the host's directory mounted at `mount`.

    `ip netns exec` and `unshare` exec in place, and the shell execs sshd: the Popen's pid is
    sshd's."""
    config = host.home.parent / f"{host.name}.ssh" / "sshd_config"
    script = f'mount --bind "{host.home}" "{mount}" && exec {SSHD} -D -e -f "{config}"'
    argv = ["ip", "netns", "exec", host.netns, "unshare", "--mount", "--propagation",
            "private", "sh", "-c", script]  # fmt: skip
    log = (config.parent / "sshd.log").open("ab")
    proc = subprocess.Popen(argv, stdout=log, stderr=log, stdin=subprocess.DEVNULL)
    log.close()
    return proc


def _wait_listening(hosts: Hosts, host: Host) -> None:
    deadline = time.monotonic() + 15
    while True:
        done = hosts.ssh(host, "true", timeout=10)
        if done.returncode == 0:
            return
        if time.monotonic() > deadline:
            raise HostsUnavailable(f"{host.name}: ssh never answered: {done.stderr.strip()}")
        time.sleep(0.2)


def restart_sshd(hosts: Hosts, host: Host) -> None:
    """Start the host's sshd again (after stop_sshd), and wait until it answers."""
    host.sshd = _start_sshd(host, hosts.mount)
    _wait_listening(hosts, host)


def _end_processes(netns: str) -> None:
    """End every process left in the namespace (sshd sessions, the node): ones this test
    started, each by its own pid."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        listed = _run("ip", "netns", "pids", netns, check=False).stdout.split()
        pids = [int(p) for p in listed if p.isdigit() and int(p) > 1]
        if not pids:
            return
        for pid in pids:
            with suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and _run("ip", "netns", "pids", netns).stdout.strip():
            time.sleep(0.1)


@contextmanager
def ssh_hosts(count: int) -> Iterator[Hosts]:
    """`count` hosts reachable over ssh from this machine; everything removed on leaving."""
    _check_machine()
    base = Path(tempfile.mkdtemp(prefix="pf", dir="/tmp"))  # short: unix socket paths
    tag = f"pf{os.getpid() % 100000}"
    subnet = 100 + os.getpid() % 100
    mount = base / "srv"
    mount.mkdir()
    key = base / "id_ed25519"
    _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key))
    hosts = Hosts(base, mount, key, base / "known_hosts", [])
    known: list[str] = []
    try:
        for index in range(1, count + 1):
            host = Host(f"host{index}", f"10.{subnet}.{index}.2", f"{tag}n{index}",
                        f"{tag}v{index}", base / f"host{index}")  # fmt: skip
            hosts.hosts.append(host)
            host.home.mkdir()
            ssh_dir = base / f"{host.name}.ssh"
            ssh_dir.mkdir()
            _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(ssh_dir / "host_key"))
            shutil.copy(key.with_suffix(".pub"), ssh_dir / "authorized_keys")
            (ssh_dir / "sshd_config").write_text(
                SSHD_CONFIG.format(address=host.address, dir=ssh_dir), encoding="utf-8"
            )
            public = (ssh_dir / "host_key.pub").read_text(encoding="utf-8").split()
            known.append(f"{host.address} {public[0]} {public[1]}")
            _run("ip", "netns", "add", host.netns)
            _run("ip", "link", "add", host.outer, "type", "veth", "peer", "name", "eth0",
                 "netns", host.netns)  # fmt: skip
            _run("ip", "addr", "add", f"10.{subnet}.{index}.1/30", "dev", host.outer)
            _run("ip", "link", "set", host.outer, "up")
            inside = ["ip", "netns", "exec", host.netns]
            _run(*inside, "ip", "addr", "add", f"{host.address}/30", "dev", "eth0")
            _run(*inside, "ip", "link", "set", "eth0", "up")
            _run(*inside, "ip", "link", "set", "lo", "up")
        hosts.known_hosts.write_text("\n".join(known) + "\n", encoding="utf-8")
        os.makedirs("/run/sshd", exist_ok=True)
        for host in hosts.hosts:
            host.sshd = _start_sshd(host, mount)
        for host in hosts.hosts:
            _wait_listening(hosts, host)
        yield hosts
    finally:
        for host in hosts.hosts:
            host.stop_sshd()
            _end_processes(host.netns)
            _run("ip", "link", "del", host.outer, check=False)
            _run("ip", "netns", "del", host.netns, check=False)
        shutil.rmtree(base, ignore_errors=True)
