"""prime_miner's pyproject.toml: version 1, and version 2's upgrade instructions already in it."""

from __future__ import annotations

import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def test_version_is_a_line_of_its_own_so_the_seed_diff_bumps_exactly_it() -> None:
    assert 'version = "1"' in PYPROJECT.read_text(encoding="utf-8").splitlines()


def test_the_instructions_up_to_2_and_down_to_1_update_the_miner_with_the_seed_extras() -> None:
    app = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["tool"]["primes"]["app"]
    assert app["start"] == "prime_miner.app:start"
    assert app["upgrade"]["2"] == {
        "up_from": {"1": [{"update": "prime_miner.miner", "extra": "from1to2"}]},
        "down_to": {"1": [{"update": "prime_miner.miner", "extra": "from2to1"}]},
    }
