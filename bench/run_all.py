"""`make bench`: run every benchmark script in turn, print what each prints, and write
bench/results/latest.json with the date, the machine and every figure; the scripts behind
the headline figures run REPEATS times, and their table (summary.py) closes the output.

Run: ``.venv/bin/python bench/run_all.py [--quick]`` (``--quick``: a fast smoke run with
smaller state; its results go to bench/results/quick.json instead).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_node import machine, releases
from summary import table

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"
SCRIPTS = (
    "upgrade_bench.py",
    "http_bench.py",
    "scale_bench.py",
    "start_bench.py",
    "build_bench.py",
    "deps_bench.py",
    "runtime_bench.py",
    "asgi_throughput.py",
)
REPEATED = (
    "upgrade_bench.py",
    "scale_bench.py",
    "start_bench.py",
    "build_bench.py",
    "runtime_bench.py",
)
"""The scripts behind the headline figures: each runs REPEATS times in one run."""
ROUNDED = ("asgi_throughput.py",)
"""Headline scripts that alternate their comparison over rounds themselves, once a run: their
round i is taken as run i of the table."""
REPEATS = 5
QUICK_REPEATS = 1
SHARED_DIST = ("upgrade_bench.py", "http_bench.py", "scale_bench.py", "start_bench.py")


def run(script: str, quick: bool, dist: Path) -> tuple[int, object, float]:
    """Run one script; its exit status, the JSON object it printed first, its wall time."""
    argv = [sys.executable, str(BENCH / script)]
    if script != "runtime_bench.py" and quick:
        argv.append("--quick")
    if script in SHARED_DIST:
        argv += ["--dist", str(dist)]
    print(f"==> {' '.join(argv[1:])}", flush=True)
    start = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    sys.stdout.write(proc.stdout)
    if proc.returncode != 0:
        sys.stdout.write(proc.stderr)
    try:
        figures, _ = json.JSONDecoder().raw_decode(proc.stdout.lstrip())
    except ValueError:
        figures = {"error": (proc.stderr.strip() or "no JSON output").splitlines()[-1]}
    return proc.returncode, figures, wall


def one_round(figures: object, number: int) -> object:
    """A ROUNDED script's figures with its round `number` as "round" (the table reads it)."""
    if not isinstance(figures, dict):
        return figures
    rounds = figures.get("rounds")
    if not isinstance(rounds, list) or number >= len(rounds):
        return figures
    return {**figures, "round": rounds[number]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--quick", action="store_true", help="fast smoke run, smaller state")
    opts = parser.parse_args()
    report: dict[str, object] = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "quick": opts.quick,
        "benchmarks": {},
    }
    benchmarks: dict[str, object] = {}
    failed: list[str] = []
    with tempfile.TemporaryDirectory(prefix="primes-bench-") as tmp:
        dist = Path(tmp) / "dist"
        print("==> building releases 1 and 2 (shared by the scripts)", flush=True)
        releases(dist)
        repeats = QUICK_REPEATS if opts.quick else REPEATS
        runs: list[dict[str, object]] = [{} for _ in range(repeats)]
        for script in SCRIPTS:
            name = script.removesuffix(".py")
            rounds = []
            for index in range(repeats if script in REPEATED else 1):
                if script in REPEATED:
                    print(f"==> run {index + 1} of {repeats}", flush=True)
                code, figures, wall = run(script, opts.quick, dist)
                rounds.append({"exit_status": code, "wall_s": round(wall, 1), "results": figures})
                if script in REPEATED:
                    runs[index][name] = figures
                if script in ROUNDED:
                    for number, each in enumerate(runs):
                        each[name] = one_round(figures, number)
                if code != 0:
                    failed.append(script)
            benchmarks[name] = rounds[0] if len(rounds) == 1 else {"runs": rounds}
    rows, text = table(runs)
    report["issue_18"] = rows
    report["benchmarks"] = benchmarks
    report["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / ("quick.json" if opts.quick else "latest.json")
    out.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(text)
    print(f"machine: {report['machine']}; load average at the end: {report['load_average_at_end']}")
    print()
    print(f"wrote {out}")
    if failed:
        print(f"non-zero exit: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
