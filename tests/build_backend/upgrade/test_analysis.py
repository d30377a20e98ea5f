"""Tests for primes_build.upgrade.analysis: what the build sees in a module's source."""

from __future__ import annotations

import textwrap

import pytest
from primes_build.errors import BuildError
from primes_build.upgrade.analysis import FromImport, ModuleFacts, analyse


def facts(source: str, name: str = "app.mod", is_package: bool = False) -> ModuleFacts:
    return analyse(name, textwrap.dedent(source).encode(), is_package=is_package, origin="test")


def test_module_names_passed_to_start_functions_are_callback_modules() -> None:
    f = facts(
        """
        import primes_runtime
        from primes_runtime import supervisor, start_statem
        def go():
            primes_runtime.start_server("app.server", None, name="s")
            start_statem(module="app.machine")
            supervisor.start("app.sup")
            primes_runtime.supervisor.start("app.sup2")
            start_statem(__name__)
        """
    )
    assert f.callback_refs == {"app.server", "app.machine", "app.sup", "app.sup2", "app.mod"}


def test_childspec_start_tuples_name_callback_modules() -> None:
    f = facts(
        """
        from primes_runtime.supervisor import ChildSpec
        A = ChildSpec("a", ("app.a", "start_link", ()))
        B = ChildSpec(id="b", start=("app.b", "start", ()))
        """
    )
    assert f.callback_refs == {"app.a", "app.b"}


def test_a_module_defining_a_handler_at_top_level_is_a_callback_module() -> None:
    assert facts("def handle_cast(msg, state):\n    return state\n").is_callback
    assert not facts("class C:\n    def handle_call(self): ...\n").is_callback


def test_code_change_is_seen_only_at_top_level() -> None:
    assert facts("def code_change(o, s, e):\n    return s\n").defines_code_change
    assert not facts("class C:\n    def code_change(self): ...\n").defines_code_change


def test_from_imports_are_resolved_to_absolute_module_names() -> None:
    f = facts("from .miner import largest\nfrom .. import other\nfrom pm import x as y\n",
              name="app.sub.mod")  # fmt: skip
    assert f.from_imports == (
        FromImport("app.sub.miner", "largest", 1),
        FromImport("app", "other", 2),
        FromImport("pm", "x", 3),
    )


def test_relative_imports_in_a_package_resolve_against_the_package_itself() -> None:
    f = facts("from .miner import largest\n", name="app", is_package=True)
    assert f.from_imports == (FromImport("app.miner", "largest", 1),)


def test_class_fields_come_from_annotations_slots_init_and_namedtuples() -> None:
    f = facts(
        """
        from collections import namedtuple
        from dataclasses import dataclass
        from typing import ClassVar, NamedTuple

        @dataclass(frozen=True)
        class D:
            primes: list[int]
            interval: float = 10.0
            count: ClassVar[int] = 0

        class N(NamedTuple):
            a: int

        class S:
            __slots__ = ("x", "y")

        class P:
            def __init__(self):
                self.z = 1

        T = namedtuple("T", "p q")
        """
    )
    assert f.class_fields == {
        "D": {"primes", "interval"},
        "N": {"a"},
        "S": {"x", "y"},
        "P": {"z"},
        "T": {"p", "q"},
    }


def test_a_syntax_error_is_a_build_error_naming_module_and_line() -> None:
    with pytest.raises(BuildError, match=r"cannot parse module app\.mod") as e:
        facts("x = 1\ndef (:\n")
    assert e.value.line == 2
    assert str(e.value).startswith("app/mod.py:2: cannot parse module app.mod")
