"""The 10,000-process upgrade's longest pause beside the in-process primitive, A B A B.

A: a node runs the swarm app (scale_bench.py) and is upgraded 1 -> 2 with `bin/primenode
upgrade`; the longest pause is the node's own report. B: a fresh interpreter suspends,
swaps, code_changes and resumes 10,000 processes in-process (runtime_bench.py's primitive).
Each round runs one of each, in turn, so both see the same machine; min / median / max.

Run: ``.venv/bin/python bench/pause_bench.py [--quick]`` (quick: 2 rounds). Not in
``make bench`` (its scale_bench and runtime_bench rows hold the same figures, a script apart).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from bench_node import running_node
from bench_report import emit, options, spread, verdict
from scale_bench import PROCESSES, swarm_releases
from upgrade_bench import Probe, upgrade_under_load

ROUNDS = 5
QUICK_ROUNDS = 2
TARGET = 2.0  # the node's longest pause <= 2x the primitive in the same round

PRIMITIVE = """
import json, sys
sys.path.insert(0, {bench!r})
import runtime_bench as rb
from primes_runtime.node import Node
with Node().entered():
    sys.modules[rb.MODULE] = rb._make_module(1)
    print(json.dumps(rb.bench_processes()["suspend_swap_resume_ms"]))
"""


def primitive_ms() -> float:
    """One run of the in-process primitive, in a fresh interpreter."""
    code = PRIMITIVE.format(bench=str(Path(__file__).resolve().parent))
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300
    )
    return float(out.stdout.strip().splitlines()[-1])


def main() -> int:
    opts = options(__doc__.splitlines()[0] if __doc__ else "")
    rounds = QUICK_ROUNDS if opts.quick else ROUNDS
    node_ms: list[float] = []
    prim_ms: list[float] = []
    with tempfile.TemporaryDirectory(prefix="primes-bench-") as tmp:
        scratch = Path(tmp)
        one, two = swarm_releases(scratch, PROCESSES)
        for _ in range(rounds):
            with running_node(one, scratch / "node-swarm") as root:
                up = upgrade_under_load(root, two, Probe(root, "swarm.worker", "ping"))
            node_ms.append(float(up["node_reported_pause_ms"]))  # type: ignore[arg-type]
            prim_ms.append(primitive_ms())
    ratios = [n / p for n, p in zip(node_ms, prim_ms, strict=True)]
    met = sum(r <= TARGET for r in ratios)
    results: dict[str, object] = {
        "processes": PROCESSES,
        "rounds": rounds,
        "node_longest_pause_ms": node_ms,
        "in_process_primitive_ms": prim_ms,
        "ratio": [round(r, 2) for r in ratios],
        "targets": {"within_2x_every_round": met == rounds},
    }
    n, p, r = spread(node_ms, 1), spread(prim_ms, 1), spread(ratios, 2)
    emit(
        "pause_bench",
        results,
        [
            (f"{PROCESSES:,}-process upgrade, longest pause (node report)", _mmm(n, "ms")),
            ("in-process suspend+swap+code_change+resume", _mmm(p, "ms")),
            ("ratio, same round", f"{r['min']:.2f} / {r['median']:.2f} / {r['max']:.2f}"),
            (f"target <= {TARGET:g}x in every round", f"{verdict(met == rounds)} ({met}/{rounds})"),
        ],
    )
    return 0


def _mmm(values: dict[str, float], unit: str) -> str:
    return f"{values['min']:.1f} / {values['median']:.1f} / {values['max']:.1f} {unit}"


if __name__ == "__main__":
    raise SystemExit(main())
