"""The code server: prepare, install, remove, switch_path, and undoing each."""

from __future__ import annotations

import importlib
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from primes_runtime.errors import CodeLoadError
from primes_runtime.loading import code_server

pytestmark = pytest.mark.usefixtures("node")


@pytest.fixture
def package(tmp_path: Path) -> Iterator[tuple[str, Path, Path]]:
    """A package ``pkg`` with module ``pkg.mod`` (v1) on sys.path, a user module that did
    ``from pkg import mod``, and a second code dir holding v2 of ``pkg.mod``."""
    pkg = f"cs_pkg_{uuid.uuid4().hex[:8]}"
    v1, v2 = tmp_path / "v1", tmp_path / "v2"
    for root, vsn in ((v1, 1), (v2, 2)):
        (root / pkg).mkdir(parents=True)
        (root / pkg / "__init__.py").write_text("")
        (root / pkg / "mod.py").write_text(f"VSN = {vsn}\n")
    (v1 / f"{pkg}_user.py").write_text(f"from {pkg} import mod\n")
    sys.path.insert(0, str(v1))
    importlib.invalidate_caches()
    yield pkg, v1, v2
    if str(v1) in sys.path:
        sys.path.remove(str(v1))
    for name in [n for n in sys.modules if n.startswith(pkg)]:
        del sys.modules[name]


def test_current_imports_on_first_use(package: tuple[str, Path, Path]) -> None:
    pkg, _, _ = package
    assert code_server.current(f"{pkg}.mod").VSN == 1


def test_current_of_a_missing_module_is_a_code_load_error() -> None:
    with pytest.raises(CodeLoadError, match="cannot import module 'no_such_module_here'"):
        code_server.current("no_such_module_here")


def test_prepare_does_not_change_the_current_module(package: tuple[str, Path, Path]) -> None:
    pkg, _, v2 = package
    old = code_server.current(f"{pkg}.mod")
    prepared = code_server.prepare(f"{pkg}.mod", v2)
    assert prepared.module.VSN == 2
    assert prepared.path == v2 / pkg / "mod.py"
    assert code_server.current(f"{pkg}.mod") is old


def test_install_replaces_module_parent_attribute_and_references(
    package: tuple[str, Path, Path],
) -> None:
    pkg, _, v2 = package
    user = importlib.import_module(f"{pkg}_user")
    old = code_server.current(f"{pkg}.mod")
    undo = code_server.install(code_server.prepare(f"{pkg}.mod", v2))
    new = code_server.current(f"{pkg}.mod")
    assert new is not old and new.VSN == 2
    assert sys.modules[pkg].mod is new
    assert user.mod is new
    undo.undo()
    assert code_server.current(f"{pkg}.mod") is old
    assert sys.modules[pkg].mod is old
    assert user.mod is old


def test_prepare_of_a_broken_module_is_a_code_load_error(tmp_path: Path) -> None:
    (tmp_path / "broken_mod.py").write_text("raise ImportError('nope')\n")
    with pytest.raises(CodeLoadError, match="nope"):
        code_server.prepare("broken_mod", tmp_path)
    assert "broken_mod" not in sys.modules


def test_prepare_of_a_missing_module_names_where_it_looked(tmp_path: Path) -> None:
    with pytest.raises(CodeLoadError, match="not found in"):
        code_server.prepare("nowhere_mod", tmp_path)


def test_remove_drops_the_module_and_undo_restores_it(package: tuple[str, Path, Path]) -> None:
    pkg, _, _ = package
    old = code_server.current(f"{pkg}.mod")
    undo = code_server.remove(f"{pkg}.mod")
    assert f"{pkg}.mod" not in sys.modules
    assert not hasattr(sys.modules[pkg], "mod")
    undo.undo()
    assert sys.modules[f"{pkg}.mod"] is old
    assert sys.modules[pkg].mod is old


def test_switch_path_replaces_a_code_dir_in_place(package: tuple[str, Path, Path]) -> None:
    _, v1, v2 = package
    index = sys.path.index(str(v1))
    undo = code_server.switch_path(v1, v2)
    assert sys.path[index] == str(v2)
    assert str(v1) not in sys.path
    undo.undo()
    assert sys.path[index] == str(v1)
    assert str(v2) not in sys.path


def test_switch_path_makes_new_modules_importable(tmp_path: Path) -> None:
    name = f"cs_new_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{name}.py").write_text("X = 'here'\n")
    undo = code_server.switch_path(None, tmp_path)
    try:
        assert code_server.current(name).X == "here"
    finally:
        undo.undo()
        sys.modules.pop(name, None)
    assert str(tmp_path) not in sys.path


def test_prepare_never_makes_the_half_executed_module_current(
    package: tuple[str, Path, Path],
) -> None:
    # Running processes look their module up at every message: while the new version's
    # top level runs, they must still get the old, complete module.
    pkg, _, v2 = package
    old = code_server.current(f"{pkg}.mod")
    (v2 / pkg / "mod.py").write_text("import sys\nVSN = 2\nSEEN = sys.modules.get(__name__)\n")
    prepared = code_server.prepare(f"{pkg}.mod", v2)
    assert prepared.module.SEEN is old
    assert code_server.current(f"{pkg}.mod") is old


def test_current_waits_for_a_module_another_thread_is_still_importing(tmp_path: Path) -> None:
    import threading
    import time

    name = f"slow_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{name}.py").write_text(
        "import threading\n"
        "started = threading.Event()\n"
        "release = threading.Event()\n"
        "started.set()\n"
        "release.wait(10)\n"
        "def ready():\n"
        "    return 'complete'\n"
    )
    sys.path.insert(0, str(tmp_path))
    try:
        importer = threading.Thread(target=importlib.import_module, args=(name,))
        importer.start()
        while not hasattr(sys.modules.get(name), "started"):
            time.sleep(0.001)
        half = sys.modules[name]
        half.started.wait(10)
        seen: list[object] = []
        reader = threading.Thread(target=lambda: seen.append(code_server.current(name)))
        reader.start()
        reader.join(0.3)
        assert seen == []  # still waiting: the module is not complete yet
        half.release.set()
        reader.join(10)
        importer.join(10)
        assert seen and seen[0].ready() == "complete"  # type: ignore[attr-defined]
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop(name, None)
