"""Start: `bin/primenode start` until `ping` answers, and the idle node's RSS, beside a bare
Python interpreter's start time and RSS measured in the same run.

Run: ``.venv/bin/python bench/start_bench.py [--quick] [--dist DIR]``. Prints JSON, then a
table. Targets (docs/benchmarks.md): start until ping <= 0.25 s, stop <= 0.2 s (medians), idle
RSS under 40 MB.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_node import PYTHON, deploy, node_pid, primenode, releases, rss_mb, timed
from bench_report import emit, options, verdict

ROUNDS = 5
QUICK_ROUNDS = 2
IDLE_S = 1.0
TARGET_START_S = 0.25
TARGET_STOP_S = 0.2
TARGET_RSS_MB = 40.0


def bare_python() -> tuple[float, float]:
    """Wall time of `python3 -c pass`, and the RSS of an idle bare interpreter (MB), for the
    interpreter the nodes run (bench_node.PYTHON)."""
    python = PYTHON
    start = time.perf_counter()
    subprocess.run([python, "-c", "pass"], check=True)
    wall = time.perf_counter() - start
    code = "import sys; sys.stdout.write('ready\\n'); sys.stdout.flush(); sys.stdin.read()"
    with subprocess.Popen(
        [python, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as proc:
        assert proc.stdout is not None and proc.stdin is not None
        proc.stdout.readline()
        rss = rss_mb(proc.pid)
        proc.stdin.close()
    return wall, rss


def main() -> int:
    opts = options(__doc__.splitlines()[0] if __doc__ else "")
    rounds = QUICK_ROUNDS if opts.quick else ROUNDS
    starts: list[float] = []
    stops: list[float] = []
    rss: list[float] = []
    with tempfile.TemporaryDirectory(prefix="primes-bench-") as tmp:
        scratch = Path(tmp)
        rel = releases(opts.dist or scratch / "dist")
        root = deploy(rel.one, scratch / "node").parent.parent
        for _ in range(rounds):
            try:
                wall, _ = timed(root, "start")
                starts.append(wall)
                pid = node_pid(root)
                time.sleep(IDLE_S)  # let it settle to idle before reading its RSS
                rss.append(rss_mb(pid))
            finally:
                wall, _ = timed(root, "stop")
            stops.append(wall)
        ping_s = 0.0
        primenode(root, "start")
        try:
            ping_s, _ = timed(root, "ping")
        finally:
            primenode(root, "stop")
    bare_wall, bare_rss = bare_python()
    start_median = statistics.median(starts)
    stop_median = statistics.median(stops)
    rss_median = statistics.median(rss)
    targets = {
        "start_at_most_0.25s": start_median <= TARGET_START_S,
        "stop_at_most_0.2s": stop_median <= TARGET_STOP_S,
        "idle_rss_under_40mb": rss_median < TARGET_RSS_MB,
    }
    results: dict[str, object] = {
        "rounds": rounds,
        "start_s": [round(s, 3) for s in starts],
        "start_median_s": round(start_median, 3),
        "stop_s": [round(s, 3) for s in stops],
        "stop_median_s": round(stop_median, 3),
        "idle_rss_mb": [round(r, 1) for r in rss],
        "idle_rss_median_mb": round(rss_median, 1),
        "ping_command_s": round(ping_s, 3),
        "bare_python_start_s": round(bare_wall, 3),
        "bare_python_rss_mb": round(bare_rss, 1),
        "targets": targets,
    }
    rows = [
        (f"bin/primenode start until ping (median of {rounds})", f"{start_median:.3f} s"),
        ("  each", ", ".join(f"{s:.3f}" for s in starts) + " s"),
        ("bin/primenode ping (one command)", f"{ping_s:.3f} s"),
        ("python3 -c pass", f"{bare_wall:.3f} s"),
        ("idle node RSS (median)", f"{rss_median:.1f} MB"),
        ("idle bare python3 RSS", f"{bare_rss:.1f} MB"),
        ("bin/primenode stop (median)", f"{stop_median:.3f} s"),
        ("  each", ", ".join(f"{s:.3f}" for s in stops) + " s"),
        ("target start <= 0.25 s", verdict(targets["start_at_most_0.25s"])),
        ("target stop <= 0.2 s", verdict(targets["stop_at_most_0.2s"])),
        ("target idle RSS < 40 MB", verdict(targets["idle_rss_under_40mb"])),
    ]
    emit("start", results, rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
