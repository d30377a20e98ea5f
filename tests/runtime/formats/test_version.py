"""Release versions are ordered as PEP 440 orders them (packaging is the reference)."""

from __future__ import annotations

import itertools

import pytest
from packaging.version import Version
from primes_runtime.formats import version

SAMPLES = [
    "1", "1.0", "1.0.0", "2", "10", "1.1", "1.10", "1.2", "1!0.5", "1.0a1", "1.0a2", "1.0b1",
    "1.0rc1", "1.0rc1.post1", "1.0.dev1", "1.0.dev2", "1.0a1.dev1", "1.0.post1", "1.0.post1.dev3",
    "1.0+local", "1.0+local.2", "1.0+2", "1.0+abc.1", "0.9", "2024.12.1",
]  # fmt: skip


@pytest.mark.parametrize(("a", "b"), list(itertools.permutations(SAMPLES, 2)))
def test_newer_agrees_with_packaging_for_every_pair_of_normal_form_versions(a: str, b: str) -> None:
    assert version.newer(a, b) is (Version(a) > Version(b))


@pytest.mark.parametrize("text", ["v1", "1.0-beta", "", "01", "1..2", "latest"])
def test_a_string_that_is_not_a_normal_form_version_has_no_order(text: str) -> None:
    assert version.key(text) is None
    assert version.newer(text, "1") is None and version.newer("1", text) is None
