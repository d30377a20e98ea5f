"""Before / after for ``runtime_bench.py``: the runtime of a git revision beside this
checkout's, run alternately (before, after, before, after, ...) so the machine's noise hits
both alike. Prints each run's figures, then min / median / max per side.

Run: ``.venv/bin/python bench/runtime_ab.py --before REV [--runs 5]``. The revision's
``runtime/`` is extracted with ``git archive`` into a temp dir and put first on
``PYTHONPATH`` for the "before" runs; the bench script itself is this checkout's.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent

FIGURES: dict[str, Callable[[dict[str, Any]], float]] = {
    "call p50 us": lambda r: r["primes_call"]["p50_us"],
    "thread+queue p50 us": lambda r: r["thread_queue"]["p50_us"],
    "call / thread+queue": lambda r: r["primes_call"]["p50_us"] / r["thread_queue"]["p50_us"],
    "pykka ask p50 us": lambda r: r["pykka_ask"]["p50_us"],
    "call p99 us": lambda r: r["primes_call"]["p99_us"],
    "casts /s": lambda r: r["primes_cast"]["casts_per_s"],
    "suspend+swap+resume 10k ms": lambda r: r["primes_processes"]["suspend_swap_resume_ms"],
}


def run_once(runtime: Path) -> dict[str, Any]:
    """One ``runtime_bench.py`` run with ``runtime`` first on the path; its results."""
    env = dict(os.environ, PYTHONPATH=str(runtime))
    out = subprocess.run(
        [sys.executable, str(BENCH / "runtime_bench.py")],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    results, _ = json.JSONDecoder().raw_decode(out)
    return dict(results["results"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--before", required=True, help="git revision of the 'before' runtime")
    parser.add_argument("--runs", type=int, default=5, help="runs per side (default 5)")
    args = parser.parse_args()
    samples: dict[str, dict[str, list[float]]] = {"before": {}, "after": {}}
    with tempfile.TemporaryDirectory(prefix="runtime-ab-") as tmp:
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", args.before, "runtime"],
            capture_output=True,
            check=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
        trees = {"before": Path(tmp) / "runtime", "after": ROOT / "runtime"}
        print(f"before: {args.before}; after: this checkout; {sys.executable}; {args.runs} runs")
        for i in range(args.runs):
            for side, tree in trees.items():
                results = run_once(tree)
                row = {name: fn(results) for name, fn in FIGURES.items()}
                for name, value in row.items():
                    samples[side].setdefault(name, []).append(value)
                shown = ", ".join(f"{name} {value:,.2f}" for name, value in row.items())
                print(f"run {i + 1} {side:<6} {shown}", flush=True)
    print()
    for name in FIGURES:
        for side in ("before", "after"):
            values = samples[side][name]
            spread = f"{min(values):,.2f} / {statistics.median(values):,.2f} / {max(values):,.2f}"
            print(f"{name:<28} {side:<6} {spread}")
    for side in ("before", "after"):
        met = sum(1 for v in samples[side]["call / thread+queue"] if v <= 2.0)
        print(f"call p50 <= 2x thread+queue  {side:<6} met in {met} of {args.runs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
