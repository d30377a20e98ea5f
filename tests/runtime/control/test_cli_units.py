"""The pieces under the CLI: exit codes, report data, pid file records, the argument rule."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from primes_runtime.cli.errors import (
    FAILED,
    NOT_RUNNING,
    ROLLBACK_INCOMPLETE,
    USAGE,
    UsageError,
    exit_code,
)
from primes_runtime.control import pidfile
from primes_runtime.control.client import RemoteError
from primes_runtime.control.errors import ControlError, NotRunning
from primes_runtime.release.argument import is_package_path
from primes_runtime.release.pauses import Pause, Pauses
from primes_runtime.release.reports import CheckReport, FailedStep, InstallReport


def test_exit_codes_follow_the_error() -> None:
    assert exit_code(UsageError("x")) == USAGE == 2
    assert exit_code(NotRunning("x")) == NOT_RUNNING == 3
    assert exit_code(ControlError("x")) == FAILED == 1
    assert exit_code(RemoteError("x", report={"rollback_problems": []})) == FAILED
    problems = {"rollback_problems": ["load demo_api: ImportError: gone"]}
    assert exit_code(RemoteError("x", report=problems)) == ROLLBACK_INCOMPLETE == 4


def test_an_install_report_survives_the_trip_as_data() -> None:
    pauses = [Pause("<0.3>", "counter", "demo_app.counter", 1.25), Pause("<0.4>", None, "m", 0.5)]
    report = InstallReport(
        "1", "2", "releases/2/up_from_1.relup", "up", Pauses.of(pauses),
        FailedStep("releases/2/up_from_1.relup", 7, "code_change {}", "raised ValueError: no"),
        ("load m: ImportError: gone",),
    )  # fmt: skip
    data = report.to_data()
    assert data["rolled_back"] is False and data["ok"] is False
    assert InstallReport.from_data(data) == report


def test_a_check_report_survives_the_trip_as_data() -> None:
    report = CheckReport("1", "2", "s.relup", 9, ("a", "b"), (("a", 2),), ("w",))
    assert CheckReport.from_data(report.to_data()) == report


@pytest.mark.parametrize(
    "bad", [{}, {"from_version": 1}, {"processes": "x"}], ids=["empty", "number", "processes"]
)
def test_a_malformed_report_is_refused(bad: dict[str, object]) -> None:
    with pytest.raises((TypeError, KeyError, ValueError)):
        CheckReport.from_data(bad)


@pytest.mark.parametrize(
    "text",
    ["-1", "0", "-0", "99999999999999999999", "4194305", "1e3", "+5", "٣", "", "1 2 3", "x 1"],
)
def test_a_pid_file_that_names_no_positive_pid_is_stale(text: str) -> None:
    assert pidfile.parse(text) is None


def test_a_pid_file_record_has_the_pid_and_its_start_time() -> None:
    assert pidfile.parse("42\n") == pidfile.Record(42, None)
    assert pidfile.parse("42 1234\n") == pidfile.Record(42, 1234)
    me = pidfile.record_of(os.getpid())
    assert me.started is not None and pidfile.parse(me.render()) == me


def test_a_record_without_start_time_or_with_another_is_no_proof(tmp_path: Path) -> None:
    me = pidfile.record_of(os.getpid())
    assert me.started is not None
    assert not pidfile.is_node(pidfile.Record(me.pid, None), tmp_path)
    assert not pidfile.is_node(pidfile.Record(me.pid, me.started + 1), tmp_path)
    assert not pidfile.is_node(me, tmp_path)  # not a node of that tree


@pytest.mark.parametrize(
    ("text", "package"),
    [("2", False), ("2.0.1", False), ("primenode_2.tar.gz", True), ("dist/x", True)],
)
def test_one_rule_tells_a_package_path_from_a_version(text: str, package: bool) -> None:
    assert is_package_path(text) is package
