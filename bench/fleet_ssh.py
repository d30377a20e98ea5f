"""fleet_bench --ssh: roll release 1 -> 2 over the ssh hosts of tests/fleet/sshhosts.py, and
measure each host's turn and the worst latency a client of that host's node saw during it.

Each host is a network namespace with its own sshd; its node's HTTP front end listens on the
namespace's 127.0.0.1, so the client of a host runs inside the namespace (`ip netns exec`),
printing one line per call (start, end on CLOCK_MONOTONIC, which the namespaces share with
the controller, and the release that answered). ansible-playbook's output is read as it comes,
each line stamped; with `serial: 1` a host's turn runs from the end of the previous host's
(the roll's start for the first) to its own last line before the recap. The module's own
`duration_ms` (its `bin/<name>` commands: check, upgrade with its probation window) is printed
next to it.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from tests.fleet.fleet import PLAYBOOKS, ansible_env
from tests.fleet.sshhosts import Host, inventory, ssh_hosts
from tools.story import deploy, primenode

CLIENT = """
import json, sys, time, urllib.request
url = f"http://127.0.0.1:{sys.argv[1]}/"
while True:
    start = time.monotonic()
    try:
        with urllib.request.urlopen(url, timeout=10) as reply:
            release = str(json.loads(reply.read()).get("release"))
    except Exception:
        release = "?"
    print(f"{start:.6f} {time.monotonic():.6f} {release}", flush=True)
    time.sleep(0.005)
"""
"""One host's client: GETs the node's front end in a loop, one line per call."""


@dataclass
class Client:
    """A client process in a host's namespace and the calls it reported."""

    host: str
    proc: subprocess.Popen[str]
    calls: list[tuple[float, float, str]] = field(default_factory=list)
    reader: threading.Thread | None = None

    def read(self) -> None:
        """Collect the client's lines until it ends."""
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            start, end, release = line.split()
            self.calls.append((float(start), float(end), release))

    def stop(self) -> None:
        """End the client process (this one, by its pid) and its reader."""
        if self.proc.poll() is None and self.proc.pid > 1:
            self.proc.terminate()
        self.proc.wait(10)
        if self.reader is not None:
            self.reader.join(10)


def start_client(host: Host, port: int) -> Client:
    """A client of the node listening on `port` in the host's namespace."""
    argv = ["ip", "netns", "exec", host.netns, sys.executable, "-c", CLIENT, str(port)]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    client = Client(host.name, proc)
    client.reader = threading.Thread(target=client.read, daemon=True)
    client.reader.start()
    return client


def stamped_playbook(
    hosts: Path, package: Path, workdir: Path
) -> tuple[int, list[tuple[float, str]]]:
    """Run the rolling upgrade; its exit code and each output line with the time it came."""
    env = {**ansible_env(workdir), "ANSIBLE_HOST_KEY_CHECKING": "1", "PYTHONUNBUFFERED": "1"}
    env["ANSIBLE_SSH_ARGS"] = "-o ControlMaster=auto -o ControlPersist=30s"
    argv = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(hosts)]
    argv += [str(PLAYBOOKS / "rolling_upgrade.yml"), "-e", f"primes_package={package}", "-v"]
    lines: list[tuple[float, str]] = [(time.monotonic(), "")]
    proc = subprocess.Popen(
        argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append((time.monotonic(), line.rstrip("\n")))
    return proc.wait(), lines


def turns(names: list[str], lines: list[tuple[float, str]]) -> dict[str, tuple[float, float]]:
    """Each host's turn (start, end): from the previous host's last line to its own."""
    body = []
    for stamp, line in lines:
        if line.startswith("PLAY RECAP"):
            break
        body.append((stamp, line))
    found: dict[str, tuple[float, float]] = {}
    start = lines[0][0]
    for name in names:
        mine = [t for t, line in body if re.search(rf"\[{re.escape(name)}\]", line)]
        if not mine:
            break
        found[name] = (start, mine[-1])
        start = mine[-1]
    return found


def upgrade_seconds(name: str, lines: list[tuple[float, str]]) -> float | None:
    """The module's own `duration_ms` for the host (its `bin/<name>` commands), in seconds."""
    head = f"changed: [{name}] => "
    for _, line in lines:
        if line.startswith(head):
            duration = json.loads(line[len(head) :]).get("duration_ms")
            return None if duration is None else round(float(duration) / 1000, 2)
    return None


def worst_during(
    calls: list[tuple[float, float, str]], turn: tuple[float, float]
) -> tuple[float, int, int]:
    """The worst latency (ms) of the calls that overlapped the turn, how many, how many failed."""
    during = [(s, e, r) for s, e, r in calls if e >= turn[0] and s <= turn[1]]
    worst = max(((e - s) * 1000 for s, e, _ in during), default=0.0)
    return worst, len(during), sum(1 for *_, r in during if r == "?")


def roll_over_ssh(size: int, one: Path, two: Path, workdir: Path) -> dict[str, object]:
    """Deploy release 1 on `size` ssh hosts, start each over ssh, roll to `two`: the figures."""
    with ExitStack() as stack:
        fleet = stack.enter_context(ssh_hosts(size))
        roots = {h.name: h.home / "primenode" for h in fleet.hosts}
        for host in fleet.hosts:
            deploy(one, roots[host.name])
            stack.callback(primenode, roots[host.name], "stop", check=False)
            started = fleet.ssh(host, str(fleet.mount / "primenode" / "bin" / "primenode"), "start")
            if started.returncode != 0:
                raise RuntimeError(f"{host.name}: start failed: {started.stderr.strip()}")
        clients = []
        for host in fleet.hosts:
            port = int(primenode(roots[host.name], "rpc", "frontman", "port").stdout)
            clients.append(start_client(host, port))
            stack.callback(clients[-1].stop)
        time.sleep(1.0)
        code, lines = stamped_playbook(inventory(fleet, workdir / "hosts.ini"), two, workdir)
        time.sleep(1.0)
        for client in clients:
            client.stop()
    if code != 0:
        raise RuntimeError("the roll failed:\n" + "\n".join(line for _, line in lines[-60:]))
    names = [c.host for c in clients]
    spans = turns(names, lines)
    per_host: dict[str, dict[str, object]] = {}
    for client in clients:
        turn = spans[client.host]
        worst, calls, failed = worst_during(client.calls, turn)
        per_host[client.host] = {
            "turn_s": round(turn[1] - turn[0], 2),
            "upgrade_s": upgrade_seconds(client.host, lines),
            "worst_ms_turn": round(worst, 1),
            "calls_turn": calls,
            "failed_turn": failed,
            "worst_ms_roll": round(
                max(((e - s) * 1000 for s, e, _ in client.calls), default=0.0), 1
            ),
            "releases_seen": sorted({r for *_, r in client.calls}),
        }
    roll_s = lines[-1][0] - lines[0][0]
    return {"hosts": size, "connection": "ssh", "roll_s": round(roll_s, 2), "per_host": per_host}


def show(figures: dict[str, object]) -> None:
    """The table: per host, its turn and the worst latency its client saw during it."""
    per_host = figures["per_host"]
    assert isinstance(per_host, dict)
    print(f"roll of {figures['hosts']} hosts over ssh (serial 1): {figures['roll_s']:.1f} s")
    heads = ("turn s", "upgrade s", "worst ms (turn)", "calls", "failed", "worst ms (roll)")
    print(
        f"{'host':6} {heads[0]:>7} {heads[1]:>9} {heads[2]:>16} {heads[3]:>6} {heads[4]:>6} "
        f"{heads[5]:>16}"
    )
    for name, row in per_host.items():
        upgrade = "?" if row["upgrade_s"] is None else f"{row['upgrade_s']:.1f}"
        print(
            f"{name:6} {row['turn_s']:>7.1f} {upgrade:>9} {row['worst_ms_turn']:>16.1f} "
            f"{row['calls_turn']:>6} {row['failed_turn']:>6} {row['worst_ms_roll']:>16.1f}"
        )
