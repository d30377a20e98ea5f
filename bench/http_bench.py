"""HTTP during an upgrade: a load generator on frontman's port while the node upgrades
1 -> 2; failed requests (refused, errors, non-200) must be 0. Also reports max latency.

Run: ``.venv/bin/python bench/http_bench.py [--quick] [--dist DIR]``. The load generator is
`wrk` when it is on PATH (it runs through the baseline, the upgrade and after it, and also
the Python client for the per-window figures), else the Python client only; the output says
which. Prints JSON, then a table.
"""

from __future__ import annotations

import http.client
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench_node import (
    connect,
    give_primes,
    log_errors,
    primenode,
    releases,
    rpc,
    running_node,
    timed,
)
from bench_report import emit, latency_ms, options, verdict

CLIENTS = 4
PRIMES = 200_000
QUICK_PRIMES = 20_000
BASELINE_S = 1.0
AFTER_S = 0.3
STALL_S = 1.0
"""A connection this slow waited for the kernel's first SYN retransmit (a full listen backlog)."""


WRK_THREADS = 2
WRK_CONNECTIONS = 4
WRK_LINE = re.compile(r"(\d+) requests in ([0-9.]+)(\w+)")
WRK_SOCKET = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
WRK_NON_2XX = re.compile(r"Non-2xx or 3xx responses: (\d+)")
WRK_LATENCY = re.compile(r"^\s*Latency\s+(\S+)\s+(\S+)\s+(\S+)", re.M)


def wrk_ms(text: str) -> float:
    """A wrk duration (`812.00us`, `4.10ms`, `1.02s`) in milliseconds."""
    match = re.fullmatch(r"([0-9.]+)(us|ms|s|m)", text)
    if match is None:
        return float("nan")
    scale = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}[match.group(2)]
    return float(match.group(1)) * scale


def wrk_figures(output: str) -> dict[str, object]:
    """Requests, failures (socket errors + non-2xx) and max latency from wrk's summary."""
    done = WRK_LINE.search(output)
    sockets = WRK_SOCKET.search(output)
    non_2xx = WRK_NON_2XX.search(output)
    latency = WRK_LATENCY.search(output)
    errors = [int(n) for n in sockets.groups()] if sockets else [0, 0, 0, 0]
    return {
        "requests": int(done.group(1)) if done else 0,
        "socket_errors": dict(zip(("connect", "read", "write", "timeout"), errors, strict=True)),
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        "failed": sum(errors) + (int(non_2xx.group(1)) if non_2xx else 0),
        "max_ms": wrk_ms(latency.group(3)) if latency else float("nan"),
        "parsed": done is not None,
    }


@dataclass(frozen=True)
class Hit:
    """One HTTP request: when it ran, and how it ended."""

    start: float
    end: float
    failure: str | None  # None: 200 with a body
    connect: float = 0.0
    """Seconds its TCP connect took."""


@dataclass
class Load:
    """Client threads sending `GET /` to 127.0.0.1:port, one new connection per request."""

    port: int
    hits: list[Hit] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    def start(self, clients: int) -> None:
        for _ in range(clients):
            thread = threading.Thread(target=self._loop, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()

    def _loop(self) -> None:
        clock = time.perf_counter
        while not self._stop.is_set():
            start = clock()
            failure, connected = self._get()
            self.hits.append(Hit(start, clock(), failure, connected - start))  # atomic append

    def _get(self) -> tuple[str | None, float]:
        """How the request ended, and when its connection was made."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30.0)
        connected = time.perf_counter()
        try:
            conn.connect()
            connected = time.perf_counter()
            conn.request("GET", "/")
            reply = conn.getresponse()
            body = reply.read()
            if reply.status != 200 or b"largest_prime" not in body:
                return f"HTTP {reply.status}: {body[:200]!r}", connected
            return None, connected
        except (OSError, http.client.HTTPException) as exc:
            return f"{type(exc).__name__}: {exc}", connected
        finally:
            conn.close()


def listen_overflows() -> int:
    """The kernel's count of connections dropped because a listen queue was full
    (TcpExt ListenOverflows, the whole machine's), -1 where /proc/net/netstat is missing."""
    try:
        lines = Path("/proc/net/netstat").read_text().splitlines()
    except OSError:
        return -1
    for names, values in zip(lines[::2], lines[1::2], strict=False):
        if names.startswith("TcpExt:"):
            table = dict(zip(names.split()[1:], values.split()[1:], strict=False))
            return int(table.get("ListenOverflows", -1))
    return -1


def stalls(hits: list[Hit]) -> dict[str, object]:
    """How many of `hits` took STALL_S or more, and the slowest connect, in ms."""
    return {
        "requests": len(hits),
        "at_least_1s": sum(1 for h in hits if h.end - h.start >= STALL_S),
        "slowest_connect_ms": round(max((h.connect for h in hits), default=0.0) * 1e3, 3),
    }


def main() -> int:
    opts = options(__doc__.splitlines()[0] if __doc__ else "")
    count = QUICK_PRIMES if opts.quick else PRIMES
    with tempfile.TemporaryDirectory(prefix="primes-bench-") as tmp:
        scratch = Path(tmp)
        rel = releases(opts.dist or scratch / "dist")
        with running_node(rel.one, scratch / "node") as root:
            with connect(root) as client:
                give_primes(client, count)
                port = int(rpc(client, "frontman", "port"))
            wrk = shutil.which("wrk")
            wrk_proc = None
            if wrk is not None:
                seconds = int(BASELINE_S + AFTER_S + 4)
                argv = [wrk, f"-t{WRK_THREADS}", f"-c{WRK_CONNECTIONS}", f"-d{seconds}s"]
                wrk_proc = subprocess.Popen(
                    [*argv, "--latency", f"http://127.0.0.1:{port}/"],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                )
            overflows_before = listen_overflows()
            load = Load(port)
            load.start(CLIENTS)
            try:
                time.sleep(BASELINE_S)  # collects the no-upgrade baseline, not an assertion
                t0 = time.perf_counter()
                wall, _ = timed(root, "upgrade", "--probation", "0", str(rel.two))
                t1 = time.perf_counter()
                time.sleep(AFTER_S)
            finally:
                load.stop()
            wrk_out = wrk_proc.communicate(timeout=60)[0] if wrk_proc is not None else ""
            overflows = listen_overflows() - overflows_before if overflows_before >= 0 else -1
            versions = primenode(root, "versions").stdout.split()
            kept = int(primenode(root, "rpc", "pm", "count").stdout.strip())
            errors = log_errors(root)
    window = [h for h in load.hits if h.end > t0 and h.start < t1]
    baseline = [h for h in load.hits if h.end <= t0]
    after = [h for h in load.hits if h.start >= t1]
    slow = {"baseline": stalls(baseline), "upgrade": stalls(window), "after": stalls(after)}
    stalled = sum(int(str(w["at_least_1s"])) for w in slow.values())
    failures = [h.failure for h in load.hits if h.failure is not None]
    failed_window = [h.failure for h in window if h.failure is not None]
    during = latency_ms([h.end - h.start for h in window])
    before = latency_ms([h.end - h.start for h in baseline])
    by_wrk = wrk_figures(wrk_out) if wrk_proc is not None else None
    wrk_failed = int(str(by_wrk["failed"])) if by_wrk is not None else 0
    wrk_ok = by_wrk is None or (bool(by_wrk["parsed"]) and wrk_failed == 0)
    targets = {
        "zero_failed_requests": not failures and wrk_ok,
        "state_kept": kept >= count,
        "no_connection_1s": stalled == 0,
    }
    python_client = f"python http.client, {CLIENTS} threads, new connection per request"
    generator = (
        f"wrk -t{WRK_THREADS} -c{WRK_CONNECTIONS} (whole window) + {python_client}"
        if by_wrk is not None
        else f"{python_client} (wrk not installed)"
    )
    results: dict[str, object] = {
        "load_generator": generator,
        "wrk": by_wrk,
        "primes": count,
        "upgrade_wall_s": round(wall, 3),
        "requests_total": len(load.hits),
        "requests_during_upgrade": len(window),
        "failed_requests": len(failures),
        "failed_requests_during_upgrade": len(failed_window),
        "primes_after_upgrade": kept,
        "node_log_errors": len(errors),
        "first_node_log_error": errors[0][:300] if errors else None,
        "first_failure": failures[0] if failures else None,
        "during_upgrade": during,
        "baseline": before,
        "python_client_1s_stalls": slow,
        "listen_overflows_machine": overflows,
        "versions_after": versions,
        "targets": targets,
    }
    rows = [
        ("load generator", generator),
        (
            "wrk: requests / failed / max latency (baseline + upgrade + after)",
            f"{by_wrk['requests']} / {wrk_failed} / {by_wrk['max_ms']} ms"
            if by_wrk is not None
            else "wrk not installed",
        ),
        ("requests (total / during upgrade)", f"{len(load.hits)} / {len(window)}"),
        ("failed requests (total / during upgrade)", f"{len(failures)} / {len(failed_window)}"),
        ("primes held after the upgrade", f"{kept:,} (had {count:,})"),
        ("node log errors", str(len(errors))),
        ("max / p99 latency during upgrade", f"{during['max_ms']:.1f} / {during['p99_ms']:.1f} ms"),
        (
            "max / p99 latency without upgrade",
            f"{before['max_ms']:.1f} / {before['p99_ms']:.1f} ms",
        ),
        (
            "requests >= 1 s (baseline / upgrade / after)",
            " / ".join(f"{w['at_least_1s']} of {w['requests']}" for w in slow.values()),
        ),
        (
            "slowest connect (baseline / upgrade / after)",
            " / ".join(f"{w['slowest_connect_ms']:.1f}" for w in slow.values()) + " ms",
        ),
        ("kernel listen overflows meanwhile (whole machine)", str(overflows)),
        ("upgrade wall time", f"{wall:.3f} s"),
        ("target 0 failed requests", verdict(targets["zero_failed_requests"])),
        ("target no request >= 1 s", verdict(targets["no_connection_1s"])),
        ("state kept", verdict(targets["state_kept"])),
    ]
    emit("http", results, rows)
    return 0 if all(targets.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
