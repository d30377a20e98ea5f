"""What `check` ends with and what a hand-over reports, for each command that can hand over."""

from __future__ import annotations

from primes_runtime.cli import output
from primes_runtime.handover.report import HandoverReport

HAND_OVER = {
    "upgrade": "hand-over", "why": "the runtime changes (primes_runtime-1 -> primes_runtime-2)",
    "states": 2, "sockets": "http",
}  # fmt: skip


def report(permanent: bool) -> HandoverReport:
    return HandoverReport(
        "1", "2", "the runtime changes", 10, 11, ("http",), 2, 0.5, 3.0, permanent
    )


def test_check_of_a_newer_release_on_another_runtime_says_upgrade_and_install_hand_over() -> None:
    lines = output.upgrade_kind_line({**HAND_OVER, "way": "upgrade"}).splitlines()
    assert lines[1].startswith("  upgrade: a hand-over to a successor node, because the runtime")
    assert lines[2] == "  install: the same hand-over, without making the release permanent"


def test_check_of_an_older_release_on_another_runtime_says_downgrade_hands_over() -> None:
    line = output.upgrade_kind_line({**HAND_OVER, "way": "downgrade"})
    assert "\n  downgrade: a hand-over to a successor node, because the runtime changes" in line
    assert "upgrade:" not in line


def test_check_of_a_release_on_the_same_runtime_says_every_command_is_hot() -> None:
    value = {"upgrade": "hot", "why": "the runtime stays", "way": "downgrade"}
    assert output.upgrade_kind_line(value) == (
        "\n  downgrade: hot, in place (the runtime stays)\n  install: hot, in place"
    )


def test_a_hand_over_by_install_says_the_release_is_not_permanent_and_reads_back_the_same() -> None:
    sent = report(permanent=False)
    assert HandoverReport.from_data(sent.to_data()) == sent
    assert "release 2 is not permanent: a restart boots the permanent release" in sent.summary()
    assert "made permanent" not in sent.summary()


def test_a_hand_over_report_without_the_permanent_field_reads_as_permanent() -> None:
    data = report(permanent=True).to_data()
    del data["permanent"]
    assert HandoverReport.from_data(data).permanent is True
    assert "release 2 made permanent" in report(permanent=True).summary()
