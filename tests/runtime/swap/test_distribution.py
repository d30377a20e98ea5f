"""A distribution swapped whole, in-process: every holder runs the new code, undo is exact."""

from __future__ import annotations

import functools
import importlib
import importlib.machinery
import sys
import textwrap
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest
from primes_runtime.errors import CodeLoadError
from primes_runtime.loading import code_server
from primes_runtime.swap import distribution, stale
from primes_runtime.swap.journal import Journal

CORE = """
import functools

def greet():
    return "v{v}"

class Counter:
    def who(self):
        return "counter v{v}"

def make(prefix):
    def tagged():
        return prefix + " v{v}"
    return tagged

@functools.lru_cache
def cached(x):
    return "cache v{v}"
"""

PACKAGE = """
from .core import greet, Counter
VERSION = "{v}"
"""


@dataclass
class Dist:
    """A package in two versions on disk; version 1 imported, held by an outside module."""

    name: str
    old: Path
    new: Path
    holder: ModuleType

    def swap(self) -> Journal:
        prepared = distribution.prepare(self.name, self.old, self.new)
        journal = Journal()
        distribution.install(prepared, journal)
        return journal

    def answers(self) -> dict[str, object]:
        h = self.holder
        package = sys.modules[self.name]
        return {
            "from-import": h.greet(),
            "re-export": h.reexported(),
            "partial": h.partial(),
            "bound method": h.bound(),
            "closure": h.closure(),
            "instance": h.counter.who(),
            "isinstance": isinstance(h.counter, sys.modules[f"{self.name}.core"].Counter),
            "lru cache": h.cached(1),
            "constant": package.VERSION,
        }


def write(root: Path, name: str, v: int, core: str = CORE) -> None:
    (root / name).mkdir(parents=True)
    (root / name / "__init__.py").write_text(textwrap.dedent(PACKAGE.format(v=v)))
    (root / name / "core.py").write_text(textwrap.dedent(core.format(v=v)))


@pytest.fixture
def dist(tmp_path: Path) -> Iterator[Dist]:
    name = f"sw_{uuid.uuid4().hex[:8]}"
    old, new = tmp_path / "lib" / f"{name}-1", tmp_path / "lib" / f"{name}-2"
    write(old, name, 1)
    write(new, name, 2)
    sys.path.insert(0, str(old))
    importlib.invalidate_caches()
    core = importlib.import_module(f"{name}.core")
    package = sys.modules[name]
    holder = ModuleType(f"{name}_holder")
    holder.greet = core.greet  # type: ignore[attr-defined]
    holder.reexported = package.greet  # type: ignore[attr-defined]
    holder.partial = functools.partial(core.greet)  # type: ignore[attr-defined]
    holder.counter = core.Counter()  # type: ignore[attr-defined]
    holder.bound = holder.counter.who  # type: ignore[attr-defined]
    holder.closure = core.make("x")  # type: ignore[attr-defined]
    holder.cached = core.cached  # type: ignore[attr-defined]
    sys.modules[holder.__name__] = holder
    yield Dist(name, old, new, holder)
    for key in [k for k in sys.modules if k.startswith(name)]:
        del sys.modules[key]
    for entry in (str(old), str(new)):
        if entry in sys.path:
            sys.path.remove(entry)


def version_1() -> dict[str, object]:
    return {
        "from-import": "v1", "re-export": "v1", "partial": "v1", "bound method": "counter v1",
        "closure": "x v1", "instance": "counter v1", "isinstance": True, "lru cache": "cache v1",
        "constant": "1",
    }  # fmt: skip


def version_2() -> dict[str, object]:
    return {
        "from-import": "v2", "re-export": "v2", "partial": "v2", "bound method": "counter v2",
        "closure": "x v2", "instance": "counter v2", "isinstance": True, "lru cache": "cache v2",
        "constant": "2",
    }  # fmt: skip


def test_every_holder_of_the_old_code_runs_the_new_code_after_the_swap(dist: Dist) -> None:
    assert dist.answers() == version_1()
    journal = dist.swap()
    assert dist.answers() == version_2()
    lib = dist.old.parent
    assert stale.find(lib.parent, {dist.old: dist.new}, ignore=journal.containers()) == []


def test_undoing_the_swap_puts_back_exactly_the_old_code(dist: Dist) -> None:
    core_before = sys.modules[f"{dist.name}.core"]
    journal = dist.swap()
    assert journal.undo() == []
    assert dist.answers() == version_1()
    assert sys.modules[f"{dist.name}.core"] is core_before


def test_the_shadow_import_changes_nothing_current(dist: Dist) -> None:
    before = {k: v for k, v in sys.modules.items() if k.startswith(dist.name)}
    distribution.prepare(dist.name, dist.old, dist.new)
    assert {k: v for k, v in sys.modules.items() if k.startswith(dist.name)} == before
    assert dist.answers() == version_1()


def test_a_closure_whose_free_variables_changed_is_refused_before_anything_changes(
    dist: Dist,
) -> None:
    changed = CORE.replace(
        '    def tagged():\n        return prefix + " v{v}"',
        '    suffix = "!"\n    def tagged():\n        return prefix + suffix',
    )
    (dist.new / dist.name / "core.py").write_text(textwrap.dedent(changed.format(v=2)))
    with pytest.raises(CodeLoadError, match=r"make\.<locals>\.tagged .*free variables changed"):
        distribution.prepare(dist.name, dist.old, dist.new)
    assert dist.answers() == version_1()


def test_a_function_held_outside_that_the_new_version_drops_is_refused_naming_its_holder(
    dist: Dist,
) -> None:
    leftover = {"fn": dist.holder.closure}  # held by a plain dict: no module name to rebind
    (dist.new / dist.name / "core.py").write_text(
        textwrap.dedent(CORE.format(v=2)).replace("def make(prefix):", "def made(prefix):")
    )
    with pytest.raises(CodeLoadError, match=r"no such function\) and module \S+ name closure"):
        distribution.prepare(dist.name, dist.old, dist.new)
    assert leftover["fn"]() == "x v1"


class Process:
    """A process as the table lists it: its state holds things."""

    def __init__(self, state: object) -> None:
        self.state = state


def test_prepare_lists_the_owners_only_when_a_holder_is_to_be_named(dist: Dist) -> None:
    listed: list[str] = []

    def owners() -> Iterator[tuple[str, object]]:
        listed.append("listed")
        yield ("process <0.9> (keeper)", Process({}))

    distribution.prepare(dist.name, dist.old, dist.new, owners())
    assert listed == []


def test_a_function_only_a_process_holds_that_the_new_version_drops_is_refused_naming_it(
    dist: Dist,
) -> None:
    core = sys.modules[f"{dist.name}.core"]
    del dist.holder.closure  # the process's is the only closure left
    process = Process({"fn": core.make("y")})
    (dist.new / dist.name / "core.py").write_text(
        textwrap.dedent(CORE.format(v=2)).replace("def make(prefix):", "def made(prefix):")
    )
    owners = iter([("process <0.9> (keeper)", process)])
    with pytest.raises(CodeLoadError, match=r"no such function\) and process <0\.9> \(keeper\)"):
        distribution.prepare(dist.name, dist.old, dist.new, owners)


def test_what_the_new_top_level_puts_into_another_module_is_taken_back_after_the_shadow(
    dist: Dist,
) -> None:
    patching = (
        CORE + "\nimport string\n\ndef patched():\n    return 2\n\nstring.patched = patched\n"
    )
    (dist.new / dist.name / "core.py").write_text(textwrap.dedent(patching.format(v=2)))
    distribution.prepare(dist.name, dist.old, dist.new)
    assert not hasattr(sys.modules["string"], "patched")


def test_a_module_imported_between_prepare_and_install_has_its_old_values_and_paths_moved(
    dist: Dist,
) -> None:
    data = (
        'import os\nTAGS = ("v{v}", "tag")\nDATA = os.path.join(os.path.dirname(__file__), "d")\n'
    )
    for root in (dist.old, dist.new):
        (root / dist.name / "d").write_text("data")
        core = root / dist.name / "core.py"
        core.write_text(core.read_text() + data.format(v=1 if root == dist.old else 2))
    importlib.reload(sys.modules[f"{dist.name}.core"])
    core = sys.modules[f"{dist.name}.core"]
    early, late = ModuleType(f"{dist.name}_early"), ModuleType(f"{dist.name}_late")
    for module in (early, late):
        module.TAGS, module.DATA = core.TAGS, core.DATA  # type: ignore[attr-defined]
    sys.modules[early.__name__] = early
    prepared = distribution.prepare(dist.name, dist.old, dist.new)
    sys.modules[late.__name__] = late  # imported after the holders were looked for
    journal = Journal()
    distribution.install(prepared, journal)
    new_data = str(dist.new / dist.name / "d")
    held = lambda m: (m.TAGS, m.DATA)  # noqa: E731
    assert [held(early), held(late)] == [(("v2", "tag"), new_data)] * 2
    assert journal.undo() == []
    old_data = str(dist.old / dist.name / "d")
    assert [held(early), held(late)] == [(("v1", "tag"), old_data)] * 2


def test_a_method_made_by_exec_with_its_own_globals_is_replaced_not_given_new_code(
    dist: Dist,
) -> None:
    generated = (
        "\n\ndef _generated(v):\n"
        "    own = {{'__name__': __name__, 'TAG': 'v' + str(v)}}\n"
        "    exec('def who(self):\\n    return TAG', own)\n"
        "    return own['who']\n\n"
        "class Made:\n    who = _generated({v})\n"
    )
    for root, v in ((dist.old, 1), (dist.new, 2)):
        core = root / dist.name / "core.py"
        core.write_text(core.read_text() + generated.format(v=v))
    importlib.reload(sys.modules[f"{dist.name}.core"])
    made = sys.modules[f"{dist.name}.core"].Made()
    assert made.who() == "v1"
    journal = dist.swap()
    assert made.who() == "v2"  # the new function, with its own new globals
    assert journal.undo() == []
    assert made.who() == "v1"


def test_code_server_waits_out_a_shadow_import_and_never_hands_out_its_new_module(
    dist: Dist,
) -> None:
    core_name = f"{dist.name}.core"
    old_core = sys.modules[core_name]
    entered = threading.Event()
    signal = ModuleType(f"{dist.name}_signal")
    signal.entered = entered  # type: ignore[attr-defined]
    sys.modules[signal.__name__] = signal
    init = dist.new / dist.name / "__init__.py"  # its core is made first, then it lingers
    init.write_text(
        init.read_text() + f"import sys, time\nsys.modules[{signal.__name__!r}].entered.set()\n"
        "time.sleep(0.3)\n"
    )
    seen: list[ModuleType] = []

    def look() -> None:
        entered.wait(10)
        seen.append(code_server.current(core_name))

    looker = threading.Thread(target=look)
    looker.start()
    try:
        distribution.prepare(dist.name, dist.old, dist.new)
    finally:
        looker.join(10)
        del sys.modules[signal.__name__]
    assert entered.is_set()
    assert seen == [old_core]
    assert sys.modules[core_name].__spec__.__class__ is importlib.machinery.ModuleSpec
