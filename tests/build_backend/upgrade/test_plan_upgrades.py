"""Tests for primes_build.upgrade.plan_upgrades: declared, derived and compiled, end to end."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from primes_build.errors import BuildError
from primes_build.upgrade import plan_upgrades
from primes_runtime.formats import relup as ll

from tests.build_backend.upgrade.fakes import (
    MINER,
    SEED_FRONTMAN,
    SEED_PRIME_MINER,
    SEED_PRIMES,
    Said,
    app_dir,
    chain_release,
    chain_sources,
    parse,
    release,
    seed_release,
    seed_sources,
    texts,
)


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def two_releases(
    tmp_path: Path, old: dict[str, str], new: dict[str, str], declaration: str = ""
) -> tuple[dict[str, list[ll.Instruction]], Said]:
    """prime_miner 1 -> 2 with the given module sources (frontman, primes unchanged)."""
    said = Said()
    apps = {"frontman": ("1", SEED_FRONTMAN), "primes": ("1", SEED_PRIMES)}
    scripts = texts(
        plan_upgrades(
            release("2", {"prime_miner": ("2", new), **apps}),
            [release("1", {"prime_miner": ("1", old), **apps})],
            {
                "prime_miner": app_dir(tmp_path, "prime_miner", "2", declaration),
                "frontman": app_dir(tmp_path, "frontman", "1"),
            },
            said,
        )
    )
    return {path: parse(text) for path, text in scripts.items()}, said


def test_the_seed_says_what_it_declared_in_both_directions(tmp_path: Path) -> None:
    said = Said()
    texts(
        plan_upgrades(
            seed_release("2", "2"), [seed_release("1", "1")], seed_sources(tmp_path), said
        )
    )
    assert said.lines == [
        "==> upgrade 1 -> 2",
        "    prime_miner 1 -> 2: declared (update prime_miner.miner extra 'from1to2')",
        "==> downgrade 2 -> 1",
        "    prime_miner 2 -> 1: declared (update prime_miner.miner extra 'from2to1')",
    ]


def test_a_chain_of_three_releases_gives_scripts_from_both_earlier_ones(tmp_path: Path) -> None:
    earlier = [chain_release("1"), chain_release("2")]
    scripts = texts(plan_upgrades(chain_release("3"), earlier, chain_sources(tmp_path), Said()))
    assert sorted(scripts) == [
        "releases/3/down_to_1.relup",
        "releases/3/down_to_2.relup",
        "releases/3/up_from_1.relup",
        "releases/3/up_from_2.relup",
    ]
    changes = {
        path: [i for i in parse(text) if isinstance(i, ll.CodeChange)]
        for path, text in scripts.items()
    }
    assert changes["releases/3/up_from_1.relup"] == [
        ll.CodeChange(("prime_miner.miner",), "up", "1", "from1to3", 5.0)
    ]
    assert changes["releases/3/up_from_2.relup"] == [
        ll.CodeChange(("prime_miner.miner",), "up", "2", "from2to3", 5.0)
    ]
    assert changes["releases/3/down_to_2.relup"] == [
        ll.CodeChange(("prime_miner.miner",), "down", ("down", "2"), "down", 5.0)
    ]


def test_a_changed_callback_module_with_no_declaration_derives_an_update(tmp_path: Path) -> None:
    new = dict(SEED_PRIME_MINER, **{"prime_miner.miner": MINER + "\nX = 1\n"})
    scripts, said = two_releases(tmp_path, SEED_PRIME_MINER, new)
    assert "    prime_miner 1 -> 2: derived update prime_miner.miner" in said.lines
    assert scripts["releases/2/up_from_1.relup"][2:7] == [
        ll.Suspend(("prime_miner.miner",), 5.0),
        ll.SwitchAppPath("prime_miner", "1", "2", "lib/prime_miner-1", "lib/prime_miner-2"),
        ll.Load("prime_miner.miner"),
        ll.CodeChange(("prime_miner.miner",), "up", "1", None, 5.0),
        ll.Resume(("prime_miner.miner",)),
    ]
    assert scripts["releases/2/down_to_1.relup"][2:7] == [
        ll.Suspend(("prime_miner.miner",), 5.0),
        ll.CodeChange(("prime_miner.miner",), "down", ("down", "1"), None, 5.0),
        ll.SwitchAppPath("prime_miner", "2", "1", "lib/prime_miner-2", "lib/prime_miner-1"),
        ll.Load("prime_miner.miner"),
        ll.Resume(("prime_miner.miner",)),
    ]


def test_plain_new_and_removed_modules_derive_load_add_and_delete(tmp_path: Path) -> None:
    new = dict(SEED_PRIME_MINER, pm="def largest_prime():\n    return 2\n", extra="X = 1\n")
    del new["prime_miner.sup"]
    scripts, said = two_releases(tmp_path, SEED_PRIME_MINER, new)
    assert (
        "    prime_miner 1 -> 2: derived add_module extra, load_module pm, "
        "delete_module prime_miner.sup" in said.lines
    )
    assert scripts["releases/2/up_from_1.relup"] == [
        ll.LoadObjectCode("prime_miner", "1", "2", "lib/prime_miner-2", ("extra", "pm")),
        ll.PointOfNoReturn(),
        ll.SwitchAppPath("prime_miner", "1", "2", "lib/prime_miner-1", "lib/prime_miner-2"),
        ll.Load("extra"),
        ll.Load("pm"),
        ll.Remove("prime_miner.sup"),
    ]


MERGED_LOADS = """
[tool.primes.app.upgrade."2"]
up_from."1" = [
    { update = "prime_miner.miner", extra = "x" },
    { add_module = "prime_miner.helper" },
    { load_module = "pm" },
    { delete_module = "prime_miner.gone" },
    { apply = "pm:largest_prime" },
]
down_to."1" = [
    { update = "prime_miner.miner", extra = "y" },
    { load_module = "pm" },
    { add_module = "prime_miner.gone" },
    { delete_module = "prime_miner.helper" },
    { apply = "pm:largest_prime" },
]
"""


def merged_loads_releases(tmp_path: Path) -> dict[str, list[ll.Instruction]]:
    """prime_miner 1 -> 2: miner updated, pm changed, a helper added, an old module gone."""
    old = dict(SEED_PRIME_MINER, **{"prime_miner.gone": "X = 1\n"})
    new = dict(SEED_PRIME_MINER, pm="def largest_prime():\n    return 2\n")
    new["prime_miner.helper"] = "def help():\n    return 1\n"
    scripts, _ = two_releases(tmp_path, old, new, MERGED_LOADS)
    return scripts


def test_an_upgrade_loads_all_of_an_apps_modules_before_code_change_and_resume(
    tmp_path: Path,
) -> None:
    up = merged_loads_releases(tmp_path)["releases/2/up_from_1.relup"]
    miner = ("prime_miner.miner",)
    assert up[0] == ll.LoadObjectCode(
        "prime_miner", "1", "2", "lib/prime_miner-2", (*miner, "prime_miner.helper", "pm")
    )
    assert up[2:] == [
        ll.Suspend(miner, 5.0),
        ll.SwitchAppPath("prime_miner", "1", "2", "lib/prime_miner-1", "lib/prime_miner-2"),
        ll.Load("prime_miner.miner"),
        ll.Load("prime_miner.helper"),
        ll.Load("pm"),
        ll.Remove("prime_miner.gone"),
        ll.CodeChange(miner, "up", "1", "x", 5.0),
        ll.Resume(miner),
        ll.Apply("pm", "largest_prime", ()),
    ]


def test_a_downgrade_runs_code_change_then_loads_all_of_an_apps_modules_before_resume(
    tmp_path: Path,
) -> None:
    down = merged_loads_releases(tmp_path)["releases/2/down_to_1.relup"]
    miner = ("prime_miner.miner",)
    assert down[0] == ll.LoadObjectCode(
        "prime_miner", "2", "1", "lib/prime_miner-1", (*miner, "pm", "prime_miner.gone")
    )
    assert down[2:] == [
        ll.Suspend(miner, 5.0),
        ll.CodeChange(miner, "down", ("down", "1"), "y", 5.0),
        ll.SwitchAppPath("prime_miner", "2", "1", "lib/prime_miner-2", "lib/prime_miner-1"),
        ll.Load("prime_miner.miner"),
        ll.Load("pm"),
        ll.Load("prime_miner.gone"),
        ll.Remove("prime_miner.helper"),
        ll.Resume(miner),
        ll.Apply("pm", "largest_prime", ()),
    ]


def test_a_derived_upgrade_loads_changed_helpers_in_module_order_while_suspended(
    tmp_path: Path,
) -> None:
    new = dict(SEED_PRIME_MINER, pm="def largest_prime():\n    return 2\n")
    new["prime_miner.miner"] = MINER + "\nX = 1\n"
    scripts, said = two_releases(tmp_path, SEED_PRIME_MINER, new)
    assert "    prime_miner 1 -> 2: derived load_module pm, update prime_miner.miner" in said.lines
    miner = ("prime_miner.miner",)
    assert scripts["releases/2/up_from_1.relup"][2:] == [
        ll.Suspend(miner, 5.0),
        ll.SwitchAppPath("prime_miner", "1", "2", "lib/prime_miner-1", "lib/prime_miner-2"),
        ll.Load("pm"),
        ll.Load("prime_miner.miner"),
        ll.CodeChange(miner, "up", "1", None, 5.0),
        ll.Resume(miner),
    ]


def test_an_app_whose_modules_did_not_change_still_switches_its_code_dir(tmp_path: Path) -> None:
    scripts, said = two_releases(tmp_path, SEED_PRIME_MINER, SEED_PRIME_MINER)
    assert "    prime_miner 1 -> 2: derived nothing" in said.lines
    assert scripts["releases/2/up_from_1.relup"] == [
        ll.LoadObjectCode("prime_miner", "1", "2", "lib/prime_miner-2", ()),
        ll.PointOfNoReturn(),
        ll.SwitchAppPath("prime_miner", "1", "2", "lib/prime_miner-1", "lib/prime_miner-2"),
    ]


def test_added_and_removed_apps_are_started_and_stopped_and_removed(tmp_path: Path) -> None:
    earlier = [chain_release("2")]
    scripts = texts(plan_upgrades(chain_release("3"), earlier, chain_sources(tmp_path), Said()))
    up = parse(scripts["releases/3/up_from_2.relup"])
    assert up[-4:] == [
        ll.StartApp("ledger"),
        ll.StopApp("legacy"),
        ll.Remove("legacy"),
        ll.Remove("legacy.app"),
    ]
    down = parse(scripts["releases/3/down_to_2.relup"])
    assert down[-4:] == [
        ll.StartApp("legacy"),
        ll.StopApp("ledger"),
        ll.Remove("ledger"),
        ll.Remove("ledger.app"),
    ]


def test_restart_application_stops_switches_loads_and_starts_the_app(tmp_path: Path) -> None:
    new = dict(SEED_PRIME_MINER, pm="def largest_prime():\n    return 2\n")
    declaration = """
    [tool.primes.app.upgrade."2"]
    up_from."1" = [ { restart_application = "prime_miner" } ]
    """
    scripts, _ = two_releases(tmp_path, SEED_PRIME_MINER, new, declaration)
    assert scripts["releases/2/up_from_1.relup"] == [
        ll.LoadObjectCode("prime_miner", "1", "2", "lib/prime_miner-2", ("pm",)),
        ll.PointOfNoReturn(),
        ll.StopApp("prime_miner"),
        ll.SwitchAppPath("prime_miner", "1", "2", "lib/prime_miner-1", "lib/prime_miner-2"),
        ll.Load("pm"),
        ll.StartApp("prime_miner"),
    ]


def test_updates_with_different_extras_get_one_code_change_each(tmp_path: Path) -> None:
    other = MINER.replace("prime_miner", "other")
    old = dict(SEED_PRIME_MINER, **{"prime_miner.other": other})
    declaration = """
    [tool.primes.app.upgrade."2"]
    up_from."1" = [
        { update = "prime_miner.miner", extra = "a" },
        { update = "prime_miner.other", extra = "b", timeout = 30 },
    ]
    """
    scripts, _ = two_releases(tmp_path, old, old, declaration)
    both = ("prime_miner.miner", "prime_miner.other")
    assert scripts["releases/2/up_from_1.relup"][2:9] == [
        ll.Suspend(both, 30.0),
        ll.SwitchAppPath("prime_miner", "1", "2", "lib/prime_miner-1", "lib/prime_miner-2"),
        ll.Load("prime_miner.miner"),
        ll.Load("prime_miner.other"),
        ll.CodeChange(("prime_miner.miner",), "up", "1", "a", 5.0),
        ll.CodeChange(("prime_miner.other",), "up", "1", "b", 30.0),
        ll.Resume(both),
    ]


def test_a_from_import_of_a_replaced_module_is_no_hazard_any_more(tmp_path: Path) -> None:
    frontman = dict(SEED_FRONTMAN, **{"frontman.http": "from pm import largest_prime\n"})
    new_pm = dict(SEED_PRIME_MINER, pm="def largest_prime():\n    return 2\n")
    said = Said()
    apps = {"primes": ("1", SEED_PRIMES), "frontman": ("1", frontman)}
    plan_upgrades(
        release("2", {"prime_miner": ("2", new_pm), **apps}),
        [release("1", {"prime_miner": ("1", SEED_PRIME_MINER), **apps})],
        {},
        said,
    )
    assert [line for line in said.lines if "warning" in line] == []


def test_a_closure_whose_free_variables_change_is_flagged_with_its_way_out(tmp_path: Path) -> None:
    def factory(body: str) -> dict[str, str]:
        return dict(
            SEED_PRIME_MINER,
            pm=f"def make(prefix):\n    def tagged():\n{body}\n    return tagged\n",
        )

    same = "        return prefix + '2'"
    changed = "        return prefix + suffix\n    suffix = '2'"
    _, said = two_releases(tmp_path, factory("        return prefix"), factory(same))
    assert [line for line in said.lines if "warning" in line] == []
    _, said = two_releases(tmp_path / "b", factory("        return prefix"), factory(changed))
    up = (
        "    warning: pm: closure make.<locals>.tagged changed its free variables (prefix -> "
        "prefix, suffix); the node refuses the upgrade while a closure made by the old code is "
        "held outside the module: replace it in a code_change, declare restart_application, "
        "or restart the node"
    )
    down = up.replace("(prefix -> prefix, suffix)", "(prefix, suffix -> prefix)")
    assert [line for line in said.lines if "warning" in line] == [up, down]


def test_a_class_whose_slots_change_is_flagged_with_its_way_out(tmp_path: Path) -> None:
    old = dict(SEED_PRIME_MINER, pm="class Cell:\n    __slots__ = ('a',)\n")
    new = dict(SEED_PRIME_MINER, pm="class Cell:\n    __slots__ = ('a', 'b')\n")
    _, said = two_releases(tmp_path, old, new)
    up = (
        "    warning: pm: class Cell changed its layout (() __slots__ = ('a',) -> () __slots__ "
        "= ('a', 'b')); the node refuses the upgrade while an instance of it is alive: rebuild "
        "them in a code_change, declare restart_application, or restart the node"
    )
    down = up.replace("('a',) -> () __slots__ = ('a', 'b')", "('a', 'b') -> () __slots__ = ('a',)")
    assert [line for line in said.lines if "warning" in line and "layout" in line] == [up, down]


STATE_1 = """
from dataclasses import dataclass

@dataclass
class State:
    primes: list

def handle_call(request, caller, state):
    return state
"""
STATE_2 = STATE_1.replace("primes: list", "primes: list\n    interval: float")


def test_a_changed_state_class_with_code_change_is_a_warning(tmp_path: Path) -> None:
    with_cc = STATE_2 + "\ndef code_change(old_vsn, state, extra):\n    return state\n"
    old = dict(SEED_PRIME_MINER, **{"prime_miner.miner": STATE_1})
    new = dict(SEED_PRIME_MINER, **{"prime_miner.miner": with_cc})
    _, said = two_releases(tmp_path, old, new)
    assert (
        "    warning: class State in prime_miner.miner changed its fields (added: interval); "
        "instances in process state keep the old fields, convert them in code_change"
    ) in said.lines


def test_a_changed_state_class_without_code_change_is_refused(tmp_path: Path) -> None:
    old = dict(SEED_PRIME_MINER, **{"prime_miner.miner": STATE_1})
    new = dict(SEED_PRIME_MINER, **{"prime_miner.miner": STATE_2})
    with pytest.raises(BuildError) as e:
        two_releases(tmp_path, old, new)
    assert str(e.value) == (
        "apps/prime_miner/pyproject.toml: cannot upgrade prime_miner.miner in place: class State "
        "in prime_miner.miner changed its fields (added: interval), its instances may sit in "
        "process state, and prime_miner.miner defines no code_change; add code_change to "
        'prime_miner.miner, or declare [tool.primes.app.upgrade."2"] up_from."1" = '
        '[{ restart_application = "prime_miner" }] in apps/prime_miner/pyproject.toml'
    )


def test_a_declared_restart_is_accepted_where_the_derived_update_was_refused(
    tmp_path: Path,
) -> None:
    old = dict(SEED_PRIME_MINER, **{"prime_miner.miner": STATE_1})
    new = dict(SEED_PRIME_MINER, **{"prime_miner.miner": STATE_2})
    declaration = """
    [tool.primes.app.upgrade."2"]
    up_from."1" = [{ restart_application = "prime_miner" }]
    down_to."1" = [{ restart_application = "prime_miner" }]
    """
    scripts, _ = two_releases(tmp_path, old, new, declaration)
    assert ll.StopApp("prime_miner") in scripts["releases/2/up_from_1.relup"]


def test_a_changed_module_the_declaration_leaves_out_is_flagged(tmp_path: Path) -> None:
    new = dict(SEED_PRIME_MINER, pm="def largest_prime():\n    return 2\n")
    declaration = """
    [tool.primes.app.upgrade."2"]
    up_from."1" = [ { update = "prime_miner.miner", extra = "x" } ]
    """
    _, said = two_releases(tmp_path, SEED_PRIME_MINER, new, declaration)
    assert (
        "    warning: prime_miner 1 -> 2: pm changed but apps/prime_miner/pyproject.toml "
        '`tool.primes.app.upgrade."2".up_from."1"` does not name it; it keeps its old code '
        "until the node restarts"
    ) in said.lines


@pytest.mark.parametrize(
    ("instruction", "says"),
    [
        ('{ update = "prime_miner.nope" }', "prime_miner.nope is not a module of prime_miner 2"),
        ('{ add_module = "pm" }', "pm is already in prime_miner 1; use update or load_module"),
        ('{ delete_module = "pm" }', "pm is still in prime_miner 2"),
        ('{ restart_application = "frontman" }', "may only name the app that declares it"),
        ('{ add_application = "frontman" }', "frontman, which is not new in the target release"),
        ('{ remove_application = "ghost" }', "ghost, which is not in release 1"),
        ('{ apply = "nowhere:f" }', "apply names module nowhere"),
    ],
)
def test_a_declaration_that_does_not_fit_the_versions_is_refused_with_its_location(
    tmp_path: Path, instruction: str, says: str
) -> None:
    declaration = f"""
    [tool.primes.app.upgrade."2"]
    down_to."1" = []
    up_from."1" = [
        {{ apply = "pm:largest_prime" }},
        {instruction},
    ]
    """
    with pytest.raises(BuildError) as e:
        two_releases(tmp_path, SEED_PRIME_MINER, SEED_PRIME_MINER, declaration)
    assert e.value.file == "apps/prime_miner/pyproject.toml"
    assert e.value.key == 'tool.primes.app.upgrade."2".up_from."1"[1]'
    assert e.value.line == 12
    assert says in e.value.message


def test_a_module_named_twice_is_refused(tmp_path: Path) -> None:
    declaration = textwrap.dedent(
        """
        [tool.primes.app.upgrade."2"]
        up_from."1" = [ { update = "pm" }, { load_module = "pm" } ]
        """
    )
    with pytest.raises(BuildError, match="pm is named twice"):
        two_releases(tmp_path, SEED_PRIME_MINER, SEED_PRIME_MINER, declaration)


def test_an_earlier_release_with_the_new_version_is_refused() -> None:
    with pytest.raises(BuildError, match=r"bump the version in primes\.toml"):
        texts(plan_upgrades(seed_release("2", "2"), [seed_release("2", "1")], {}, Said()))


STORE_1 = """
def handle_call(request, caller, state):
    return state.get(request)
"""
STORE_2 = """
def handle_call(request, caller, state):
    return state["items"].get(request)
"""
HANDLER_WARNING = (
    "    warning: prime_miner.miner: update derived, its handlers changed (handle_call) but it "
    "defines no code_change, so its processes keep their state as it is; if the new handlers "
    "expect another state, add code_change (a crash in the upgrade's probation rolls it back)"
)


def test_a_derived_update_whose_handlers_changed_without_code_change_is_a_warning(
    tmp_path: Path,
) -> None:
    old = dict(SEED_PRIME_MINER, **{"prime_miner.miner": STORE_1})
    new = dict(SEED_PRIME_MINER, **{"prime_miner.miner": STORE_2})
    scripts, said = two_releases(tmp_path, old, new)
    assert said.lines.count(HANDLER_WARNING) == 1  # once, though both scripts carry it
    assert any(isinstance(i, ll.CodeChange) for i in scripts["releases/2/up_from_1.relup"])


def test_changed_handlers_with_a_code_change_or_only_moved_lines_give_no_warning(
    tmp_path: Path,
) -> None:
    old = dict(SEED_PRIME_MINER, **{"prime_miner.miner": STORE_1})
    with_cc = STORE_2 + "\ndef code_change(old_vsn, state, extra):\n    return state\n"
    moved = "# a comment moves the handler down\n\n" + STORE_1
    for source in (with_cc, moved):
        new = dict(SEED_PRIME_MINER, **{"prime_miner.miner": source})
        _, said = two_releases(tmp_path, old, new)
        assert not [line for line in said.lines if "handlers changed" in line], source
