"""Tests for install reports: their text for few and for many paused processes, their data."""

from __future__ import annotations

from primes_runtime.release.pauses import Pause, Pauses
from primes_runtime.release.reports import LISTED_PAUSES, InstallReport


def _report(pauses: list[Pause]) -> InstallReport:
    return InstallReport("1", "2", "releases/2/up_from_1.relup", "up", Pauses.of(pauses))


def test_a_report_of_few_pauses_names_each_process() -> None:
    pauses = [Pause(f"<0.{i}>", "miner" if i == 1 else None, "m", float(i)) for i in (1, 2)]
    lines = _report(pauses).summary().splitlines()[1:]
    assert lines == ["  paused <0.1> miner (m) 1.0 ms", "  paused <0.2> (m) 2.0 ms"]


def test_a_report_of_many_pauses_says_per_module_how_many_the_longest_and_the_median() -> None:
    workers = [Pause(f"<0.{i}>", None, "swarm.worker", float(i)) for i in range(1, 10_002)]
    pauses = [*workers, Pause("<0.20000>", "sup", "swarm.sup", 0.5)]
    assert len(pauses) > LISTED_PAUSES
    lines = _report(pauses).summary().splitlines()[1:]
    assert lines == [
        "  paused 10001 processes (swarm.worker): longest 10001.0 ms (<0.10001>), median 5001.0 ms",
        "  paused 1 process (swarm.sup): longest 0.5 ms (<0.20000> sup), median 0.5 ms",
    ]


def test_the_data_of_a_report_keeps_every_pause_and_reads_back_equal() -> None:
    pauses = [Pause(f"<0.{i}>", None, "swarm.worker", i / 4) for i in range(50)]
    report = _report(pauses)
    data = report.to_data()
    assert len(data["pauses"]) == 50  # type: ignore[arg-type]
    assert data["max_pause_ms"] == 12.25
    assert InstallReport.from_data(data) == report


def test_the_data_of_a_report_gives_each_pause_to_the_microsecond() -> None:
    data = _report([Pause("<0.1>", None, "m", 1 / 3)]).to_data()
    assert data["pauses"] == [{"pid": "<0.1>", "name": None, "module": "m", "ms": 0.333}]


def test_the_batched_data_of_a_report_reads_back_equal_and_holds_no_pause_per_process() -> None:
    pauses = [Pause(f"<0.{i}>", "sup" if i == 3 else None, "swarm.worker", 2.5) for i in range(9)]
    report = _report(pauses)
    data = report.to_data(batched=True)
    assert "pauses" not in data
    assert data["pause_batches"] == [
        {
            "module": "swarm.worker",
            "ms": 2.5,
            "pids": [p.pid for p in pauses],
            "names": {"<0.3>": "sup"},
        }
    ]
    assert data["max_pause_ms"] == 2.5
    assert InstallReport.from_data(data) == report
