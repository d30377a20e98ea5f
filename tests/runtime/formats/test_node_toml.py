"""node.toml's probation setting: its default, and what it refuses."""

from __future__ import annotations

import pytest
from primes_runtime.formats import FormatError, node_toml


def test_probation_defaults_to_a_few_seconds_and_reads_back_from_node_toml() -> None:
    assert node_toml.parse("[node]\n").probation == node_toml.DEFAULT_PROBATION == 5.0
    assert node_toml.parse("[node]\nprobation = 0\n").probation == 0.0
    assert node_toml.parse("[node]\nprobation = 2.5\n").probation == 2.5


def test_a_negative_probation_is_refused_naming_the_key() -> None:
    with pytest.raises(FormatError, match=r"node\.probation must be a number of seconds"):
        node_toml.parse("[node]\nprobation = -1\n", "releases/2/node.toml")
