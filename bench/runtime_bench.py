"""Runtime benchmark: call latency, cast throughput, memory and hot-swap time at 10,000
processes, beside pykka's ask and a bare thread+queue pair. Prints JSON, then a table.

Not a test: run ``python bench/runtime_bench.py`` (the runtime must be importable).
Targets: call p50 at or below pykka's; 10,000 processes under 150 MB RSS; suspending,
swapping and resuming 10,000 processes in under 200 ms.
"""

from __future__ import annotations

import gc
import json
import queue
import sys
import threading
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pykka
from primes_runtime import call, cast, start_server, stop
from primes_runtime.behaviours.server import Reply
from primes_runtime.host.node import Node
from primes_runtime.kernel import system
from primes_runtime.kernel.context import current_node
from primes_runtime.loading import code_server

ROUND_TRIPS = 20_000
CASTS = 200_000
PROCESSES = 10_000
MODULE = "bench_echo"


def rss_mb() -> float:
    """Resident set size of this OS process, in MB (Linux /proc)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    return float("nan")


def _make_module(version: int) -> types.ModuleType:
    """An in-memory server callback module (no file needed) at ``version``."""
    module = types.ModuleType(MODULE)

    def init(args: object) -> dict[str, Any]:
        return {"n": 0, "changes": []}

    def handle_call(request: object, caller: object, state: dict[str, Any]) -> Reply:
        return Reply(request, state)

    def handle_cast(msg: object, state: dict[str, Any]) -> dict[str, Any]:
        state["n"] += 1
        return state

    def code_change(old_vsn: object, state: dict[str, Any], extra: object) -> dict[str, Any]:
        # the body of scale_bench's swarm worker's code_change: the node's 10,000-process
        # upgrade and this primitive transform each state alike
        return {**state, "changes": [*state["changes"], extra]}

    module.__dict__.update(
        init=init, handle_call=handle_call, handle_cast=handle_cast, code_change=code_change
    )
    return module


def percentiles(samples: list[float]) -> dict[str, float]:
    """p50 and p99 in microseconds."""
    ordered = sorted(samples)
    return {
        "p50_us": ordered[len(ordered) // 2] * 1e6,
        "p99_us": ordered[int(len(ordered) * 0.99)] * 1e6,
    }


def bench_primes_cast() -> dict[str, float]:
    pid = start_server(MODULE)
    try:
        start = time.perf_counter()
        for _ in range(CASTS):
            cast(pid, 1)
        call(pid, "sync", timeout=60)  # all casts handled before this reply
        elapsed = time.perf_counter() - start
        return {"casts_per_s": CASTS / elapsed}
    finally:
        stop(pid)


def bench_processes() -> dict[str, float]:
    gc.collect()
    before = rss_mb()
    start = time.perf_counter()
    pids = [start_server(MODULE) for _ in range(PROCESSES)]
    spawn_s = time.perf_counter() - start
    gc.collect()
    after = rss_mb()
    new = code_server.PreparedModule(MODULE, Path("<bench>"), _make_module(2))
    start = time.perf_counter()
    for pid in pids:
        system.suspend(pid, 5.0)
    undo = code_server.install(new)
    module = code_server.current(MODULE)
    for pid in pids:
        system.change_code(pid, module, 1, "bench")
    for pid in pids:
        system.resume(pid)
    swap_s = time.perf_counter() - start
    assert call(pids[-1], "after") == "after"
    undo.undo()
    table = current_node().processes
    for pid in pids:
        table.kill(pid, "shutdown")
    return {
        "processes": PROCESSES,
        "spawn_ms": spawn_s * 1e3,
        "rss_before_mb": before,
        "rss_with_processes_mb": after,
        "rss_per_process_kb": (after - before) * 1024 / PROCESSES,
        "suspend_swap_resume_ms": swap_s * 1e3,
    }


class _Echo(pykka.ThreadingActor):
    def on_receive(self, message: Any) -> Any:
        return message


def _samples(fn: Callable[[], object], n: int) -> list[float]:
    """Latencies of ``n`` round trips of ``fn``, after a warm-up."""
    for _ in range(n // 10):
        fn()
    samples = []
    clock = time.perf_counter
    for _ in range(n):
        start = clock()
        fn()
        samples.append(clock() - start)
    return samples


def bench_latencies(rounds: int = 3) -> dict[str, dict[str, float]]:
    """primes call, pykka ask and a bare thread+queue pair, interleaved in ``rounds`` so
    that machine noise (2 shared cores) hits all three alike."""
    pid = start_server(MODULE)
    actor = _Echo.start()
    requests: queue.SimpleQueue[object] = queue.SimpleQueue()
    replies: queue.SimpleQueue[object] = queue.SimpleQueue()

    def serve() -> None:
        while (item := requests.get()) is not None:
            replies.put(item)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()

    def round_trip() -> object:
        requests.put(1)
        return replies.get()

    kinds: dict[str, Callable[[], object]] = {
        "primes_call": lambda: call(pid, 1),
        "pykka_ask": lambda: actor.ask(1),
        "thread_queue": round_trip,
    }
    samples: dict[str, list[float]] = {name: [] for name in kinds}
    try:
        for _ in range(rounds):
            for name, fn in kinds.items():
                samples[name] += _samples(fn, ROUND_TRIPS // rounds)
    finally:
        stop(pid)
        actor.stop()
        requests.put(None)
        thread.join()
    return {name: percentiles(values) for name, values in samples.items()}


def main() -> int:
    with Node().entered():
        return _run()


def _run() -> int:
    sys.modules[MODULE] = _make_module(1)
    results: dict[str, dict[str, float]] = bench_latencies()
    results["primes_cast"] = bench_primes_cast()
    results["primes_processes"] = bench_processes()
    targets = {
        "call_p50_at_or_below_pykka": results["primes_call"]["p50_us"]
        <= results["pykka_ask"]["p50_us"],
        "rss_10k_under_150mb": results["primes_processes"]["rss_with_processes_mb"] < 150.0,
        "swap_10k_under_200ms": results["primes_processes"]["suspend_swap_resume_ms"] < 200.0,
    }
    print(json.dumps({"results": results, "targets": targets}, indent=2, sort_keys=True))
    p = results["primes_processes"]
    rows = [
        ("call round trip p50 / p99", _lat(results["primes_call"])),
        ("pykka ask p50 / p99", _lat(results["pykka_ask"])),
        ("thread+queue p50 / p99", _lat(results["thread_queue"])),
        ("cast throughput", f"{results['primes_cast']['casts_per_s']:,.0f} /s"),
        (
            f"RSS with {PROCESSES:,} processes",
            f"{p['rss_with_processes_mb']:.1f} MB ({p['rss_per_process_kb']:.2f} KB each)",
        ),
        (f"suspend+swap+resume {PROCESSES:,}", f"{p['suspend_swap_resume_ms']:.1f} ms"),
    ]
    print()
    for label, value in rows:
        print(f"{label:<34} {value}")
    for name, ok in targets.items():
        print(f"{name:<34} {'met' if ok else 'MISSED'}")
    return 0


def _lat(r: dict[str, float]) -> str:
    return f"{r['p50_us']:.1f} / {r['p99_us']:.1f} us"


if __name__ == "__main__":
    sys.exit(main())
