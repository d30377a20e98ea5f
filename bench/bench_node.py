"""Benchmarks' access to real nodes: build, deploy, start, talk over the control channel."""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from primes_runtime.control.client import Client as Client  # noqa: E402
from primes_runtime.control.cookie import client_cookie  # noqa: E402
from primes_runtime.control.tree import Tree  # noqa: E402

from tools.story import Result  # noqa: E402
from tools.story import build as build  # noqa: E402
from tools.story import bump as bump  # noqa: E402
from tools.story import copy_sources as copy_sources  # noqa: E402
from tools.story import deploy as deploy  # noqa: E402
from tools.story import primenode as primenode  # noqa: E402

PYTHON = os.environ.setdefault("PRIMES_PYTHON", os.path.realpath(sys.executable))
"""The interpreter every `bin/primenode` of the benchmarks runs: the real binary behind this
venv. On a machine where `python3` on PATH is a pyenv shim (a shell script that costs ~0.1 s
per command), the figures would otherwise be pyenv's, not primes'."""

PAUSE_LINE = re.compile(r"^\s*paused (\S+)(?: (\S+))? \((\S+)\) ([0-9.]+) ms$", re.M)


class BenchError(Exception):
    """A benchmark could not run; str() says which step and why."""


@dataclass(frozen=True)
class Releases:
    """Packages of release 1 and 2 of the project's own sources (the seed's 1 -> 2)."""

    one: Path
    two: Path


def releases(dist: Path) -> Releases:
    """Packages 1 and 2 in `dist`, built there (from a scratch copy of the sources) if absent."""
    one, two = dist / "primenode_1.tar.gz", dist / "primenode_2.tar.gz"
    if one.is_file() and two.is_file():
        return Releases(one, two)
    src = dist.parent / "src-seed"
    shutil.rmtree(src, ignore_errors=True)
    copy_sources(src)
    one = build(src, dist)
    bump(src, "2")
    two = build(src, dist)
    return Releases(one, two)


def timed(root: Path, *args: str, timeout: float = 300) -> tuple[float, Result]:
    """`ROOT/bin/primenode ARGS...` and its wall time in seconds."""
    start = time.perf_counter()
    result = primenode(root, *args, timeout=timeout)
    return time.perf_counter() - start, result


@contextmanager
def running_node(package: Path, root: Path) -> Iterator[Path]:
    """Deploy `package` into an empty `root`, start it; stop it (whatever happens) at the end."""
    shutil.rmtree(root, ignore_errors=True)
    deploy(package, root)
    primenode(root, "start")
    try:
        yield root
    finally:
        primenode(root, "stop", check=False)


def connect(root: Path) -> Client:
    """A persistent authenticated control connection (what bin/primenode opens per command)."""
    tree = Tree(root)
    return Client.connect(tree, lambda: client_cookie(tree, None), timeout=30.0)


def node_eval(client: Client, code: str) -> str:
    """Run `code` in the node (as `bin/primenode eval`); the repr of its last expression."""
    client.settimeout(300.0)
    value = client.request("eval", code=textwrap.dedent(code)).value
    return "" if value is None else str(value)


def rpc(client: Client, module: str, function: str) -> str:
    """`bin/primenode rpc MODULE FUNCTION` over an open connection; the printed value."""
    return str(client.request("rpc", module=module, function=function, args=[]).value)


def node_pid(root: Path) -> int:
    """The node's OS pid (`bin/primenode pid`)."""
    return int(primenode(root, "pid").stdout.strip())


def rss_mb(pid: int) -> float:
    """Resident set size of an OS process in MB (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    raise BenchError(f"no VmRSS in /proc/{pid}/status")


def pauses_ms(upgrade_output: str) -> list[float]:
    """The per-process pauses an upgrade's report lists: from `upgrade --json`'s "pauses",
    else from its text's `paused <pid> ... X ms` lines."""
    try:
        data = json.loads(upgrade_output)
    except ValueError:
        return [float(m.group(4)) for m in PAUSE_LINE.finditer(upgrade_output)]
    return [float(p["ms"]) for p in data.get("pauses", [])]


# Code run inside the node through eval. It uses only the release handler's primitives
# (suspend, snapshot, restore, resume): the apps are not changed for the benchmarks.
SIEVE = """
import math

def sieve(n):
    # The first n primes (n >= 6): the n-th prime is below n (ln n + ln ln n).
    limit = max(16, int(n * (math.log(n) + math.log(math.log(n)))) + 1)
    flags = bytearray([1]) * (limit + 1)
    flags[0:2] = b"\\0\\0"
    for i in range(2, math.isqrt(limit) + 1):
        if flags[i]:
            flags[i * i :: i] = bytes(len(range(i * i, limit + 1, i)))
    return [i for i, f in enumerate(flags) if f][:n]
"""

SWAP = """
import dataclasses
from primes_runtime import system, whereis

def swap_primes(primes):
    # Suspend the miner, put `primes` into its data, resume it; the seconds it was held.
    pid = whereis("prime_miner")
    system.suspend(pid, 60.0)
    held = time.perf_counter()
    try:
        snap = system.snapshot(pid)
        state, data, *rest = snap.state
        new = (state, {**data, "primes": primes}, *rest)
        system.restore(pid, dataclasses.replace(snap, state=new))
    finally:
        system.resume(pid)
    return time.perf_counter() - held

def miner_primes():
    pid = whereis("prime_miner")
    system.suspend(pid, 60.0)
    try:
        return system.snapshot(pid).state[1]["primes"]
    finally:
        system.resume(pid)
"""


def give_primes(client: Client, count: int) -> dict[str, float]:
    """Sieve `count` primes in the node and swap them into the miner's state."""
    code = f"""
import time
{SIEVE}
{SWAP}
t0 = time.perf_counter()
primes = sieve({count})
t1 = time.perf_counter()
held = swap_primes(primes)
del primes
(t1 - t0, held)
"""
    sieve_s, held_s = ast.literal_eval(node_eval(client, code))
    got = int(rpc(client, "pm", "count"))
    if got < count:
        raise BenchError(f"the miner holds {got} primes after the swap, expected {count}")
    return {"sieve_s": float(sieve_s), "swap_held_s": float(held_s)}


def dump_primes(client: Client, path: Path) -> tuple[int, int]:
    """Pickle the miner's primes to `path` (in the node); (count, largest) dumped."""
    code = f"""
import pickle, time
{SWAP}
primes = miner_primes()
with open({str(path)!r}, "wb") as f:
    pickle.dump(primes, f, protocol=pickle.HIGHEST_PROTOCOL)
(len(primes), primes[-1])
"""
    count, largest = ast.literal_eval(node_eval(client, code))
    return int(count), int(largest)


def load_primes(client: Client, path: Path) -> None:
    """Load a pickled list of primes (in the node) and swap it into the miner's state."""
    node_eval(
        client,
        f"""
import pickle, time
{SWAP}
with open({str(path)!r}, "rb") as f:
    swap_primes(pickle.load(f))
""",
    )


def machine() -> dict[str, object]:
    """The machine a run was on: cores, memory, Python."""
    mem_kb = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kb = int(line.split()[1])
    return {
        "nproc": os.cpu_count(),
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "python": sys.version.split()[0],
        "platform": sys.platform,
        "load_average_1_5_15": [round(x, 2) for x in os.getloadavg()],
    }


def log_errors(root: Path) -> list[str]:
    """ERROR lines of the node's log/node.log (a process crash, a failed request, ...)."""
    path = root / "log" / "node.log"
    if not path.is_file():
        return []
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    return [line for line in lines if " ERROR " in line]
