"""Roll release 1 -> 2 across 5 local nodes with the primes.release collection, and measure.

Prints the wall time of the ansible-playbook roll (serial 1) and, per node, the worst latency
its HTTP client saw: over the whole roll, and around its own turn (2 s either side of the
first reply from release 2). Not run by `make test`.

With `--ssh` (root, sshd, network namespaces), the nodes are the ssh hosts of
tests/fleet/sshhosts.py and it prints, per host, the time of its turn and the worst latency a
client of that host's node saw during it (bench/fleet_ssh.py).

Run: ``.venv/bin/python bench/fleet_bench.py [--nodes 5] [--ssh]``
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from fleet_ssh import roll_over_ssh, show  # noqa: E402

from tools.story import build, bump, copy_sources, deploy, primenode  # noqa: E402

PLAYBOOK = REPO / "ansible_collections" / "primes" / "release" / "playbooks" / "rolling_upgrade.yml"


class Client(threading.Thread):
    """GETs one node's frontman in a loop; records (time, latency ms, release) per call."""

    def __init__(self, port: int) -> None:
        super().__init__(daemon=True)
        self.port = port
        self.samples: list[tuple[float, float, str]] = []
        self.failed = 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            started = time.perf_counter()
            try:
                url = f"http://127.0.0.1:{self.port}/"
                with urllib.request.urlopen(url, timeout=10) as reply:
                    release = str(json.loads(reply.read()).get("release"))
            except Exception:
                self.failed += 1
                release = "?"
            now = time.perf_counter()
            self.samples.append((now, (now - started) * 1000, release))
            time.sleep(0.005)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=5)
    parser.add_argument("--ssh", action="store_true", help="roll ssh hosts (network namespaces)")
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="fleet-bench-") as tmp:
        work = Path(tmp)
        src = copy_sources(work / "src")
        one = build(src, work / "dist")
        bump(src, "2")
        two = build(src, work / "dist")
        if opts.ssh:
            over_ssh = roll_over_ssh(opts.nodes, one, two, work)
            show(over_ssh)
            print(json.dumps(over_ssh))
            return 0
        roots = [work / f"node{i}" / "primenode" for i in range(1, opts.nodes + 1)]
        for root in roots:
            deploy(one, root)
            primenode(root, "start")
        try:
            hosts = work / "hosts.ini"
            hosts.write_text(
                "[primes]\n"
                + "".join(
                    f"node{i} ansible_connection=local primes_root={root} "
                    f"ansible_python_interpreter={sys.executable}\n"
                    for i, root in enumerate(roots, 1)
                ),
                encoding="utf-8",
            )
            clients = [Client(int(primenode(r, "rpc", "frontman", "port").stdout)) for r in roots]
            for client in clients:
                client.start()
            time.sleep(1.0)
            env = {**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(REPO), "ANSIBLE_NOCOLOR": "1"}
            env["PRIMES_PYTHON"] = sys.executable
            argv = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(hosts)]
            argv += [str(PLAYBOOK), "-e", f"primes_package={two}"]
            started = time.perf_counter()
            proc = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
            roll_s = time.perf_counter() - started
            time.sleep(1.0)
            for client in clients:
                client.stop.set()
                client.join(15)
        finally:
            for root in roots:
                primenode(root, "stop", check=False)
    if proc.returncode != 0:
        print(proc.stdout[-3000:], proc.stderr[-2000:], file=sys.stderr)
        return 1
    recap = re.findall(r"^(node\d+)\s+:.*changed=(\d+).*failed=(\d+)", proc.stdout, re.M)
    print(f"roll of {opts.nodes} nodes (serial 1, ansible_connection=local): {roll_s:.1f} s")
    print(f"{'node':6} {'calls':>6} {'failed':>6} {'worst ms (roll)':>16} {'worst ms (turn)':>16}")
    figures: dict[str, object] = {"nodes": opts.nodes, "roll_s": round(roll_s, 2), "per_node": {}}
    for i, client in enumerate(clients, 1):
        switch = next((t for t, _, rel in client.samples if rel == "2"), None)
        worst_roll = max((ms for _, ms, _ in client.samples), default=0.0)
        turn = [ms for t, ms, _ in client.samples if switch is not None and abs(t - switch) <= 2]
        worst_turn = max(turn, default=0.0)
        print(
            f"node{i:<2} {len(client.samples):>6} {client.failed:>6} "
            f"{worst_roll:>16.1f} {worst_turn:>16.1f}"
        )
        per_node = figures["per_node"]
        assert isinstance(per_node, dict)
        per_node[f"node{i}"] = {
            "calls": len(client.samples),
            "failed": client.failed,
            "worst_ms_roll": round(worst_roll, 1),
            "worst_ms_turn": round(worst_turn, 1),
        }
    print("recap:", ", ".join(f"{h} changed={c} failed={f}" for h, c, f in recap))
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
