"""Upgrade pause: a client's latency while a node holding 200,000 primes upgrades 1 -> 2,
beside the downtime of the alternative (dump the state, stop, start, reload the dump).

Run: ``.venv/bin/python bench/upgrade_bench.py [--quick] [--dist DIR]``. Prints JSON, then a
table. Targets: worst client latency during the upgrade under 5 ms, and at least 100x below
the restart's downtime.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench_node import (
    Client,
    connect,
    dump_primes,
    give_primes,
    load_primes,
    log_errors,
    pauses_ms,
    primenode,
    releases,
    rpc,
    running_node,
    timed,
)
from bench_report import emit, latency_ms, options, verdict
from primes_runtime.host import config

PRIMES = 200_000
QUICK_PRIMES = 20_000
BASELINE_S = 1.0
AFTER_S = 0.3
TARGET_WORST_MS = 5.0
TARGET_RATIO = 100.0


@dataclass(frozen=True)
class Sample:
    """One `pm.largest_prime` round trip as the client saw it (perf_counter seconds)."""

    start: float
    end: float
    value: str | None  # None: the call failed

    @property
    def latency(self) -> float:
        return self.end - self.start


@dataclass
class Probe:
    """A client process calling `module.function` (`pm.largest_prime`) through the node in a
    loop (bench/probe.py), separate from this process as a service's clients are."""

    root: Path
    module: str = "pm"
    function: str = "largest_prime"
    samples: list[Sample] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    _proc: subprocess.Popen[bytes] | None = None
    _dir: Path | None = None

    def start(self) -> None:
        self._dir = Path(tempfile.mkdtemp(prefix="primes-probe-"))
        out = self._dir / "samples.json"
        argv = [sys.executable, str(Path(__file__).with_name("probe.py")), str(self.root)]
        argv += [self.module, self.function, str(self._dir / "stop"), str(out)]
        self._proc = subprocess.Popen(argv)
        ready = Path(str(out) + ".ready")
        deadline = time.monotonic() + 60
        while not ready.exists():
            if self._proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the probe client did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        if self._proc is None or self._dir is None:
            return
        (self._dir / "stop").touch()
        self._proc.wait(60)
        result = json.loads((self._dir / "samples.json").read_text())
        self.samples = [Sample(a, b, v) for a, b, v in result["samples"]]
        self.errors = list(result["errors"])
        shutil.rmtree(self._dir, ignore_errors=True)

    def between(self, t0: float, t1: float) -> list[Sample]:
        """Calls that were in flight at any moment of [t0, t1]."""
        return [s for s in self.samples if s.end > t0 and s.start < t1]


def upgrade_under_load(root: Path, package: Path, probe: Probe | None = None) -> dict[str, object]:
    """`bin/primenode upgrade PACKAGE` while a probe calls the miner; what the client saw."""
    probe = probe or Probe(root)
    probe.start()
    try:
        time.sleep(BASELINE_S)  # collects the no-upgrade baseline, not an assertion
        t0 = time.perf_counter()
        wall, result = timed(root, "upgrade", "--json", "--probation", "0", str(package))
        t1 = time.perf_counter()
        time.sleep(AFTER_S)
    finally:
        probe.stop()
    window = probe.between(t0, t1)
    baseline = [s for s in probe.samples if s.end <= t0 and s.start >= t0 - BASELINE_S + 0.2]
    values = {s.value for s in window if s.value is not None}
    pauses = pauses_ms(result.stdout)
    errors = log_errors(root)
    return {
        "upgrade_wall_s": round(wall, 3),
        "probation_window_s": config.load(root, "2").probation,  # not in the wall: --probation 0
        "during_upgrade": latency_ms([s.latency for s in window]),
        "baseline": latency_ms([s.latency for s in baseline]),
        "node_reported_pause_ms": max(pauses, default=0.0),
        "processes_paused": len(pauses),
        "client_errors": len(probe.errors),
        "first_error": probe.errors[0] if probe.errors else None,
        "mining_round_in_window": len(values) > 1,
        "node_log_errors": len(errors),
        "first_node_log_error": errors[0][:300] if errors else None,
    }


def restart_downtime(root: Path, client: Client, dump: Path) -> dict[str, object]:
    """The alternative without hot upgrades: dump, stop, start, reload; the downtime."""
    t = time.perf_counter()
    count, largest = dump_primes(client, dump)
    dump_s = time.perf_counter() - t
    client.close()
    t0 = time.perf_counter()
    stop_s, _ = timed(root, "stop")
    start_s, _ = timed(root, "start")
    t_reload = time.perf_counter()
    with connect(root) as fresh:
        load_primes(fresh, dump)
        while int(rpc(fresh, "pm", "largest_prime")) < largest:
            pass  # the reload finished above; this only confirms the full state answers
        t1 = time.perf_counter()
    return {
        "primes_dumped": count,
        "dump_s": round(dump_s, 3),
        "stop_s": round(stop_s, 3),
        "start_s": round(start_s, 3),
        "reload_s": round(t1 - t_reload, 3),
        "downtime_s": round(t1 - t0, 3),
    }


def main() -> int:
    opts = options(__doc__.splitlines()[0] if __doc__ else "")
    count = QUICK_PRIMES if opts.quick else PRIMES
    with tempfile.TemporaryDirectory(prefix="primes-bench-") as tmp:
        scratch = Path(tmp)
        rel = releases(opts.dist or scratch / "dist")
        with running_node(rel.one, scratch / "node") as root:
            client = connect(root)
            loaded = give_primes(client, count)
            upgrade = upgrade_under_load(root, rel.two)
            kept = int(rpc(client, "pm", "count"))
            versions = primenode(root, "versions").stdout.split()
            restart = restart_downtime(root, client, scratch / "primes.pickle")
    worst = float(upgrade["during_upgrade"]["max_ms"])  # type: ignore[index]
    p99 = float(upgrade["during_upgrade"]["p99_ms"])  # type: ignore[index]
    downtime_ms = float(restart["downtime_s"]) * 1e3  # type: ignore[arg-type]
    ratio = downtime_ms / worst if worst > 0 else float("inf")
    targets = {
        "state_kept": kept >= count and upgrade["client_errors"] == 0,
        "worst_under_5ms": worst < TARGET_WORST_MS,
        "100x_below_restart": ratio >= TARGET_RATIO,
    }
    results: dict[str, object] = {
        "primes": count,
        "state_load": loaded,
        "upgrade": upgrade,
        "primes_after_upgrade": kept,
        "versions_after": versions,
        "restart": restart,
        "restart_over_worst_latency": round(ratio, 1),
        "targets": targets,
    }
    base = upgrade["baseline"]
    rows = [
        ("primes in the miner's state", f"{count:,}"),
        ("upgrade 1->2 wall time (command)", f"{upgrade['upgrade_wall_s']:.3f} s"),
        ("client worst / p99 during upgrade", f"{worst:.2f} / {p99:.2f} ms"),
        ("client worst / p99 without upgrade", f"{base['max_ms']:.2f} / {base['p99_ms']:.2f} ms"),  # type: ignore[index]
        ("miner pause the node reports", f"{upgrade['node_reported_pause_ms']:.1f} ms"),
        (
            "client errors / node log errors",
            f"{upgrade['client_errors']} / {upgrade['node_log_errors']}",
        ),
        ("primes held after the upgrade", f"{kept:,}"),
        ("restart alternative downtime", f"{restart['downtime_s']:.3f} s"),
        (
            "  stop / start / reload",
            f"{restart['stop_s']} / {restart['start_s']} / {restart['reload_s']} s",
        ),
        ("restart downtime / worst latency", f"{ratio:.0f}x"),
        ("state kept, no client error", verdict(targets["state_kept"])),
        ("target worst < 5 ms", verdict(targets["worst_under_5ms"])),
        ("target >= 100x below restart", verdict(targets["100x_below_restart"])),
    ]
    emit("upgrade", results, rows)
    return 0 if targets["state_kept"] else 1


if __name__ == "__main__":
    sys.exit(main())
