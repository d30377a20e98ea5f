"""The CLI's own cost: CPU time and wall time of one `bin/primenode` command against a running
node, for the lean path (`ping`) and the full CLI (`versions --json`, `rpc os getpid`), beside
a bare `python3 -c pass` in the same run.

Not part of `make bench`: a figure for comparing two versions of the CLI (run it in each
checkout, or before and after a change). Each command runs CALLS times in a row; the CPU is
the calls' own (user + system of the waited-for children, the start script's `sh` included),
the node's is not counted.

Run: ``.venv/bin/python bench/cli_bench.py [--quick] [--dist DIR]``. Prints JSON, then a table.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_node import PYTHON, releases, running_node
from bench_report import emit, options

CALLS = 30
QUICK_CALLS = 5
COMMANDS = (("ping",), ("versions", "--json"), ("rpc", "os", "getpid"))


def per_call(argv: list[str], calls: int) -> tuple[float, float]:
    """Milliseconds of CPU and of wall time per run of `argv` (each must exit 0)."""
    before = os.times()
    started = time.perf_counter()
    for _ in range(calls):
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = os.times()
    cpu = (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )
    return cpu * 1e3 / calls, wall * 1e3 / calls


def main() -> int:
    opts = options(__doc__.splitlines()[0] if __doc__ else "")
    calls = QUICK_CALLS if opts.quick else CALLS
    results: dict[str, object] = {"calls": calls}
    rows: list[tuple[str, str]] = []
    cpu, wall = per_call([PYTHON, "-c", "pass"], calls)
    results["python_c_pass"] = {"cpu_ms": round(cpu, 1), "wall_ms": round(wall, 1)}
    rows.append(("python3 -c pass", f"{cpu:.1f} ms CPU, {wall:.1f} ms wall"))
    with tempfile.TemporaryDirectory(prefix="primes-bench-") as tmp:
        scratch = Path(tmp)
        rel = releases(opts.dist or scratch / "dist")
        with running_node(rel.one, scratch / "node") as root:
            script = str(root / "bin" / "primenode")
            for command in COMMANDS:
                cpu, wall = per_call([script, *command], calls)
                name = " ".join(command)
                results[name] = {"cpu_ms": round(cpu, 1), "wall_ms": round(wall, 1)}
                rows.append((f"bin/primenode {name}", f"{cpu:.1f} ms CPU, {wall:.1f} ms wall"))
    emit("cli", results, rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
