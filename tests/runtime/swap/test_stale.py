"""What still runs code from an old lib dir, and who holds it (swap/stale.py)."""

from __future__ import annotations

import functools
import gc
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FunctionType, ModuleType

import pytest
from primes_runtime.swap import stale
from primes_runtime.swap.journal import Journal


@pytest.fixture
def module() -> Iterator[ModuleType]:
    """A module in sys.modules that the test fills; removed after."""
    made = ModuleType("stale_test_holder")
    sys.modules[made.__name__] = made
    try:
        yield made
    finally:
        del sys.modules[made.__name__]


def old_function(old_dir: Path, name: str) -> FunctionType:
    """A function whose code was compiled from a file in `old_dir`."""
    namespace: dict[str, object] = {"__name__": "app.m"}
    exec(compile(f"def {name}():\n    return 1\n", str(old_dir / "m.py"), "exec"), namespace)
    made = namespace[name]
    assert isinstance(made, FunctionType)
    return made


class Box:
    """A plain object with a __dict__, as a process's state holds things."""


def test_each_of_forty_objects_is_named_by_the_module_name_that_holds_it(
    module: ModuleType,
) -> None:
    items = [Box() for _ in range(40)]  # more than one heap walk's batch
    for index, item in enumerate(items):
        setattr(module, f"item_{index}", item)
    found = stale._Roots([], []).holders_of(items)
    assert found == [[f"module stale_test_holder name item_{i}"] for i in range(40)]


def test_an_object_a_process_keeps_in_its_state_is_named_by_that_process() -> None:
    process, kept = Box(), Box()
    process.state = {"kept": kept}  # type: ignore[attr-defined]
    found = stale._Roots([("process <0.7> (keeper)", process)], []).holders_of([kept])
    assert found == [["process <0.7> (keeper)"]]


def test_an_object_only_an_ignored_container_keeps_has_no_holders() -> None:
    journal: list[object] = [Box()]
    assert stale._Roots([], [journal]).holders_of([journal[0]]) == [None]


def test_the_lookups_own_lists_are_never_holders(module: ModuleType) -> None:
    held, loose = Box(), Box()
    module.held = held  # type: ignore[attr-defined]
    found = stale._Roots([], []).holders(held), stale._Roots([], []).holders(loose)
    assert found == (["module stale_test_holder name held"], None)


def test_garbage_bound_to_an_old_dir_is_collected_and_not_listed(tmp_path: Path) -> None:
    old = tmp_path / "lib" / "app-1"
    old.mkdir(parents=True)
    cycle = Box()
    cycle.me = cycle  # type: ignore[attr-defined]
    cycle.code = old_function(old, "gone")  # type: ignore[attr-defined]
    del cycle
    assert stale.find(tmp_path, {old: None}) == []


def test_an_old_function_a_module_holds_is_listed_with_that_module(
    tmp_path: Path, module: ModuleType
) -> None:
    old = tmp_path / "lib" / "app-1"
    old.mkdir(parents=True)
    module.handler = old_function(old, "handler")  # type: ignore[attr-defined]
    found = stale.find(tmp_path, {old: None})
    assert [(s.kind, s.name, s.file, s.held_by) for s in found] == [
        ("function", "app.m.handler", "lib/app-1/m.py", ("module stale_test_holder name handler",))
    ]


def journal_keeping_old_function(old_dir: Path, holder: Box) -> Journal:
    """A journal that recorded `holder.handler`, an old function, before a swap replaced it
    (the journal is then all that refers to the old function)."""
    journal = Journal()
    holder.handler = old_function(old_dir, "handler")  # type: ignore[attr-defined]
    del holder.handler.__globals__["handler"]  # type: ignore[attr-defined]  # not a cycle
    journal.attribute(holder, "handler")
    journal.attribute(holder, "handler")  # recorded twice: two references, both the journal's
    holder.handler = None  # type: ignore[attr-defined]
    return journal


@pytest.fixture
def old(tmp_path: Path) -> Path:
    """An old lib dir, lib/app-1."""
    made = tmp_path / "lib" / "app-1"
    made.mkdir(parents=True)
    return made


def found_in(old: Path, journal: Journal, owners: list[tuple[str, object]]) -> list[object]:
    """`find` in the tree of ``old`` with the journal's containers ignored: (name, held_by)."""
    found = stale.find(old.parent.parent, {old: None}, owners, journal.containers())
    return [(s.name, s.held_by) for s in found]


def test_an_old_function_only_an_undo_journal_keeps_is_not_listed(old: Path) -> None:
    journal = journal_keeping_old_function(old, Box())
    assert found_in(old, journal, []) == []


def test_an_old_function_a_process_state_keeps_besides_the_journal_is_listed_with_it(
    old: Path,
) -> None:
    journal = journal_keeping_old_function(old, Box())
    process = Box()
    process.state = {"kept": journal.saved[0]}  # type: ignore[attr-defined]
    assert found_in(old, journal, [("process <0.7> (keeper)", process)]) == [
        ("app.m.handler", ("process <0.7> (keeper)",))
    ]


def closure_of(kept: object) -> object:
    def closure() -> object:
        return kept

    return closure


@pytest.mark.parametrize(
    "wrap",
    [lambda kept: kept, lambda kept: functools.partial(print, kept), closure_of],
    ids=["itself", "partial", "closure"],
)
def test_an_old_function_a_module_keeps_besides_the_journal_is_listed_with_it(
    old: Path, module: ModuleType, wrap: Callable[[object], object]
) -> None:
    journal = journal_keeping_old_function(old, Box())
    module.kept = wrap(journal.saved[0])  # type: ignore[attr-defined]
    assert found_in(old, journal, []) == [
        ("app.m.handler", ("module stale_test_holder name kept",))
    ]


@pytest.fixture
def no_automatic_collection() -> Iterator[None]:
    """The cycle collector runs only when called (garbage stays until then)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@pytest.mark.usefixtures("no_automatic_collection")
def test_an_old_function_a_garbage_cycle_keeps_besides_the_journal_is_not_listed(
    old: Path,
) -> None:
    journal = journal_keeping_old_function(old, Box())
    cycle = Box()
    cycle.me = cycle  # type: ignore[attr-defined]
    cycle.code = journal.saved[0]  # type: ignore[attr-defined]
    del cycle
    assert found_in(old, journal, []) == []


def test_find_lists_the_owners_only_when_it_names_holders(old: Path) -> None:
    listed: list[str] = []

    def owners() -> Iterator[tuple[str, object]]:
        listed.append("listed")
        yield ("process <0.7> (keeper)", Box())

    assert stale.find(old.parent.parent, {old: None}, owners()) == []
    assert listed == []


class Table:
    """A process table that counts how often it is read."""

    def __init__(self) -> None:
        self.reads = 0

    def all(self) -> list[Box]:
        self.reads += 1
        process = Box()
        process.pid = "<0.7>"  # type: ignore[attr-defined]
        return [process]

    def name_of(self, pid: object) -> str | None:
        return "keeper"


def test_the_process_table_is_read_only_when_the_owners_are_listed() -> None:
    table = Table()
    owners = stale.process_owners(table)
    assert table.reads == 0
    assert [label for label, _ in owners] == ["process <0.7> (keeper)"]
    assert table.reads == 1
