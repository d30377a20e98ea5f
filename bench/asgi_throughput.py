"""The ASGI host's throughput beside plain uvicorn: the same Starlette app, the same wrk, one run.

(a) examples/ratelimiter's release 1 in a primes node (`bin/ratelimiter start`), served by
    apps/asgi_host; (b) `uvicorn plain_limiter:app`, one worker, the same interpreter and the
    same code: the app module (limiter.web, its bucket process in a node of the uvicorn
    process, as in asgi_bench.py), uvicorn, Starlette and h11 imported from the deployed
    release's lib dirs; `--no-access-log` as the host (which logs no access). Both on a free
    port of 127.0.0.1, both on h11 and asyncio's default loop (neither httptools nor uvloop
    is installed). wrk `-t2 -c16 -d10s --latency` on `GET /hit/bench` against (a) then (b),
    ROUNDS rounds; each round's ratios are of its own two samples. Then one more wrk on the
    node through `bin/ratelimiter upgrade` to release 2 (a hot upgrade: new web and bucket
    modules), whose failed requests (socket errors, non-2xx) must be 0. Beside each sample, the
server process's CPU time (user + system, /proc) per request: less noisy than the rates on a
shared machine.

Targets: the host's requests/s >= 0.9x uvicorn's, its p99 <= 1.2x uvicorn's, in every round.

Run: ``.venv/bin/python bench/asgi_throughput.py [--quick]`` (``--quick``: -d2s).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from asgi_bench import free_port, plain_env, served, wait_ready
from bench_node import PYTHON
from bench_report import emit, options, spread, verdict

from tools.asgi_example import (
    Load,
    build,
    copy_example,
    ctl,
    deploy,
    fill_wheelhouse,
    get,
    make_v2,
    wrk,
)

ROUNDS = 5
SECONDS = 10.0
QUICK_SECONDS = 2.0
WARM_UP = 1.0
CONNECTIONS = 16
PATH = "/hit/bench"
RATE_TARGET = 0.9
"""The host's requests/s at least this times uvicorn's."""
P99_TARGET = 1.2
"""The host's p99 at most this times uvicorn's."""
UPGRADE_AT = 1 / 3
"""How far into the upgrade round's wrk the upgrade starts."""


def hammer(port: int, seconds: float) -> Load:
    """wrk -t2 -cCONNECTIONS -dSECONDS --latency on GET PATH."""
    return wrk(f"http://127.0.0.1:{port}{PATH}", seconds, CONNECTIONS)


def cpu_s(pid: int) -> float:
    """User + system CPU seconds the process `pid` has used (/proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def sample(port: int, pid: int, seconds: float) -> dict[str, float]:
    """wrk against the server `pid` on `port`: its figures and the server's CPU per request."""
    before = cpu_s(pid)
    load = hammer(port, seconds)
    used = cpu_s(pid) - before
    return {
        "requests_per_s": round(load.per_second, 1),
        "p99_ms": round(load.p99_ms, 3),
        "max_ms": round(load.worst_ms, 3),
        "requests": load.requests,
        "failed": load.failed,
        "server_cpu_us_per_request": round(used / max(1, load.requests) * 1e6, 1),
    }


def through_upgrade(
    script: Path, port: int, pid: int, two: Path, seconds: float
) -> dict[str, object]:
    """wrk on the node while `bin/ratelimiter upgrade` installs release 2 (hot)."""
    seen: list[dict[str, float]] = []
    loader = threading.Thread(target=lambda: seen.append(sample(port, pid, seconds)))
    loader.start()
    time.sleep(seconds * UPGRADE_AT)
    began = time.perf_counter()
    out = ctl(script, "upgrade", str(two))
    wall = time.perf_counter() - began
    loader.join(seconds + 60)
    if "handed over" in out:
        raise SystemExit(f"asgi_throughput: the upgrade was a hand-over, not hot:\n{out}")
    status, _ = get(port, "/quota/bench")  # a route only release 2 has
    return {
        **seen[0],
        "upgrade_wall_s": round(wall, 3),
        "release_2_serves": status == 200,
    }


def main() -> int:
    opts = options(__doc__.splitlines()[0] if __doc__ else "")
    if shutil.which("wrk") is None:
        print("asgi_throughput: wrk is not installed; install it (apt-get install wrk)",
              file=sys.stderr)  # fmt: skip
        return 2
    seconds = QUICK_SECONDS if opts.quick else SECONDS
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="asgi_throughput_") as tmp:
        work = Path(tmp)
        house = fill_wheelhouse(work / "wheelhouse")
        src = copy_example(work / "src")
        one = build(src, work / "dist", house)
        make_v2(src)
        two = build(src, work / "dist", house, previous=one)
        script = deploy(one, work / "srv")
        ctl(script, "start")
        uvicorn_port = free_port()
        argv = [PYTHON, "-m", "uvicorn", "--port", str(uvicorn_port), "--workers", "1"]
        env = plain_env(work)
        libs = sorted(str(d) for d in (work / "srv" / "lib").iterdir() if d.is_dir())
        env["PYTHONPATH"] = os.pathsep.join([str(work), *libs])
        uvicorn = served([*argv, "--no-access-log", "plain_limiter:app"], work, env)
        try:
            host_port = int(ctl(script, "rpc", "asgi_host.app", "port").strip())
            host_pid = int(ctl(script, "pid").strip())
            wait_ready(host_port)
            wait_ready(uvicorn_port)
            hammer(host_port, WARM_UP)
            hammer(uvicorn_port, WARM_UP)
            rounds = []
            for _ in range(ROUNDS):
                host = sample(host_port, host_pid, seconds)
                plain = sample(uvicorn_port, uvicorn.pid, seconds)
                rounds.append(
                    {
                        "host": host,
                        "uvicorn": plain,
                        "rate_ratio": round(host["requests_per_s"] / plain["requests_per_s"], 3),
                        "p99_ratio": round(host["p99_ms"] / plain["p99_ms"], 3),
                    }
                )
            upgrade = through_upgrade(script, host_port, host_pid, two, seconds)
        finally:
            uvicorn.terminate()
            try:
                uvicorn.wait(15)
            except subprocess.TimeoutExpired:
                uvicorn.kill()
                uvicorn.wait()
            ctl(script, "stop")

    def column(who: str, key: str) -> list[float]:
        return [float(r[who][key]) for r in rounds]  # type: ignore[index]

    rate_ratios = [float(r["rate_ratio"]) for r in rounds]  # type: ignore[arg-type]
    p99_ratios = [float(r["p99_ratio"]) for r in rounds]  # type: ignore[arg-type]
    rate_met = all(v >= RATE_TARGET for v in rate_ratios)
    p99_met = all(v <= P99_TARGET for v in p99_ratios)
    upgrade_met = upgrade["failed"] == 0 and upgrade["release_2_serves"] is True
    figures: dict[str, object] = {
        "python": PYTHON,
        "load": f"wrk -t2 -c{CONNECTIONS} -d{seconds:g}s --latency GET {PATH}",
        "rounds": rounds,
        "upgrade": upgrade,
        "summary": {
            "host_requests_per_s": spread(column("host", "requests_per_s"), 1),
            "uvicorn_requests_per_s": spread(column("uvicorn", "requests_per_s"), 1),
            "rate_ratio": spread(rate_ratios, 3),
            "host_p99_ms": spread(column("host", "p99_ms"), 3),
            "uvicorn_p99_ms": spread(column("uvicorn", "p99_ms"), 3),
            "p99_ratio": spread(p99_ratios, 3),
            "host_cpu_us_per_request": spread(column("host", "server_cpu_us_per_request"), 1),
            "uvicorn_cpu_us_per_request": spread(column("uvicorn", "server_cpu_us_per_request"), 1),
        },
        "targets": {
            "rate_ratio_min": RATE_TARGET,
            "p99_ratio_max": P99_TARGET,
            "upgrade_failed": 0,
        },
        "met": {"rate": rate_met, "p99": p99_met, "upgrade": upgrade_met},
        "wall_s": round(time.monotonic() - began, 1),
    }

    def mmm(values: list[float], fmt: str) -> str:
        found = spread(values)
        return " / ".join(fmt.format(found[k]) for k in ("min", "median", "max"))

    rows = [
        ("figure (min / median / max of 5 rounds)", "value"),
        ("host requests/s", mmm(column("host", "requests_per_s"), "{:.0f}")),
        ("uvicorn requests/s", mmm(column("uvicorn", "requests_per_s"), "{:.0f}")),
        (
            f"requests/s ratio (target >= {RATE_TARGET:g})",
            f"{mmm(rate_ratios, '{:.3f}')}: {verdict(rate_met)}",
        ),
        ("host p99 ms", mmm(column("host", "p99_ms"), "{:.2f}")),
        ("uvicorn p99 ms", mmm(column("uvicorn", "p99_ms"), "{:.2f}")),
        (
            f"p99 ratio (target <= {P99_TARGET:g})",
            f"{mmm(p99_ratios, '{:.3f}')}: {verdict(p99_met)}",
        ),
        ("host CPU us per request", mmm(column("host", "server_cpu_us_per_request"), "{:.0f}")),
        (
            "uvicorn CPU us per request",
            mmm(column("uvicorn", "server_cpu_us_per_request"), "{:.0f}"),
        ),
        (
            "through the upgrade 1 -> 2 (target 0 failed)",
            f"{upgrade['requests']} requests, {upgrade['failed']} failed, "
            f"p99 {upgrade['p99_ms']} ms, max {upgrade['max_ms']} ms: {verdict(upgrade_met)}",
        ),
    ]
    emit("asgi_throughput", figures, rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
