"""A kill or an EIO at every file-system step of upgrade, downgrade and uninstall, injected with
strace into the node bin/primenode started; afterwards the tree is consistent and the
operation can be retried to success (docs/release-handling.md, "Crash consistency")."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from primes_runtime.control import pidfile

from .conftest import Script, build_tree, make_package

#: The file-system calls of a release operation (strace counts each call kind per thread).
SYSCALLS = ("rename", "renameat", "renameat2", "unlink", "unlinkat", "rmdir", "mkdir", "fsync")
FAULTS = ("signal=KILL", "error=EIO")
_CALL = re.compile(r"^(\d+) +(\w+)\(")


@dataclass(frozen=True)
class Op:
    """One release operation run on a tree in state `before`, and what it leads to."""

    name: str
    args: tuple[str, ...]
    before: str
    done: Callable[[dict[str, str], str], bool]


@dataclass(frozen=True)
class Trees:
    """Snapshots of a stopped tree in each state an operation starts from, and package 2."""

    base: Path
    package: Path

    def copy(self, state: str, name: str) -> Script:
        """A copy of a snapshot, hard-linked: the node replaces files, it never rewrites one
        (the snapshots hold no log/, run/ or .node.lock)."""
        target = self.base / "work" / name / "primenode"
        shutil.copytree(self.base / state / "primenode", target, copy_function=os.link)
        return Script(target)

    def snapshot(self, node: Script, state: str) -> None:
        """Keep the stopped tree of `node` as `state`."""
        target = self.base / state / "primenode"
        shutil.copytree(node.root, target, symlinks=True)
        for private in ("log", "run"):
            shutil.rmtree(target / private)
        (target / ".node.lock").unlink()


def runs_permanent(version: str) -> Callable[[dict[str, str], str], bool]:
    """Done when the node runs `version` and it is permanent."""
    return lambda versions, running: running == version and versions.get(version) == "permanent"


def gone(version: str) -> Callable[[dict[str, str], str], bool]:
    """Done when the node no longer knows `version`."""
    return lambda versions, running: version not in versions


OPS = {
    "upgrade": Op("upgrade", ("{package}",), "one", runs_permanent("2")),
    "downgrade": Op("downgrade", ("1",), "two", runs_permanent("1")),
    "uninstall": Op("uninstall", ("2",), "back", gone("2")),
}


@pytest.fixture(scope="module")
def trees(tmp_path_factory: pytest.TempPathFactory) -> Trees:
    """Release 1 alone ('one'), upgraded to 2 ('two'), downgraded back ('back'); bytecode
    caches warm, so a run's steps are the same every time."""
    base = tmp_path_factory.mktemp("crash")
    package = make_package(base)
    root = build_tree(base / "first" / "primenode")
    node = Script(root)
    node.ok("start")
    for command in (("upgrade", str(package)), ("downgrade", "1"), ("uninstall", "2")):
        node.ok(*command)
    node.ok("stop")
    trees = Trees(base, package)
    trees.snapshot(node, "one")
    for before, command, after in (("one", "upgrade", "two"), ("two", "downgrade", "back")):
        step = trees.copy(before, f"to-{after}")
        step.ok("start")
        step.ok(command, str(package) if command == "upgrade" else "1")
        step.ok("stop")
        trees.snapshot(step, after)
    return trees


def args_of(op: Op, trees: Trees) -> list[str]:
    return [a.format(package=trees.package) for a in op.args]


def started(node: Script) -> int:
    """Start the node with bin/primenode; its pid."""
    node.ok("start")
    record = pidfile.load(node.root / "run" / "node.pid")
    assert record is not None
    return record.pid


def traced(pid: int, options: list[str]) -> subprocess.Popen[bytes]:
    """strace attached to every thread of `pid` (and what it forks), once it is attached."""
    tracer = subprocess.Popen(["strace", "-qq", "-f", "-p", str(pid), *options])
    deadline = time.monotonic() + 10.0
    while time.monotonic() < deadline:
        statuses = [_status(t) for t in Path(f"/proc/{pid}/task").iterdir()]
        if all(re.search(r"^TracerPid:\s+[1-9]", s, re.M) for s in statuses if s is not None):
            return tracer
        time.sleep(0.02)
    tracer.kill()
    raise AssertionError("strace did not attach")


def _status(task: Path) -> str | None:
    """A thread's /proc status; None if it ended meanwhile (the node's short-lived threads:
    a collector timer, the bytecode compiler's reaper), as it then needs no tracer. A thread
    that ends between the listing and the read fails the read with ESRCH, not ENOENT."""
    try:
        return (task / "status").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None


def untraced(tracer: subprocess.Popen[bytes]) -> None:
    if tracer.poll() is None:
        tracer.terminate()  # strace detaches and leaves the node running
    try:
        tracer.wait(timeout=10)
    except subprocess.TimeoutExpired:
        # strace can hang detaching from threads the injected SIGKILL is taking down; its own
        # exit detaches whatever is left (the checks below are on the node and its tree).
        tracer.kill()
        tracer.wait(timeout=10)


def step_counts(trees: Trees, op: Op) -> Counter[str]:
    """How many calls of each kind the operation's thread makes (the busiest thread; the
    unpack child's own calls are faulted along, at the same numbers)."""
    node = trees.copy(op.before, f"{op.name}-count")
    pid = started(node)
    out = node.root.parent / "trace.txt"
    tracer = traced(pid, ["-e", f"trace={','.join(SYSCALLS)}", "-o", str(out)])
    node.ok(op.name, *args_of(op, trees))
    untraced(tracer)
    node.ok("stop")
    per_thread: dict[str, Counter[str]] = {}
    for line in out.read_text().splitlines():
        found = _CALL.match(line)
        if found:
            per_thread.setdefault(found[1], Counter())[found[2]] += 1
    return max(per_thread.values(), key=lambda calls: calls.total())


def lib_dirs_of(root: Path, version: str) -> set[str]:
    data = json.loads((root / "releases" / version / "release.json").read_text())
    return {data["runtime"]["path"], *(app["path"] for app in data["apps"])}


def assert_consistent(node: Script) -> tuple[dict[str, str], str]:
    """The node answers; versions agrees with releases/, start_data with RELEASES' permanent
    release, every lib/ dir belongs to a listed release, and no leftovers are left."""
    result = json.loads(node.ok("versions", "--json"))  # a release operation: recovery ran
    versions = {r["version"]: r["status"] for r in result["releases"]}
    # the node marks the release it runs "current", unless that one is permanent
    current = [v for v, status in versions.items() if status == "current"]
    running = current[0] if current else next(v for v, s in versions.items() if s == "permanent")
    root = node.root
    releases = root / "releases"
    on_disk = {d.name for d in releases.iterdir() if (d / "release.json").is_file()}
    stored = json.loads((releases / "RELEASES").read_text())["releases"]
    assert on_disk == {r["version"] for r in stored} == set(versions), (on_disk, versions)
    permanent = [r["version"] for r in stored if r["status"] == "permanent"]
    start = (releases / "start_data").read_text().split()
    assert [start[0]] == permanent and start[1] in lib_dirs_of(root, start[0])
    assert (root / start[1] / "primes_runtime").is_dir()
    used = set().union(*(lib_dirs_of(root, v) for v in on_disk))
    assert {f"lib/{d.name}" for d in (root / "lib").iterdir()} == used
    leftovers = [p.name for p in releases.iterdir() if p.name.startswith(".")]
    assert leftovers == [], leftovers
    return versions, running


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")


def recovers(trees: Trees, op: Op, call: str, n: int, fault: str) -> None:
    """Inject `fault` at the n-th `call` of `op`, then check the tree and retry the op."""
    node = trees.copy(op.before, f"{op.name}-{call}-{n}-{fault.split('=')[1]}")
    pid = started(node)
    try:
        tracer = traced(pid, ["-o", "/dev/null", "-e", f"trace={call}",
                              "-e", f"inject={call}:{fault}:when={n}"])  # fmt: skip
    except BaseException:
        end(pid)
        raise
    first = node.run(op.name, *args_of(op, trees), timeout=60)
    untraced(tracer)
    where = f"{fault} at {call} #{n} of {op.name}"
    assert "Traceback" not in first.stdout + first.stderr, where
    if first.returncode != 0:
        assert len(first.stderr.strip().splitlines()) == 1, (where, first.stderr)
    killed = not alive(pid)
    if killed:
        pid = started(node)
    try:
        versions, running = assert_consistent(node)
        if killed:
            assert versions.get(running) == "permanent", (where, versions, running)
        if not op.done(versions, running):
            node.ok(op.name, *args_of(op, trees))
            versions, running = assert_consistent(node)
            assert op.done(versions, running), (where, versions, running)
    finally:
        end(pid)
    shutil.rmtree(node.root.parent)


def end(pid: int) -> None:
    """Kill the node this test started (by its pid: its state is checked, a stop adds
    nothing) and wait until it is gone."""
    if alive(pid):
        os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10.0
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.01)


@pytest.mark.e2e
@pytest.mark.parametrize("name", sorted(OPS))
def test_a_kill_or_an_eio_at_every_file_system_step_leaves_a_tree_the_retry_completes(
    trees: Trees, name: str
) -> None:
    op = OPS[name]
    counts = step_counts(trees, op)
    assert counts["rename"] >= 2 or counts["renameat"] >= 2 or counts["renameat2"] >= 2
    cases = [
        (call, n, fault)
        for call, count in sorted(counts.items())
        for n in range(1, count + 1)
        for fault in FAULTS
    ]
    print(f"{name}: steps {dict(sorted(counts.items()))}, {len(cases)} faults")  # pytest -s
    with ThreadPoolExecutor(max_workers=2) as pool:  # each case has its own tree and node
        for done in [pool.submit(recovers, trees, op, *case) for case in cases]:
            done.result()
