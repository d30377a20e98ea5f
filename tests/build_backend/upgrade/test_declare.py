"""Tests for primes_build.upgrade.declare: reading and validating [tool.primes.app.upgrade]."""

from __future__ import annotations

import textwrap
import tomllib
from pathlib import Path

import pytest
from primes_build.errors import BuildError
from primes_build.upgrade import instructions as hl
from primes_build.upgrade.declare import AppDeclarations, parse_declarations, read_declarations

from tests.build_backend.upgrade.fakes import SEED_DECLARATION, app_dir

HEAD = '[project]\nname = "prime_miner"\nversion = "2"\n\n[tool.primes.app]\nstart = "x:y"\n'


def declare(table: str) -> AppDeclarations:
    text = HEAD + textwrap.dedent(table)
    return parse_declarations("prime_miner", tomllib.loads(text), text, "apps/pm/pyproject.toml")


def refused(table: str) -> BuildError:
    with pytest.raises(BuildError) as e:
        declare(table)
    return e.value


def test_the_seed_declaration_reads_as_updates_with_their_extras() -> None:
    decl = declare(SEED_DECLARATION)
    up = decl.lookup("2", "up_from", "1")
    down = decl.lookup("2", "down_to", "1")
    assert up is not None and down is not None
    assert [i.instr for i in up[1]] == [hl.Update("prime_miner.miner", "from1to2")]
    assert [i.instr for i in down[1]] == [hl.Update("prime_miner.miner", "from2to1")]
    assert up[1][0].key == 'tool.primes.app.upgrade."2".up_from."1"[0]'
    assert up[1][0].line == 9


def test_no_upgrade_table_declares_nothing() -> None:
    assert declare("").lookup("2", "up_from", "1") is None


def test_a_star_matches_any_version_not_listed() -> None:
    decl = declare(
        """
        [tool.primes.app.upgrade."3"]
        up_from."2" = [ { load_module = "a" } ]
        up_from."*" = [ { restart_application = "prime_miner" } ]
        """
    )
    assert decl.lookup("3", "up_from", "2") == ("2", decl.versions["3"]["up_from"]["2"])
    star = decl.lookup("3", "up_from", "1")
    assert star is not None and star[0] == "*"
    assert star[1][0].instr == hl.RestartApplication("prime_miner")
    assert decl.lookup("4", "up_from", "1") is None


def test_every_instruction_form_is_read() -> None:
    decl = declare(
        """
        [tool.primes.app.upgrade."2"]
        up_from."1" = [
            { update = "a", extra = { k = [1, 2] }, timeout = 9 },
            { load_module = "b" },
            { add_module = "c" },
            { delete_module = "d" },
            { add_application = "e" },
            { remove_application = "f" },
            { restart_application = "g" },
            { apply = "h.i:j", args = ["x", 1] },
        ]
        """
    )
    assert [i.instr for i in decl.versions["2"]["up_from"]["1"]] == [
        hl.Update("a", {"k": [1, 2]}, 9.0),
        hl.LoadModule("b"),
        hl.AddModule("c"),
        hl.DeleteModule("d"),
        hl.AddApplication("e"),
        hl.RemoveApplication("f"),
        hl.RestartApplication("g"),
        hl.Apply("h.i", "j", ("x", 1)),
    ]
    assert [i.line for i in decl.versions["2"]["up_from"]["1"]] == list(range(10, 18))


def test_an_unknown_instruction_is_refused_with_file_line_key_and_a_hint() -> None:
    err = refused(
        """
        [tool.primes.app.upgrade."2"]
        up_from."1" = [ { update = "a" }, { updte = "b" } ]
        """
    )
    assert str(err) == (
        'apps/pm/pyproject.toml:9: `tool.primes.app.upgrade."2".up_from."1"[1]`: '
        "unknown instruction `updte`; did you mean `update`?"
    )


def test_a_malformed_instruction_in_a_multiline_array_is_located_on_its_own_line() -> None:
    err = refused(
        """
        [tool.primes.app.upgrade."2"]
        down_to."1" = [ { update = "a" } ]
        up_from."1" = [
            { update = "a" },
            { load_module = "b", extra = 1 },
        ]
        """
    )
    assert err.line == 12
    assert err.key == 'tool.primes.app.upgrade."2".up_from."1"[1]'
    assert "unknown key `extra` for `load_module`" in err.message


@pytest.mark.parametrize(
    ("table", "says"),
    [
        ('[tool.primes.app.upgrade."2"]\nup_frm."1" = []\n', "did you mean `up_from`"),
        ('[tool.primes.app.upgrade."2"]\nup_from = 1\n', "must be a table of versions"),
        ('[tool.primes.app.upgrade."2"]\nup_from."1" = { update = "a" }\n', "array"),
        ('[tool.primes.app.upgrade."2"]\nup_from."1" = ["a"]\n', "inline table"),
        (
            '[tool.primes.app.upgrade."2"]\nup_from."1" = [{ update = "a", load_module = "a" }]\n',
            "names 2 instructions",
        ),
        ('[tool.primes.app.upgrade."2"]\nup_from."1" = [{ extra = 1 }]\n', "names no instruction"),
        (
            '[tool.primes.app.upgrade."2"]\nup_from."1" = [{ update = "a", timeout = 0 }]\n',
            "positive number",
        ),
        (
            '[tool.primes.app.upgrade."2"]\nup_from."1" = [{ update = "a", timeout = "5" }]\n',
            "number of seconds",
        ),
        (
            '[tool.primes.app.upgrade."2"]\nup_from."1" = [{ update = "a", extra = 1979-05-27 }]\n',
            "plain data",
        ),
        (
            '[tool.primes.app.upgrade."2"]\nup_from."1" = [{ update = "not a module" }]\n',
            "dotted module name",
        ),
        ('[tool.primes.app.upgrade."2"]\nup_from."1" = [{ update = 3 }]\n', "must be a string"),
        ('[tool.primes.app.upgrade."2"]\nup_from."1" = [{ apply = "m.f" }]\n', '"module:function"'),
        (
            '[tool.primes.app.upgrade."2"]\nup_from."1" = [{ apply = "m:f", args = 1 }]\n',
            "`args` must be an array",
        ),
        ('[tool.primes.app.upgrade]\n"2" = 1\n', "up_from` and/or `down_to"),
    ],
)
def test_malformed_declarations_are_refused(table: str, says: str) -> None:
    err = refused(table)
    assert says in err.message
    assert err.file == "apps/pm/pyproject.toml"
    assert err.line is not None and err.line >= 7


def test_read_declarations_refuses_invalid_toml_naming_the_file(tmp_path: Path) -> None:
    path = app_dir(tmp_path, "a", "1", "[tool.primes.app.upgrade\n")
    with pytest.raises(BuildError, match="not valid TOML") as e:
        read_declarations("a", path, "apps/a/pyproject.toml")
    assert e.value.file == "apps/a/pyproject.toml"
