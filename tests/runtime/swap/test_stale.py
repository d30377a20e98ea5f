"""What still runs code from an old lib dir, and who holds it (swap/stale.py)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from types import FunctionType, ModuleType

import pytest
from primes_runtime.swap import stale


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
