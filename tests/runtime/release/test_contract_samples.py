"""The runtime side of the .relup contract: the handler reads the build's sample scripts."""

from __future__ import annotations

from pathlib import Path

import pytest
from primes_runtime.release import relup
from primes_runtime.release.relup import (
    CodeChange,
    Load,
    LoadObjectCode,
    PointOfNoReturn,
    Resume,
    Suspend,
    SwitchAppPath,
)

pytestmark = pytest.mark.usefixtures("node")

SAMPLES = Path(__file__).resolve().parents[2] / "contract"


@pytest.mark.parametrize(
    "name",
    ["seed_up_from_1", "seed_down_to_1", "chain_up_from_1", "chain_down_to_1"],
)
def test_every_sample_script_parses(name: str) -> None:
    script = relup.read(SAMPLES / f"{name}.relup")
    assert sum(isinstance(i, PointOfNoReturn) for i in script.instructions) == 1


def test_the_seed_up_script_means_what_the_contract_says() -> None:
    script = relup.read(SAMPLES / "seed_up_from_1.relup")
    miner = ("prime_miner.miner",)
    assert script.instructions == (
        LoadObjectCode(3, "prime_miner", "1", "2", "lib/prime_miner-2", miner),
        PointOfNoReturn(4),
        Suspend(5, miner, 5.0),
        SwitchAppPath(6, "prime_miner", "1", "2", "lib/prime_miner-1", "lib/prime_miner-2"),
        Load(7, "prime_miner.miner"),
        CodeChange(8, miner, "up", "1", "from1to2", 5.0),
        Resume(9, miner),
    )


def test_the_seed_down_script_hands_code_change_the_down_tuple() -> None:
    script = relup.read(SAMPLES / "seed_down_to_1.relup")
    (change,) = [i for i in script.instructions if isinstance(i, CodeChange)]
    assert (change.mode, change.old_vsn, change.extra) == ("down", ("down", "1"), "from2to1")
