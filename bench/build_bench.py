"""Build: `python -m build` of release 2 with release 1's package present, cold (no wheel
cache) and with the unchanged apps' cached wheels reused, alternating in the same run.

Run: ``.venv/bin/python bench/build_bench.py [--quick]``. Prints JSON, then a table.
"""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench_node import build, bump, copy_sources
from bench_report import emit, options

ROUNDS = 2
QUICK_ROUNDS = 1
CACHE = ".primes-cache"


def main() -> int:
    opts = options(__doc__.splitlines()[0] if __doc__ else "")
    rounds = QUICK_ROUNDS if opts.quick else ROUNDS
    cold: list[float] = []
    warm: list[float] = []
    with tempfile.TemporaryDirectory(prefix="primes-bench-") as tmp:
        scratch = Path(tmp)
        src = copy_sources(scratch / "src")
        first = scratch / "dist-1"
        start = time.perf_counter()
        one = build(src, first)
        release_one_s = time.perf_counter() - start
        bump(src, "2")
        for index in range(rounds):
            for kind, samples in (("cold", cold), ("reused", warm)):
                outdir = scratch / f"dist-{kind}-{index}"
                outdir.mkdir()
                shutil.copy2(one, outdir / one.name)
                if kind == "reused":
                    shutil.copytree(first / CACHE, outdir / CACHE)
                start = time.perf_counter()
                build(src, outdir)
                samples.append(time.perf_counter() - start)
    cold_s, warm_s = statistics.median(cold), statistics.median(warm)
    results: dict[str, object] = {
        "rounds": rounds,
        "release_1_cold_s": round(release_one_s, 3),
        "release_2_cold_s": [round(s, 3) for s in cold],
        "release_2_reused_s": [round(s, 3) for s in warm],
        "release_2_cold_median_s": round(cold_s, 3),
        "release_2_reused_median_s": round(warm_s, 3),
        "speedup": round(cold_s / warm_s, 2),
    }
    rows = [
        ("python -m build, release 1 (cold)", f"{release_one_s:.2f} s"),
        ("release 2 with 1 present, cold", f"{cold_s:.2f} s (median of {rounds})"),
        ("release 2, unchanged apps reused", f"{warm_s:.2f} s (median of {rounds})"),
        ("reuse speed-up", f"{cold_s / warm_s:.2f}x"),
    ]
    emit("build", results, rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
