"""Tests for compiled extension modules in upgrades: refused in place, accepted with a restart."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest
from primes_build.errors import BuildError
from primes_build.upgrade import plan_upgrades
from primes_build.upgrade.extensions import ExtensionChange, extension_changes
from primes_build.upgrade.release_view import ReleaseView
from primes_runtime.formats import relup as ll

from tests.build_backend.upgrade.fakes import (
    SEED_FRONTMAN,
    SEED_PRIME_MINER,
    SEED_PRIMES,
    Said,
    app_dir,
    parse,
    release,
    texts,
)

OLD_SO = "a" * 64
NEW_SO = "b" * 64
RESTART_BOTH = """
[tool.primes.app.upgrade."2"]
up_from."1" = [{ restart_application = "prime_miner" }]
down_to."1" = [{ restart_application = "prime_miner" }]
"""


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def plan(
    tmp_path: Path,
    old: Mapping[str, str] | None,
    new: Mapping[str, str] | None,
    declaration: str = "",
) -> tuple[dict[str, list[ll.Instruction]], Said]:
    """prime_miner 1 -> 2 with the same sources and the given extensions (None: no key)."""
    said = Said()
    apps = {"frontman": ("1", SEED_FRONTMAN), "primes": ("1", SEED_PRIMES)}

    def one(version: str, extensions: Mapping[str, str] | None) -> ReleaseView:
        return release(
            version,
            {"prime_miner": (version, SEED_PRIME_MINER), **apps},
            extensions=None if extensions is None else {"prime_miner": extensions},
        )

    scripts = texts(
        plan_upgrades(
            one("2", new),
            [one("1", old)],
            {"prime_miner": app_dir(tmp_path, "prime_miner", "2", declaration)},
            said,
        )
    )
    return {path: parse(text) for path, text in scripts.items()}, said


def test_a_changed_extension_is_refused_naming_the_app_the_module_and_the_fix(
    tmp_path: Path,
) -> None:
    with pytest.raises(BuildError) as e:
        plan(tmp_path, {"prime_miner.fastbit": OLD_SO}, {"prime_miner.fastbit": NEW_SO})
    assert str(e.value) == (
        "apps/prime_miner/pyproject.toml: cannot upgrade prime_miner 1 -> 2 in place: its "
        "compiled extension module prime_miner.fastbit changed, and compiled extensions cannot "
        'be replaced in a running node; declare [tool.primes.app.upgrade."2"] up_from."1" = '
        '[{ restart_application = "prime_miner" }] in apps/prime_miner/pyproject.toml '
        "(docs/app-config.md)"
    )
    assert "\n" not in str(e.value)


def test_a_new_extension_is_refused_when_the_earlier_manifest_has_no_extensions_key(
    tmp_path: Path,
) -> None:
    with pytest.raises(BuildError, match=r"prime_miner\.fastbit is new in prime_miner 2"):
        plan(tmp_path, None, {"prime_miner.fastbit": NEW_SO})


def test_a_gone_extension_is_refused(tmp_path: Path) -> None:
    with pytest.raises(BuildError, match=r"prime_miner\.fastbit is gone from prime_miner 2"):
        plan(tmp_path, {"prime_miner.fastbit": OLD_SO}, {})


def test_a_restart_declared_only_going_up_leaves_the_downgrade_refused(tmp_path: Path) -> None:
    declaration = """
    [tool.primes.app.upgrade."2"]
    up_from."1" = [{ restart_application = "prime_miner" }]
    """
    with pytest.raises(BuildError) as e:
        plan(
            tmp_path, {"prime_miner.fastbit": OLD_SO}, {"prime_miner.fastbit": NEW_SO}, declaration
        )
    assert "cannot upgrade prime_miner 2 -> 1 in place" in e.value.message
    assert 'declare [tool.primes.app.upgrade."2"] down_to."1" = [' in e.value.message


def test_a_declared_restart_application_is_accepted_and_warns_the_old_extension_stays(
    tmp_path: Path,
) -> None:
    scripts, said = plan(
        tmp_path, {"prime_miner.fastbit": OLD_SO}, {"prime_miner.fastbit": NEW_SO}, RESTART_BOTH
    )
    for path in ("releases/2/up_from_1.relup", "releases/2/down_to_1.relup"):
        assert ll.StopApp("prime_miner") in scripts[path]
        assert ll.StartApp("prime_miner") in scripts[path]
    warnings = [line for line in said.lines if "warning" in line]
    assert warnings == [
        "    warning: prime_miner 1 -> 2: compiled extension module prime_miner.fastbit changed; "
        "if the node has imported it, it keeps the old one until the node restarts "
        "(restart_application cannot replace it)",
        "    warning: prime_miner 2 -> 1: compiled extension module prime_miner.fastbit changed; "
        "if the node has imported it, it keeps the old one until the node restarts "
        "(restart_application cannot replace it)",
    ]


def test_a_declared_restart_with_a_new_extension_is_accepted_without_a_warning(
    tmp_path: Path,
) -> None:
    _, said = plan(tmp_path, {}, {"prime_miner.fastbit": NEW_SO}, RESTART_BOTH)
    assert not [line for line in said.lines if "warning" in line]


def test_unchanged_extensions_change_nothing(tmp_path: Path) -> None:
    same = {"prime_miner.fastbit": OLD_SO}
    with_ext, said_with = plan(tmp_path, same, same)
    without, said_without = plan(tmp_path, None, None)
    assert with_ext == without
    assert said_with.lines == said_without.lines
    assert "    prime_miner 1 -> 2: derived nothing" in said_with.lines


def test_an_app_whose_version_did_not_change_is_not_checked(tmp_path: Path) -> None:
    apps = {"prime_miner": ("1", SEED_PRIME_MINER), "primes": ("1", SEED_PRIMES)}
    scripts = texts(
        plan_upgrades(
            release("2", apps, extensions={"prime_miner": {"prime_miner.fastbit": NEW_SO}}),
            [release("1", apps, extensions={"prime_miner": {"prime_miner.fastbit": OLD_SO}})],
            {},
            Said(),
        )
    )
    assert parse(scripts["releases/2/up_from_1.relup"]) == [ll.PointOfNoReturn()]


def test_extension_changes_lists_new_gone_and_changed_sorted() -> None:
    before = {"a.kept": "1", "b.changed": "1", "c.gone": "1"}
    after = {"a.kept": "1", "b.changed": "2", "d.new": "1"}
    assert extension_changes("app", "2", before, after) == (
        ExtensionChange("b.changed", "changed"),
        ExtensionChange("c.gone", "is gone from app 2"),
        ExtensionChange("d.new", "is new in app 2"),
    )
