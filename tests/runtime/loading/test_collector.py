"""Tests for loading/collector.py: boot's objects frozen, reclaimed by the next settle."""

from __future__ import annotations

import gc
import threading
import weakref
from collections.abc import Iterator

import pytest
from primes_runtime.loading import collector


class _Thing:
    """A tracked object that can join a cycle and be watched through a weak reference."""

    other: object = None


@pytest.fixture
def unfrozen() -> Iterator[None]:
    """Whatever a test freezes is back in the collector's sight afterwards."""
    yield
    collector.thaw()


@pytest.mark.usefixtures("unfrozen")
def test_a_cycle_through_a_frozen_object_waits_for_settle_and_is_then_reclaimed() -> None:
    boot_time = _Thing()
    collector.freeze_boot()
    assert gc.get_freeze_count() > 0
    later = _Thing()
    boot_time.other, later.other = later, boot_time  # a cycle through the frozen object
    watch = weakref.ref(later)
    del boot_time, later
    gc.collect()
    assert watch() is not None  # frozen: the collector does not walk it
    collector.settle()
    assert watch() is None
    assert gc.get_freeze_count() > 0  # what is still alive is frozen again


@pytest.mark.usefixtures("unfrozen")
def test_a_node_that_froze_at_boot_is_known_frozen_even_while_a_walk_has_it_unfrozen() -> None:
    assert not collector.frozen()
    collector.freeze_boot()
    assert collector.frozen()
    gc.unfreeze()  # what a heap walk does meanwhile (stale.visible)
    assert collector.frozen()
    collector.thaw()
    assert not collector.frozen() and gc.get_freeze_count() == 0


@pytest.mark.usefixtures("unfrozen")
def test_objects_frozen_by_something_else_are_counted() -> None:
    gc.freeze()
    assert collector.frozen()


@pytest.mark.usefixtures("unfrozen")
def test_what_a_script_made_while_the_collector_was_off_is_frozen_in_a_node() -> None:
    collector.freeze_boot()
    gc.disable()
    made = [_Thing() for _ in range(1000)]  # (a script's new states)
    collector.enable_after_script()
    assert gc.isenabled()
    assert gc.get_count()[0] < len(made)  # nothing young left for the first collection
    del made


def _made() -> object:
    """A new function object (a closure: one per call)."""
    value = object()

    def made() -> object:
        return value

    return made


def _listed(obj: object) -> bool:
    return any(o is obj for o in collector.code_objects())


@pytest.mark.usefixtures("unfrozen")
def test_code_objects_lists_frozen_and_young_functions_and_classes_once_without_a_thaw() -> None:
    boot_function, boot_class = _made(), type("BootClass", (), {})
    collector.freeze_boot()
    later = _made()
    found = collector.code_objects()
    seen_by_gc = gc.get_objects()  # the young only: no thaw (and no freeze after one)
    assert not any(o is boot_function for o in seen_by_gc)
    assert any(o is later for o in seen_by_gc)
    del seen_by_gc
    assert [o for o in found if o is boot_function] == [boot_function]
    assert [o for o in found if o is boot_class] == [boot_class]
    assert [o for o in found if o is later] == [later]
    del found


@pytest.mark.usefixtures("unfrozen")
def test_a_frozen_function_that_died_is_no_longer_listed() -> None:
    doomed = _made()
    watch = weakref.ref(doomed)
    collector.freeze_boot()
    assert _listed(doomed)
    del doomed
    assert watch() is None  # freed by its count, frozen or not
    assert not any(o is None for o in collector.code_objects())


@pytest.mark.usefixtures("unfrozen")
def test_code_made_while_the_heap_was_visible_is_listed_once_frozen_again() -> None:
    collector.freeze_boot()
    with collector.visible():
        assert gc.get_freeze_count() == 0
        during = _made()
    assert gc.get_freeze_count() > 0
    assert _listed(during)


@pytest.mark.usefixtures("unfrozen")
def test_an_inner_visible_block_leaves_the_heap_visible_to_the_outer_one() -> None:
    collector.freeze_boot()
    with collector.visible():
        with collector.visible():  # (code_objects in a walk that names holders)
            pass
        assert gc.get_freeze_count() == 0
    assert gc.get_freeze_count() > 0


@pytest.mark.usefixtures("unfrozen")
def test_code_a_script_made_is_listed_after_it_is_frozen() -> None:
    collector.freeze_boot()
    gc.disable()
    made = _made()
    collector.enable_after_script()
    assert _listed(made)
    collector.settle()
    assert _listed(made)


@pytest.mark.usefixtures("unfrozen")
def test_code_objects_sees_what_something_else_froze() -> None:
    frozen_by_a_test = _made()
    gc.freeze()
    assert _listed(frozen_by_a_test)
    assert gc.get_freeze_count() > 0  # frozen again after the look


def test_after_a_script_a_process_that_never_froze_only_collects_again() -> None:
    gc.disable()
    collector.enable_after_script()
    assert gc.isenabled() and gc.get_freeze_count() == 0


@pytest.mark.usefixtures("unfrozen")
def test_settle_leaves_alone_a_heap_that_something_other_than_a_boot_froze() -> None:
    gc.freeze()  # (a test, say, while a settle timer of an earlier install is pending)
    made = [_Thing() for _ in range(100)]
    collector.settle()
    young = {id(o) for o in gc.get_objects()}  # (frozen objects are not among them)
    assert all(id(thing) in young for thing in made)  # not frozen by the settle
    assert id(made) in young
    assert gc.get_freeze_count() > 0  # nor the frozen heap brought back
    del made, young


def test_settle_does_nothing_in_a_process_that_never_froze() -> None:
    assert gc.get_freeze_count() == 0
    collector.settle()
    assert gc.get_freeze_count() == 0


class _Guard:
    """A context manager that records which thread entered and left it."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []

    def __enter__(self) -> None:
        self.events.append(("enter", threading.current_thread().name))

    def __exit__(self, *exc: object) -> None:
        self.events.append(("exit", threading.current_thread().name))


def test_settle_later_runs_on_a_daemon_timer_inside_its_guard() -> None:
    guard = _Guard()
    timer = collector.settle_later(guard, 0.01)
    assert timer is not None
    timer.join(10)
    assert timer.daemon and not timer.is_alive()
    assert guard.events == [("enter", "primes-collector"), ("exit", "primes-collector")]


def test_a_settle_waits_while_a_release_operation_holds_the_lock() -> None:
    lock = threading.RLock()
    with lock:
        timer = collector.settle_later(lock, 0.0)
        assert timer is not None
        timer.join(0.2)
        assert timer.is_alive()  # waiting for the lock, not settling
    timer.join(10)
    assert not timer.is_alive()
