"""The module's state machine and its adapter over bin/<name>, with a fake runner."""

from __future__ import annotations

import json

import pytest

from ansible_collections.primes.release.plugins.module_utils.node_cli import NodeCli, NodeError
from ansible_collections.primes.release.plugins.module_utils.plan import (
    PlanError,
    Step,
    plan,
    predict,
)


def obj(command: str, **fields: object) -> str:
    """What `bin/primenode COMMAND --json` prints: one object on one line."""
    ok = "error" not in fields
    return json.dumps({"ok": ok, "command": command, **fields}) + "\n"


ROLLED_BACK = obj(
    "upgrade",
    exit_code=1,
    error="install of 2 failed at releases/2/up_from_1.relup:8 (code_change "
    "prime_miner.miner): code_change of <0.2> raised MinerError: cannot migrate; rolled "
    "back, release 1 is still current",
    report={
        "from_version": "1",
        "to_version": "2",
        "script": "releases/2/up_from_1.relup",
        "direction": "up",
        "pauses": [
            {"pid": "<0.2>", "name": "prime_miner", "module": "prime_miner.miner", "ms": 2.3}
        ],
        "failed": {
            "script": "releases/2/up_from_1.relup",
            "line": 8,
            "instruction": "code_change prime_miner.miner",
            "reason": "code_change of <0.2> raised MinerError: cannot migrate",
        },
        "rollback_problems": [],
        "permanent": False,
        "ok": False,
        "rolled_back": True,
        "max_pause_ms": 2.3,
    },
)
REFUSED = obj(
    "upgrade",
    exit_code=1,
    error="release 2 cannot be installed: releases/2/up_from_1.relup:3 "
    "(load_object_code prime_miner): prime_miner.miner does not load: RuntimeError",
    report=None,
)


class FakeScript:
    """Answers each argv by its command word with a canned (status, stdout, stderr)."""

    def __init__(self, answers: dict[str, tuple[int, str, str]]) -> None:
        self.answers = answers
        self.ran: list[list[str]] = []

    def __call__(self, argv: list[str]) -> tuple[int, str, str]:
        self.ran.append(argv)
        return self.answers[argv[1]]


def test_a_node_already_permanent_at_the_target_needs_no_step() -> None:
    assert plan({"2": "permanent", "1": "old"}, "2", "permanent", "/p/primenode_2.tar.gz") == ()


def test_a_new_release_from_a_package_is_one_upgrade_step() -> None:
    steps = plan({"1": "permanent"}, "2", "permanent", "/p/primenode_2.tar.gz")
    assert steps == (Step("upgrade", "/p/primenode_2.tar.gz"),)


def test_installed_is_unpack_then_install_and_an_installed_release_only_needs_permanent() -> None:
    assert plan({"1": "permanent"}, "2", "installed", "/p.tgz") == (
        Step("unpack", "/p.tgz"),
        Step("install", "2"),
    )
    assert plan({"1": "permanent", "2": "current"}, "2", "permanent", None) == (
        Step("permanent", "2"),
    )


def test_a_downgrade_to_a_release_the_node_never_had_is_refused() -> None:
    with pytest.raises(PlanError, match="release 0 is not on this node"):
        plan({"1": "permanent"}, "0", "downgraded", None)
    assert plan({"2": "permanent", "1": "old"}, "1", "downgraded", None) == (
        Step("downgrade", "1"),
    )


def test_a_missing_release_without_a_package_is_refused() -> None:
    with pytest.raises(PlanError, match="no package was given"):
        plan({"1": "permanent"}, "2", "permanent", None)


def test_the_prediction_matches_what_versions_shows_after_an_upgrade() -> None:
    assert predict({"1": "permanent"}, "2", "permanent") == {"1": "old", "2": "permanent"}


def test_a_rolled_back_install_is_read_from_the_json_report() -> None:
    fake = FakeScript({"upgrade": (1, ROLLED_BACK, "primenode: install of 2 failed ...\n")})
    outcome = NodeCli("/srv/pn", "primenode", fake).upgrade("/p.tgz")
    assert fake.ran == [["/srv/pn/bin/primenode", "upgrade", "/p.tgz", "--json"]]
    assert not outcome.ok and outcome.exit_code == 1
    assert outcome.rolled_back and not outcome.refused and not outcome.not_running
    assert outcome.failed_step == "releases/2/up_from_1.relup:8 (code_change prime_miner.miner)"
    assert outcome.failed is not None and outcome.failed.line == 8
    assert outcome.reason == "code_change of <0.2> raised MinerError: cannot migrate"
    assert [(p.pid, p.name, p.ms) for p in outcome.pauses] == [("<0.2>", "prime_miner", 2.3)]


def test_a_refusal_is_read_as_refused_not_rolled_back() -> None:
    cli = NodeCli("/srv/pn", "primenode", FakeScript({"upgrade": (1, REFUSED, "")}))
    outcome = cli.upgrade("2")
    assert outcome.refused and not outcome.rolled_back and outcome.failed is None
    assert outcome.reason.startswith("release 2 cannot be installed: ")


def test_exit_3_is_read_as_not_running() -> None:
    answer = obj("install", exit_code=3, error="the node is not running (nothing answers)")
    outcome = NodeCli("/srv/pn", "primenode", FakeScript({"install": (3, answer, "")})).install("2")
    assert outcome.not_running and not outcome.refused and not outcome.ok


def test_exit_4_carries_the_rollback_problems_and_is_not_rolled_back() -> None:
    report = json.loads(ROLLED_BACK)["report"]
    report.update(rolled_back=False, rollback_problems=["<0.2> did not resume"])
    answer = obj("upgrade", exit_code=4, error="install of 2 failed ...", report=report)
    outcome = NodeCli("/srv/pn", "primenode", FakeScript({"upgrade": (4, answer, "")})).upgrade("2")
    assert not outcome.rolled_back and not outcome.refused
    assert outcome.rollback_problems == ("<0.2> did not resume",)


def test_a_successful_install_gives_its_pauses_and_report() -> None:
    answer = obj(
        "install",
        from_version="1",
        to_version="2",
        pauses=[{"pid": "<0.2>", "name": None, "module": "m", "ms": 1.5}],
        failed=None,
    )
    outcome = NodeCli("/srv/pn", "primenode", FakeScript({"install": (0, answer, "")})).install("2")
    assert outcome.ok and outcome.pauses[0].as_dict() == {
        "pid": "<0.2>", "name": None, "module": "m", "ms": 1.5
    }  # fmt: skip
    assert outcome.data["to_version"] == "2"


def test_an_upgrade_that_handed_the_node_over_gives_the_old_and_new_pid() -> None:
    answer = obj(
        "upgrade", from_version="1", to_version="2", why="the runtime changes", old_pid=4200,
        new_pid=4242, sockets=["asgi_host"], states=1, seconds=0.2, frozen_ms=18.3, handover=True,
    )  # fmt: skip
    outcome = NodeCli("/srv/pn", "primenode", FakeScript({"upgrade": (0, answer, "")})).upgrade("2")
    assert outcome.ok and outcome.pauses == ()
    assert outcome.handover is not None
    assert (outcome.handover["old_pid"], outcome.handover["new_pid"]) == (4200, 4242)
    assert outcome.handover["frozen_ms"] == 18.3


def test_a_hot_upgrade_is_no_hand_over() -> None:
    answer = obj("upgrade", from_version="1", to_version="2", pauses=[], failed=None)
    outcome = NodeCli("/srv/pn", "primenode", FakeScript({"upgrade": (0, answer, "")})).upgrade("2")
    assert outcome.ok and outcome.handover is None


def test_check_of_a_package_not_kept_passes_no_keep() -> None:
    answer = obj("check", to_version="2", unpacked=True)
    fake = FakeScript({"check": (0, answer, "")})
    outcome = NodeCli("/srv/pn", "primenode", fake).check("/p/primenode_2.tar.gz", keep=False)
    assert fake.ran == [
        ["/srv/pn/bin/primenode", "check", "/p/primenode_2.tar.gz", "--no-keep", "--json"]
    ]
    assert outcome.ok and outcome.data == {"to_version": "2", "unpacked": True}


def test_versions_are_read_from_the_releases_list() -> None:
    releases = [{"version": "2", "status": "current"}, {"version": "1", "status": "permanent"}]
    answer = obj("versions", running=True, releases=releases, packages="unsigned")
    cli = NodeCli("/srv/pn", "primenode", FakeScript({"versions": (0, answer, "")}))
    assert cli.versions() == (("2", "current"), ("1", "permanent"))


def test_versions_rows_that_are_not_version_and_status_are_an_error_not_a_guess() -> None:
    answer = obj("versions", releases=[["2", "permanent"]])
    cli = NodeCli("/srv/pn", "primenode", FakeScript({"versions": (0, answer, "")}))
    with pytest.raises(NodeError, match="expected"):
        cli.versions()


def test_output_that_is_not_one_json_object_is_an_error_naming_the_stderr_line() -> None:
    fake = FakeScript({"versions": (1, "1 permanent\n", "primenode: python3 is Python 3.9\n")})
    with pytest.raises(NodeError, match=r"printed no JSON object \(exit 1\): primenode: python3"):
        NodeCli("/srv/pn", "primenode", fake).versions()


def test_a_usage_error_is_an_adapter_error_not_a_refusal() -> None:
    answer = obj("check", exit_code=2, error="check: unrecognized arguments: --no-keep")
    cli = NodeCli("/srv/pn", "primenode", FakeScript({"check": (2, answer, "")}))
    with pytest.raises(NodeError, match="unrecognized arguments: --no-keep"):
        cli.check("/p.tgz", keep=False)


def test_permanent_and_ping_are_read_by_their_exit_code_only() -> None:
    fake = FakeScript(
        {"permanent": (3, "", "primenode: the node is not running\n"), "ping": (0, "", "")}
    )
    cli = NodeCli("/srv/pn", "primenode", fake)
    outcome = cli.permanent("2")
    assert outcome.not_running and outcome.summary == "the node is not running"
    assert cli.ping()
