"""Tests for primes_runtime.loading.bytecode: code dirs compiled into __pycache__ by a child."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from primes_runtime.loading import bytecode


def _pycs(top: Path) -> list[str]:
    return sorted(p.relative_to(top).as_posix() for p in top.rglob("*.pyc"))


def test_every_module_without_bytecode_is_compiled_once(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "mod.py").write_text("X = 1\n")
    assert bytecode.compile_dirs([tmp_path]) == 2
    assert [p.split("/")[-1].split(".")[0] for p in _pycs(tmp_path)] == ["__init__", "mod"]
    assert bytecode.compile_dirs([tmp_path]) == 0  # up to date: nothing to do


def test_a_module_changed_after_its_bytecode_is_compiled_again(tmp_path: Path) -> None:
    source = tmp_path / "mod.py"
    source.write_text("X = 1\n")
    bytecode.compile_dirs([tmp_path])
    source.write_text("X = 2\n")
    later = source.stat().st_mtime + 10
    os.utime(source, (later, later))
    assert bytecode.compile_dirs([tmp_path]) == 1


def test_a_module_that_does_not_compile_is_skipped_and_the_rest_compiled(tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_text("def broken(:\n")
    (tmp_path / "good.py").write_text("Y = 2\n")
    assert bytecode.compile_dirs([tmp_path]) == 1
    assert [p.split("/")[-1].split(".")[0] for p in _pycs(tmp_path)] == ["good"]


def test_the_background_child_compiles_the_dirs_and_is_reaped(tmp_path: Path) -> None:
    (tmp_path / "mod.py").write_text("Z = 3\n")
    reaper = bytecode.in_background([str(tmp_path)])
    assert reaper is not None
    reaper.join(60)
    assert not reaper.is_alive()
    assert len(_pycs(tmp_path)) == 1


def test_a_dir_whose_walk_ended_is_marked_for_this_interpreter(tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_text("def broken(:\n")  # does not compile: marked all the same
    assert not bytecode.all_marked([str(tmp_path)])
    bytecode.compile_dirs([tmp_path])
    assert bytecode.all_marked([str(tmp_path)])
    assert not bytecode.all_marked([str(tmp_path), str(tmp_path / "elsewhere")])


def test_a_boot_of_marked_dirs_starts_no_compiler_and_still_calls_then(tmp_path: Path) -> None:
    bytecode.compile_dirs([tmp_path])
    (tmp_path / "added.py").write_text("W = 4\n")  # a child would compile it
    called = []
    reaper = bytecode.in_background([str(tmp_path)], lambda: called.append(True))
    assert reaper is not None
    reaper.join(60)
    assert called == [True]
    assert _pycs(tmp_path) == []


def test_a_dir_with_bytecode_it_could_not_write_is_not_marked(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "mod.py").write_text("U = 6\n")
    (tmp_path / "sub" / "__pycache__").write_text("a file where the cache dir would go\n")
    bytecode.compile_dirs([tmp_path])
    assert not bytecode.all_marked([str(tmp_path)])


def test_compiling_stops_once_no_longer_wanted_and_marks_nothing(tmp_path: Path) -> None:
    for name in ("a", "b", "c", "d"):
        (tmp_path / f"{name}.py").write_text("X = 1\n")
    asked: list[int] = []

    def wanted() -> bool:
        asked.append(1)
        return len(asked) <= 2

    assert bytecode.compile_dirs([tmp_path], wanted) == 2
    mark = bytecode.marker(tmp_path)
    assert mark is not None and not mark.exists()
    assert len(_pycs(tmp_path)) == 2


def test_the_background_child_stops_writing_the_tree_once_its_node_is_gone(
    tmp_path: Path,
) -> None:
    # The node here is a short-lived process that starts the child and exits at once, as a
    # node stopped right after a first boot does; the child must not go on writing its tree.
    for i in range(3000):
        (tmp_path / f"m{i}.py").write_text(f"X = {i}\n" * 40)
    node = (
        "import sys, time; from primes_runtime.loading import bytecode; "
        "thread = bytecode.in_background([sys.argv[1]]); "
        "assert thread is not None; time.sleep(0.3)"
    )
    subprocess.run([sys.executable, "-c", node, str(tmp_path)], check=True)
    gone = time.monotonic()
    written = len(_pycs(tmp_path))
    time.sleep(1.0)
    after = len(_pycs(tmp_path))
    assert written < 3000, "the child compiled everything before its node was gone"
    assert after - written <= 2, (written, after, time.monotonic() - gone)
    mark = bytecode.marker(tmp_path)
    assert mark is not None and not mark.exists()
