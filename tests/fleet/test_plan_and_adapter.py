"""The module's state machine and its adapter over bin/<name>, with a fake runner."""

from __future__ import annotations

import pytest

from ansible_collections.primes.release.plugins.module_utils.node_cli import NodeCli, NodeError
from ansible_collections.primes.release.plugins.module_utils.plan import (
    PlanError,
    Step,
    plan,
    predict,
)

FAILED = (
    "primenode: install of 2 failed at releases/2/up_from_1.relup:8 (code_change "
    "prime_miner.miner): code_change of <0.2> raised MinerError: cannot migrate; rolled "
    "back, release 1 is still current\n"
)
REFUSED = (
    "primenode: release 2 cannot be installed: releases/2/up_from_1.relup:3 "
    "(load_object_code prime_miner): prime_miner.miner does not load: RuntimeError\n"
)


class FakeScript:
    """Answers each argv with a canned (status, stdout, stderr); records what ran."""

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


def test_a_rolled_back_install_is_read_as_failed_step_reason_and_rolled_back() -> None:
    fake = FakeScript(
        {"upgrade": (1, "  paused <0.2> prime_miner (prime_miner.miner) 2.3 ms\n", FAILED)}
    )
    outcome = NodeCli("/srv/pn", "primenode", fake).upgrade("/p.tgz")
    assert fake.ran == [["/srv/pn/bin/primenode", "upgrade", "/p.tgz"]]
    assert not outcome.ok
    assert outcome.rolled_back and not outcome.refused
    assert outcome.failed_step == "releases/2/up_from_1.relup:8 (code_change prime_miner.miner)"
    assert outcome.reason == "code_change of <0.2> raised MinerError: cannot migrate"
    assert [(p.pid, p.name, p.ms) for p in outcome.pauses] == [("<0.2>", "prime_miner", 2.3)]


def test_a_refusal_is_read_as_refused_not_rolled_back() -> None:
    outcome = NodeCli("/srv/pn", "primenode", FakeScript({"upgrade": (1, "", REFUSED)})).upgrade(
        "2"
    )
    assert outcome.refused and not outcome.rolled_back
    assert outcome.failed_step == "releases/2/up_from_1.relup:3 (load_object_code prime_miner)"


def test_versions_output_that_is_not_two_columns_is_an_error_not_a_guess() -> None:
    cli = NodeCli("/srv/pn", "primenode", FakeScript({"versions": (0, "2 permanent extra\n", "")}))
    with pytest.raises(NodeError, match="expected '<vsn> <status>'"):
        cli.versions()
