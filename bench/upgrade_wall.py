"""The `upgrade` command's wall time alone, rounds alternating between builds of two trees.

Run: ``.venv/bin/python bench/upgrade_wall.py [--rounds N] DIST [DIST...]``, each DIST a
directory holding (or to receive, built from this tree's sources) primenode_1/2.tar.gz. Each
round, for each DIST in turn: a node of its release 1 whose miner holds 200,000 primes, a
client calling it (upgrade_bench's probe), then `bin/primenode upgrade --json --probation 0
primenode_2.tar.gz`. Prints each wall time, then min / median / max per DIST. A DIST built
from another checkout (`bench/upgrade_wall.py` there, or its `releases()`) is that code's
figure in the same run: the comparison noisy machines need.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

from bench_node import connect, give_primes, releases, running_node
from upgrade_bench import PRIMES, upgrade_under_load


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="rounds (default 5)")
    parser.add_argument("dists", type=Path, nargs="+", metavar="DIST")
    opts = parser.parse_args()
    walls: dict[Path, list[float]] = {dist: [] for dist in opts.dists}
    for round_ in range(1, opts.rounds + 1):
        for dist in opts.dists:
            rel = releases(dist)
            with (
                tempfile.TemporaryDirectory(prefix="primes-wall-") as tmp,
                running_node(rel.one, Path(tmp) / "node") as root,
            ):
                with connect(root) as client:
                    give_primes(client, PRIMES)
                result = upgrade_under_load(root, rel.two)
            if result["client_errors"] or result["node_log_errors"]:
                print(f"{dist}: errors: {result}", file=sys.stderr)
                return 1
            wall = float(result["upgrade_wall_s"])  # type: ignore[arg-type]
            walls[dist].append(wall)
            print(f"round {round_} {dist}: {wall:.3f} s", flush=True)
    for dist, values in walls.items():
        low, mid, high = min(values), statistics.median(values), max(values)
        print(f"{dist}: min / median / max {low:.3f} / {mid:.3f} / {high:.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
