"""A fleet on this machine: release trees deployed side by side, ansible-playbook run for real."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.runonce import once
from tools.story import build, bump, copy_sources, deploy, primenode

REPO = Path(__file__).resolve().parents[2]
COLLECTIONS = REPO  # holds ansible_collections/primes/release
PLAYBOOKS = REPO / "ansible_collections" / "primes" / "release" / "playbooks"
BIN = Path(sys.executable).parent
MARKER = "fail_code_change"
"""A file of this name in a tree makes release 2's code_change raise on that node only."""

FAILING_CODE_CHANGE = f'''    if __import__("os").path.exists("{MARKER}"):
        raise MinerError("cannot migrate the primes: {MARKER} is set on this node")
'''
CODE_CHANGE_BODY = "    if extra is None:\n        return Next(state, MinerData(**data))\n"


@dataclass(frozen=True)
class Packages:
    """Release 1 and release 2 (the seed's bump; its code_change honours MARKER)."""

    one: Path
    two: Path


def shared_packages(factory: pytest.TempPathFactory) -> Packages:
    """`build_packages`, once per pytest run (the rolling and the ssh roll use the same two)."""
    top = once(factory, "fleet-packages", build_packages)
    return Packages(top / "dist" / "primenode_1.tar.gz", top / "dist" / "primenode_2.tar.gz")


def build_packages(workdir: Path) -> Packages:
    """Build primenode 1 and 2 with `python -m build` into one output directory."""
    src = copy_sources(workdir / "src")
    config = src / "primes.toml"
    text = config.read_text(encoding="utf-8")
    assert "\n[node]\n" in text and "\nprobation" not in text, "primes.toml's [node] changed shape"
    # A one-second probation window (node.toml's default is 5 s): each node's upgrade still
    # waits out a window before it is made permanent, and the roll waits for each node.
    config.write_text(text.replace("\n[node]\n", "\n[node]\nprobation = 1.0\n", 1), "utf-8")
    dist = workdir / "dist"
    one = build(src, dist)
    bump(src, "2")
    miner = src / "apps" / "prime_miner" / "prime_miner" / "miner.py"
    text = miner.read_text(encoding="utf-8")
    assert CODE_CHANGE_BODY in text, "prime_miner.miner.code_change changed shape"
    miner.write_text(text.replace(CODE_CHANGE_BODY, FAILING_CODE_CHANGE + CODE_CHANGE_BODY, 1))
    two = build(src, dist)
    return Packages(one, two)


@dataclass(frozen=True)
class Node:
    """One deployed, started tree."""

    name: str
    root: Path

    def cli(self, *args: str, check: bool = True) -> str:
        return primenode(self.root, *args, check=check).stdout

    def versions(self) -> dict[str, str]:
        rows = [line.split() for line in self.cli("versions").splitlines() if line.strip()]
        return {row[0]: row[1] for row in rows}

    def count(self) -> int:
        return int(self.cli("rpc", "pm", "count"))

    def port(self) -> int:
        return int(self.cli("rpc", "frontman", "port"))

    def get(self, port: int, timeout: float = 5.0) -> dict[str, object]:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=timeout) as reply:
            value = json.loads(reply.read())
        assert isinstance(value, dict)
        return value


def deploy_fleet(packages: Packages, base: Path, size: int = 3) -> list[Node]:
    """`size` trees of release 1, each unpacked with tar into its own directory and started."""
    nodes = []
    for index in range(1, size + 1):
        node = Node(f"node{index}", base / f"node{index}" / "primenode")
        deploy(packages.one, node.root)
        primenode(node.root, "start")
        nodes.append(node)
    return nodes


def stop_fleet(nodes: list[Node]) -> None:
    for node in nodes:
        primenode(node.root, "stop", check=False)


def inventory(nodes: list[Node], path: Path) -> Path:
    """An INI inventory: group `primes`, one host per tree, ansible_connection=local."""
    lines = ["[primes]"]
    lines += [
        f"{n.name} ansible_connection=local primes_root={n.root} "
        f"ansible_python_interpreter={sys.executable}"
        for n in nodes
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@dataclass(frozen=True)
class Play:
    """One ansible-playbook run: exit status, output, and the PLAY RECAP per host."""

    returncode: int
    output: str
    recap: dict[str, dict[str, int]]

    def result(self, host: str, outcome: str = "changed") -> dict[str, object]:
        """The module's result for `host` (`changed`, `ok` or `fatal` line; run with -v)."""
        head = f"fatal: [{host}]: FAILED! => " if outcome == "fatal" else f"{outcome}: [{host}] => "
        found = [line[len(head) :] for line in self.output.splitlines() if line.startswith(head)]
        assert found, f"no {head!r} line in:\n{self.output}"
        value = json.loads(found[0])
        assert isinstance(value, dict)
        return value


RECAP = re.compile(r"^(?P<host>\S+)\s+:\s+(?P<counts>(?:\w+=\d+\s*)+)$", re.M)


def ansible_env(workdir: Path) -> dict[str, str]:
    """The environment ansible runs in: this repository's collections, plain output."""
    return {
        **os.environ,
        "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_HOST_KEY_CHECKING": "0",
        "ANSIBLE_LOCAL_TEMP": str(workdir / "ansible-local"),
        "ANSIBLE_REMOTE_TEMP": str(workdir / "ansible-remote"),
        "ANSIBLE_HOME": str(workdir / "ansible-home"),
        "PRIMES_PYTHON": sys.executable,
    }


def playbook(
    inventory_path: Path,
    *extra: str,
    playbook_name: str = "rolling_upgrade.yml",
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> Play:
    """Run the collection's playbook with ansible-playbook from the dev venv (in `cwd`, as
    after a `cd` in a shell; `env` on top of ansible_env's)."""
    env = {**ansible_env(inventory_path.parent), **(env or {})}
    if cwd is not None:
        env["PWD"] = str(cwd)
    argv = [
        str(BIN / "ansible-playbook"),
        "-i",
        str(inventory_path),
        str(PLAYBOOKS / playbook_name),
        *extra,
    ]
    proc = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=600)
    output = proc.stdout + proc.stderr
    recap = {
        m.group("host"): {
            key: int(value)
            for key, value in (pair.split("=") for pair in m.group("counts").split())
        }
        for m in RECAP.finditer(proc.stdout.split("PLAY RECAP", 1)[-1])
    }
    return Play(proc.returncode, output, recap)


@dataclass
class Calls:
    """What a client calling one node in a loop saw."""

    ok: int = 0
    failed: list[str] = field(default_factory=list)
    releases: set[str] = field(default_factory=set)
    worst_ms: float = 0.0


@contextmanager
def calling(nodes: list[Node]) -> Iterator[dict[str, Calls]]:
    """One client thread per node, GETting its frontman (which asks prime_miner) in a loop."""
    seen = {n.name: Calls() for n in nodes}
    ports = {n.name: n.port() for n in nodes}
    stop = threading.Event()

    def loop(node: Node) -> None:
        calls = seen[node.name]
        while not stop.is_set():
            started = time.perf_counter()
            try:
                answer = node.get(ports[node.name])
            except Exception as exc:  # every failure counts, whatever its kind
                calls.failed.append(repr(exc))
            else:
                calls.ok += 1
                calls.releases.add(str(answer.get("release")))
            calls.worst_ms = max(calls.worst_ms, (time.perf_counter() - started) * 1000)
            time.sleep(0.01)

    threads = [threading.Thread(target=loop, args=(n,), daemon=True) for n in nodes]
    for thread in threads:
        thread.start()
    try:
        yield seen
    finally:
        stop.set()
        for thread in threads:
            thread.join(10)
