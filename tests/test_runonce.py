"""tests/runonce.py: made once per run, shared, redone after a failure."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.runonce import once


def test_the_first_caller_makes_it_and_later_callers_get_the_same_directory(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    made: list[Path] = []

    def make(top: Path) -> None:
        made.append(top)
        (top / "thing").write_text("made", encoding="utf-8")

    first = once(tmp_path_factory, "runonce-sample", make)
    again = once(tmp_path_factory, "runonce-sample", make)
    assert first == again == made[0] and len(made) == 1
    assert (first / "thing").read_text(encoding="utf-8") == "made"


def test_a_make_that_failed_is_redone_from_an_empty_directory(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    def broken(top: Path) -> None:
        (top / "half").write_text("", encoding="utf-8")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        once(tmp_path_factory, "runonce-failing", broken)
    seen: list[list[str]] = []
    top = once(tmp_path_factory, "runonce-failing", lambda d: seen.append(sorted(os.listdir(d))))
    assert seen == [[]] and top.is_dir()
