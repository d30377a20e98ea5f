"""A client process calling MODULE.FUNCTION through a node in a loop; the benchmarks' probe.

Run by upgrade_bench.Probe as its own process, as a service's real clients are: its
latencies are then not disturbed by the benchmark process starting `bin/primenode`.
Usage: ``probe.py ROOT MODULE FUNCTION STOPFILE OUTFILE``; writes JSON
``{"samples": [[start, end, value|null], ...], "errors": [...]}`` (perf_counter seconds,
a system-wide monotonic clock on Linux) once STOPFILE exists.

The probe's own collector is off: its growing list of samples would otherwise make each of
its full collections longer (milliseconds at 100,000 samples), and that pause would be
counted as the node's latency.
"""

from __future__ import annotations

import gc
import json
import sys
import time
from pathlib import Path

from bench_node import connect, rpc


def main(argv: list[str]) -> int:
    root, module, function, stopfile, outfile = argv
    stop = Path(stopfile)
    samples: list[tuple[float, float, str | None]] = []
    errors: list[str] = []
    clock = time.perf_counter
    gc.disable()
    with connect(Path(root)) as client:
        client.settimeout(30.0)
        rpc(client, module, function)  # warm: the first call imports the module
        Path(outfile + ".ready").touch()
        while not stop.exists():
            start = clock()
            try:
                value: str | None = rpc(client, module, function)
            except Exception as exc:
                value = None
                errors.append(f"{type(exc).__name__}: {exc}")
            samples.append((start, clock(), value))
            if value is None:
                break
    Path(outfile).write_text(json.dumps({"samples": samples, "errors": errors}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
