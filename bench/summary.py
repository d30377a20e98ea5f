"""The headline table: every headline figure of one `make bench` run, 5 samples each, against
its target; "met" only when the target holds in every sample.

The OTP reference column is quoted (Erlang/OTP 25 + rebar3 on the same story, measured when
the targets were set; docs/benchmarks.md); it is not re-measured here.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass

Run = dict[str, object]
"""One repetition: script name (without .py) -> the JSON object it printed."""

REBAR3_BUILD_S = 2.35
"""rebar3 release+relup+tar of release 2 (the quoted 2.35-2.54 s; the lower bound)."""


@dataclass(frozen=True)
class Row:
    """One figure: how to read it from a run, its unit, and its target as a check."""

    figure: str
    otp: str
    unit: str
    value: Callable[[Run], float]
    holds: Callable[[Run, float], bool]
    target: str
    beside: Callable[[Run], str] | None = None
    """Extra per-run context printed beside the value (the comparison figure)."""


def get(run: Run, path: str) -> float:
    """The number at a dotted path (script.key.key...) of a run; NaN when it is missing."""
    node: object = run
    for key in path.split("."):
        if not isinstance(node, dict) or key not in node:
            return float("nan")
        node = node[key]
    return (
        float(node)
        if isinstance(node, int | float) and not isinstance(node, bool)
        else float("nan")
    )


UP = "upgrade_bench.upgrade"
SWARM = "scale_bench.many_processes.probe_on_swarm_worker"
MINER = "scale_bench.many_processes.probe_on_miner"
RT = "runtime_bench.results"
ASGI = "asgi_throughput.round"

ROWS: tuple[Row, ...] = (
    Row(
        "client worst latency during the 200k-prime upgrade",
        "2.1 / 4.1 ms (client inside the node)",
        "ms",
        lambda r: get(r, f"{UP}.during_upgrade.max_ms"),
        lambda r, v: v <= 3.0 and v <= get(r, f"{UP}.baseline.max_ms") + 1.5,
        "<= 3 ms and <= no-upgrade worst + 1.5 ms",
        lambda r: f"no-upgrade worst {get(r, f'{UP}.baseline.max_ms'):.2f}",
    ),
    Row(
        "upgrade of 10,000 processes: longest pause",
        "- (suspends one by one)",
        "ms",
        lambda r: get(r, f"{SWARM}.node_reported_pause_ms"),
        lambda r, v: (
            v <= 1.2 * get(r, f"{RT}.primes_processes.suspend_swap_resume_ms") and v <= 10.0
        ),
        "<= 1.2x in-process suspend+swap+resume, and <= 10 ms (one module: one flag)",
        lambda r: f"in-process {get(r, f'{RT}.primes_processes.suspend_swap_resume_ms'):.1f}",
    ),
    Row(
        "client on an untouched process during that upgrade: worst",
        "-",
        "ms",
        lambda r: get(r, f"{MINER}.during_upgrade.max_ms"),
        lambda r, v: v <= get(r, f"{MINER}.baseline.max_ms") + 1.0,
        "<= its no-upgrade worst + 1 ms",
        lambda r: f"no-upgrade worst {get(r, f'{MINER}.baseline.max_ms'):.2f}",
    ),
    Row(
        "`upgrade` command wall time until the new code serves (`--probation 0`)",
        "0.83-0.99 s",
        "s",
        lambda r: get(r, f"{UP}.upgrade_wall_s"),
        lambda r, v: v <= 0.25,
        "<= 0.25 s",
        lambda r: (
            f"probation window (node.toml, not counted) {get(r, f'{UP}.probation_window_s'):g} s"
        ),
    ),
    Row(
        "`bin/primenode ping`, one command",
        "-",
        "s",
        lambda r: get(r, "start_bench.ping_command_s"),
        lambda r, v: v <= 1.5 * get(r, "start_bench.bare_python_start_s"),
        "<= 1.5x `python3 -c pass`",
        lambda r: f"python3 -c pass {get(r, 'start_bench.bare_python_start_s'):.3f}",
    ),
    Row(
        "`start` until ping (median of the run's 5 starts)",
        "1.30 s",
        "s",
        lambda r: get(r, "start_bench.start_median_s"),
        lambda r, v: v <= 0.25,
        "<= 0.25 s",
    ),
    Row(
        "`stop` (median of the run's 5 stops)",
        "-",
        "s",
        lambda r: get(r, "start_bench.stop_median_s"),
        lambda r, v: v <= 0.2,
        "<= 0.2 s",
    ),
    Row(
        "call round trip p50",
        "~1 us (gen_server:call)",
        "us",
        lambda r: get(r, f"{RT}.primes_call.p50_us"),
        lambda r, v: v <= 2 * get(r, f"{RT}.thread_queue.p50_us"),
        "<= 2x bare thread+queue, same run",
        lambda r: f"thread+queue {get(r, f'{RT}.thread_queue.p50_us'):.1f}",
    ),
    Row(
        "`python -m build` release 2, cold, default isolated route",
        "2.35-2.54 s (rebar3)",
        "s",
        lambda r: get(r, "build_bench.release_2_cold_s"),
        lambda r, v: v <= 1.5 * REBAR3_BUILD_S,
        f"<= 1.5x rebar3 ({1.5 * REBAR3_BUILD_S:.2f} s)",
        lambda r: (
            f"--installer uv {get(r, 'build_bench.release_2_cold_uv_s'):.2f}, "
            f"--no-isolation {get(r, 'build_bench.release_2_cold_no_isolation_s'):.2f}"
        ),
    ),
    Row(
        "rebuild after one app changed, `--no-isolation`",
        "-",
        "s",
        lambda r: get(r, "build_bench.rebuild_one_app_no_isolation_s"),
        lambda r, v: v <= 1.0,
        "<= 1.0 s",
    ),
    Row(
        "ASGI host requests/s (wrk -t2 -c16 -d10s, a round of `asgi_throughput` a column)",
        "-",
        "req/s",
        lambda r: get(r, f"{ASGI}.host.requests_per_s"),
        lambda r, v: v >= 0.9 * get(r, f"{ASGI}.uvicorn.requests_per_s"),
        ">= 0.9x `uvicorn app:app` (one worker), same round",
        lambda r: f"uvicorn {get(r, f'{ASGI}.uvicorn.requests_per_s'):.0f}",
    ),
    Row(
        "ASGI host p99 latency (the same wrk)",
        "-",
        "ms",
        lambda r: get(r, f"{ASGI}.host.p99_ms"),
        lambda r, v: v <= 1.2 * get(r, f"{ASGI}.uvicorn.p99_ms"),
        "<= 1.2x `uvicorn app:app`'s p99, same round",
        lambda r: f"uvicorn {get(r, f'{ASGI}.uvicorn.p99_ms'):.2f}",
    ),
    Row(
        "ASGI host: failed requests through a hot upgrade (one wrk run, the same in each column)",
        "-",
        "requests",
        lambda r: get(r, "asgi_throughput.upgrade.failed"),
        lambda r, v: v == 0 and get(r, "asgi_throughput.upgrade.requests") > 0,
        "0 failed",
        lambda r: f"of {get(r, 'asgi_throughput.upgrade.requests'):.0f}",
    ),
)


def spread(values: Sequence[float]) -> str:
    """min / median / max of the samples."""
    good = [v for v in values if v == v]
    if not good:
        return "no figure"
    fmt = "{:.3f}" if max(good) < 10 else "{:.1f}"
    return " / ".join(fmt.format(v) for v in (min(good), statistics.median(good), max(good)))


def table(runs: Sequence[Run]) -> tuple[list[dict[str, object]], str]:
    """Each row's samples and verdict (for the JSON), and the printed table."""
    data: list[dict[str, object]] = []
    lines = [
        f"headline table: {len(runs)} runs of each headline figure in this `make bench` (of the "
        "ASGI rows: rounds of one asgi_throughput run); min / median / max; "
        "met = the target holds in every run.",
        "OTP reference: quoted (docs/benchmarks.md), not re-measured here.",
        "",
    ]
    for row in ROWS:
        values = [row.value(r) for r in runs]
        checks = [v == v and row.holds(r, v) for r, v in zip(runs, values, strict=True)]
        met = bool(checks) and all(checks)
        beside = [row.beside(r) for r in runs] if row.beside else []
        data.append(
            {
                "figure": row.figure,
                "otp_reference": row.otp,
                "target": row.target,
                "unit": row.unit,
                "samples": [round(v, 4) for v in values],
                "holds": checks,
                "beside": beside,
                "met": met,
            }
        )
        verdict = "met" if met else f"MISSED ({checks.count(False)} of {len(checks)} runs)"
        lines.append(f"* {row.figure}")
        lines.append(f"    primes {spread(values)} {row.unit}   OTP: {row.otp}")
        lines.append(f"    target {row.target}: {verdict}")
        if beside:
            lines.append(f"    same runs: {'; '.join(beside)}")
    return data, "\n".join(lines)
