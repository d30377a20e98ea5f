"""Whether going from one release to another is hot or a hand-over, from the two releases."""

from __future__ import annotations

import sys
from types import SimpleNamespace
from typing import cast

from primes_runtime.release import route
from primes_runtime.release.target import Release

OWN = f"{sys.version_info.major}.{sys.version_info.minor}"


def release(runtime: str = "lib/primes_runtime-1", python: str | None = None) -> Release:
    return cast(
        Release, SimpleNamespace(runtime_dir=runtime, manifest=SimpleNamespace(python=python))
    )


def test_the_same_runtime_and_interpreter_is_hot() -> None:
    assert route.reason(release(), release()) is None


def test_another_runtime_is_a_hand_over_naming_both() -> None:
    why = route.reason(release(), release("lib/primes_runtime-2"))
    assert why is not None and "primes_runtime-1 -> primes_runtime-2" in why


def test_a_release_naming_another_interpreter_is_a_hand_over() -> None:
    assert route.reason(release(), release(python="9.1")) == (
        f"the interpreter changes (Python {OWN} -> 9.1)"
    )


def test_leaving_a_named_interpreter_for_a_release_naming_none_goes_where_its_start_leads() -> None:
    assert route.reason(release(python="9.1"), release(), unnamed="9.0") == (
        "the interpreter changes (Python 9.1 -> 9.0)"
    )


def test_a_release_naming_none_whose_start_leads_to_the_same_interpreter_is_hot() -> None:
    assert route.reason(release(python=OWN), release(), unnamed=OWN) is None
