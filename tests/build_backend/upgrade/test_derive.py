"""Tests for primes_build.upgrade.derive: each kind of module change gives its instruction."""

from __future__ import annotations

from primes_build.upgrade import instructions as hl
from primes_build.upgrade.derive import derive


def test_an_unchanged_module_derives_nothing() -> None:
    assert derive({"m": "h1"}, {"m": "h1"}, frozenset({"m"})) == ()


def test_a_changed_callback_module_derives_update() -> None:
    assert derive({"m": "h1"}, {"m": "h2"}, frozenset({"m"})) == (hl.Update("m"),)


def test_a_changed_plain_module_derives_load_module() -> None:
    assert derive({"m": "h1"}, {"m": "h2"}, frozenset()) == (hl.LoadModule("m"),)


def test_a_new_module_derives_add_module() -> None:
    assert derive({}, {"m": "h"}, frozenset({"m"})) == (hl.AddModule("m"),)


def test_a_removed_module_derives_delete_module() -> None:
    assert derive({"m": "h"}, {}, frozenset()) == (hl.DeleteModule("m"),)


def test_derived_instructions_come_in_module_order_so_packages_precede_submodules() -> None:
    got = derive({"p.b": "1"}, {"p": "1", "p.a": "1", "p.b": "2"}, frozenset())
    assert got == (hl.AddModule("p"), hl.AddModule("p.a"), hl.LoadModule("p.b"))
