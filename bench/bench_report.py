"""How every benchmark script reports: latency summaries, then a JSON object and a short table."""

from __future__ import annotations

import argparse
import json
import math
import statistics
from collections.abc import Sequence
from pathlib import Path


def percentile(samples: Sequence[float], q: float) -> float:
    """The q-quantile (0..1) of `samples` by nearest rank; NaN for no samples."""
    if not samples:
        return math.nan
    ordered = sorted(samples)
    rank = max(0, math.ceil(q * len(ordered)) - 1)
    return ordered[rank]


def spread(values: Sequence[float], digits: int | None = None) -> dict[str, float]:
    """min, median and max of `values` (rounded to `digits` places if given)."""
    found = {"min": min(values), "median": statistics.median(values), "max": max(values)}
    return found if digits is None else {k: round(v, digits) for k, v in found.items()}


def latency_ms(samples_s: Sequence[float]) -> dict[str, float]:
    """count, p50, p99 and worst of latencies given in seconds, in milliseconds."""
    return {
        "count": len(samples_s),
        "p50_ms": round(percentile(samples_s, 0.50) * 1e3, 3),
        "p99_ms": round(percentile(samples_s, 0.99) * 1e3, 3),
        "max_ms": round(max(samples_s, default=math.nan) * 1e3, 3),
    }


def options(description: str) -> argparse.Namespace:
    """The command line every benchmark script takes: --quick and --dist."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--quick", action="store_true", help="a fast smoke run with smaller state and fewer rounds"
    )
    parser.add_argument(
        "--dist",
        type=Path,
        default=None,
        help="directory holding (or to receive) primenode_1/2.tar.gz, shared between scripts",
    )
    return parser.parse_args()


def emit(name: str, results: dict[str, object], rows: Sequence[tuple[str, str]]) -> None:
    """Print {"benchmark": name, ...results} as JSON, a blank line, then the table."""
    print(json.dumps({"benchmark": name, **results}, indent=2, sort_keys=True))
    print()
    width = max((len(label) for label, _ in rows), default=0)
    for label, value in rows:
        print(f"{label:<{width}}  {value}")
    print(flush=True)


def verdict(ok: bool) -> str:
    """'met' or 'MISSED', for the table."""
    return "met" if ok else "MISSED"
