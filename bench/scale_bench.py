"""Scale: an upgrade whose script suspends 10,000 processes, and the miner's pause as its state
grows to 2,000,000 primes (code_change does not transform the primes).

Run: ``.venv/bin/python bench/scale_bench.py [--quick] [--dist DIR]``. The 10,000 processes
come from a bench-only app (`swarm`) generated into a scratch copy of the sources; the
project's apps are not changed. Prints JSON, then a table.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import textwrap
from pathlib import Path

from bench_node import (
    build,
    bump,
    connect,
    copy_sources,
    give_primes,
    releases,
    running_node,
)
from bench_report import emit, options, verdict
from upgrade_bench import Probe, upgrade_under_load

PROCESSES = 10_000
QUICK_PROCESSES = 1_000
SIZES = (1_000, 200_000, 2_000_000)
QUICK_SIZES = (1_000, 20_000, 100_000)
FLAT_FACTOR = 2.0  # "does not grow": pause at the largest state <= 2x the smallest's + 2 ms
FLAT_SLACK_MS = 2.0

SWARM_FILES = {
    "pyproject.toml": """
        [build-system]
        requires = ["setuptools>=68"]
        build-backend = "setuptools.build_meta"

        [project]
        name = "swarm"
        version = "1"
        description = "Benchmark app: many idle servers under a simple_one_for_one supervisor."
        requires-python = ">=3.11"
        dependencies = ["primes-runtime"]

        [tool.setuptools]
        packages = ["swarm"]

        [tool.primes.app]
        description = "Benchmark app: many idle servers under a simple_one_for_one supervisor."
        start = "swarm.app:start"
        needs = []
        env = {{ processes = {processes} }}

        [tool.primes.app.upgrade."2"]
        up_from."1" = [ {{ update = "swarm.worker", extra = "up", timeout = 30.0 }} ]
        down_to."1" = [ {{ update = "swarm.worker", extra = "down", timeout = 30.0 }} ]
        """,
    "swarm/__init__.py": '''
        """swarm: a benchmark app of many idle server processes."""
        ''',
    "swarm/app.py": '''
        """swarm's application callback: a simple_one_for_one supervisor and its workers."""

        from primes_runtime import Pid, app_env, supervisor


        def start() -> Pid:
            sup = supervisor.start("swarm.sup", name="swarm_sup")
            for index in range(int(app_env("swarm", "processes"))):
                supervisor.start_child(sup, (index,))
            return sup
        ''',
    "swarm/sup.py": '''
        """swarm's supervisor: every worker from one template."""

        from primes_runtime.supervisor import ChildSpec, SupSpec


        def init(args: object) -> SupSpec:
            worker = ChildSpec(id="worker", start=("swarm.worker", "start_link", ()))
            return SupSpec(strategy="simple_one_for_one", intensity=10, period=5.0,
                           children=[worker])
        ''',
    "swarm/worker.py": '''
        """One idle worker: answers `ping` with its index; code_change records the extra."""

        from primes_runtime import Pid, call, start_server
        from primes_runtime.server import Reply


        def start_link(index: int) -> Pid:
            return start_server(__name__, index, name="swarm_0" if index == 0 else None)


        def init(index: int) -> dict[str, object]:
            return {"index": index, "changes": []}


        def handle_call(request: object, caller: object, state: dict) -> Reply:
            return Reply(state["index"], state)


        def code_change(old_vsn: object, state: dict, extra: object) -> dict:
            return {**state, "changes": [*state["changes"], extra]}


        def ping() -> object:
            return call("swarm_0", "ping")
        ''',
}


def swarm_releases(scratch: Path, processes: int) -> tuple[Path, Path]:
    """Build releases 1 and 2 of the sources plus the swarm app (only swarm changes)."""
    src, dist = scratch / "src-swarm", scratch / "dist-swarm"
    shutil.rmtree(src, ignore_errors=True)
    copy_sources(src)
    app = src / "apps" / "swarm"
    for name, text in SWARM_FILES.items():
        path = app / name
        path.parent.mkdir(parents=True, exist_ok=True)
        body = textwrap.dedent(text).lstrip()
        path.write_text(body.format(processes=processes) if name.endswith(".toml") else body)
    toml = src / "primes.toml"
    toml.write_text(
        toml.read_text().replace("[node]", '[apps.swarm]\npath = "apps/swarm"\n\n[node]', 1)
    )
    one = build(src, dist)
    bump(src, "2", app="swarm")
    two = build(src, dist)
    return one, two


def many_processes(scratch: Path, processes: int) -> dict[str, object]:
    """The upgrade 1 -> 2 that suspends, changes and resumes every swarm worker."""
    one, two = swarm_releases(scratch, processes)
    with running_node(one, scratch / "node-swarm") as root:
        upgrade = upgrade_under_load(root, two, Probe(root, "swarm.worker", "ping"))
    with running_node(one, scratch / "node-swarm") as root:
        plain = upgrade_under_load(root, two, Probe(root))  # a probe on the untouched miner
    return {"processes": processes, "probe_on_swarm_worker": upgrade, "probe_on_miner": plain}


def state_sizes(dist: Path, sizes: tuple[int, ...], scratch: Path) -> list[dict[str, object]]:
    """The miner's upgrade pause with `size` primes in its state, for each size."""
    rel = releases(dist)
    rows: list[dict[str, object]] = []
    for size in sizes:
        with running_node(rel.one, scratch / "node-size") as root:
            with connect(root) as client:
                give_primes(client, size)
            upgrade = upgrade_under_load(root, rel.two)
        rows.append({"primes": size, **upgrade})
    return rows


def main() -> int:
    opts = options(__doc__.splitlines()[0] if __doc__ else "")
    processes = QUICK_PROCESSES if opts.quick else PROCESSES
    sizes = QUICK_SIZES if opts.quick else SIZES
    with tempfile.TemporaryDirectory(prefix="primes-bench-") as tmp:
        scratch = Path(tmp)
        many = many_processes(scratch, processes)
        by_size = state_sizes(opts.dist or scratch / "dist", sizes, scratch)
    swarm = many["probe_on_swarm_worker"]
    miner = many["probe_on_miner"]
    assert isinstance(swarm, dict) and isinstance(miner, dict)
    small, large = by_size[0], by_size[-1]
    small_ms = float(small["node_reported_pause_ms"])  # type: ignore[arg-type]
    large_ms = float(large["node_reported_pause_ms"])  # type: ignore[arg-type]
    flat = large_ms <= FLAT_FACTOR * small_ms + FLAT_SLACK_MS
    errors = sum(int(r["client_errors"]) for r in [swarm, miner, *by_size])  # type: ignore[call-overload]
    targets = {"pause_flat_in_state_size": flat, "no_client_errors": errors == 0}
    results: dict[str, object] = {
        "many_processes": many,
        "state_sizes": by_size,
        "pause_growth_largest_over_smallest": round(large_ms / small_ms, 1) if small_ms else None,
        "targets": targets,
    }
    rows = [
        (f"upgrade suspending {processes:,} processes: wall", f"{swarm['upgrade_wall_s']:.3f} s"),
        ("  processes paused (node report)", f"{swarm['processes_paused']:,}"),
        ("  longest pause (node report)", f"{swarm['node_reported_pause_ms']:.1f} ms"),
        ("  client on a swarm worker: worst / p99",
         f"{swarm['during_upgrade']['max_ms']:.1f} / {swarm['during_upgrade']['p99_ms']:.1f} ms"),
        ("  client on the miner: worst / p99",
         f"{miner['during_upgrade']['max_ms']:.1f} / {miner['during_upgrade']['p99_ms']:.1f} ms"),
    ]  # fmt: skip
    for row in by_size:
        during = row["during_upgrade"]
        assert isinstance(during, dict)
        rows.append(
            (
                f"{row['primes']:,} primes: miner pause / client worst",
                f"{row['node_reported_pause_ms']:.1f} / {during['max_ms']:.1f} ms",
            )
        )
    rows += [
        ("target pause flat in state size", verdict(flat)),
        ("no client errors", verdict(errors == 0)),
    ]
    emit("scale", results, rows)
    return 0 if errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
