"""Tests for primes_build.upgrade.check.check_script: an unsound script is never written."""

from __future__ import annotations

import pytest
from primes_build.errors import BuildError
from primes_build.upgrade.check import check_script
from primes_runtime.formats import relup as ll

from tests.build_backend.upgrade.fakes import seed_release

SRC, DST = seed_release("1", "1"), seed_release("2", "2")
PREPARE = ll.LoadObjectCode("prime_miner", "1", "2", "lib/prime_miner-2", ("prime_miner.miner",))
SWITCH = ll.SwitchAppPath("prime_miner", "1", "2", "lib/prime_miner-1", "lib/prime_miner-2")
MODS = ("prime_miner.miner",)
GOOD: list[ll.Instruction] = [
    PREPARE,
    ll.PointOfNoReturn(),
    ll.Suspend(MODS, 5.0),
    SWITCH,
    ll.Load("prime_miner.miner"),
    ll.CodeChange(MODS, "up", "1", "from1to2", 5.0),
    ll.Resume(MODS),
]


def test_the_seed_script_passes() -> None:
    check_script(GOOD, SRC, DST)


@pytest.mark.parametrize(
    ("script", "says"),
    [
        (GOOD[:-1], "prime_miner.miner is suspended and never resumed"),
        ([*GOOD, ll.Load("prime_miner.miner")], "prime_miner.miner is loaded twice"),
        ([PREPARE, ll.PointOfNoReturn()], "prepares ['prime_miner.miner'] but never loads them"),
        ([ll.PointOfNoReturn(), ll.Load("pm")], "load of pm not prepared by load_object_code"),
        ([ll.Load("pm"), ll.PointOfNoReturn()], "comes before point_of_no_return"),
        ([ll.PointOfNoReturn(), PREPARE], "load_object_code after the preparation phase"),
        ([PREPARE], "no point_of_no_return"),
        (
            [ll.PointOfNoReturn(), ll.CodeChange(MODS, "up", "1", None, 5.0)],
            "without a suspend before it",
        ),
        ([ll.PointOfNoReturn(), ll.StartApp("ghost")], "starts ghost"),
        ([ll.PointOfNoReturn(), ll.StopApp("ghost")], "stops ghost"),
        ([ll.PointOfNoReturn(), ll.Remove("pm")], "removes pm"),
        ([ll.PointOfNoReturn(), ll.Apply("ghost", "f", ())], "applies ghost"),
        (
            [ll.LoadObjectCode("prime_miner", "1", "2", "lib/prime_miner-2", ("ghost",))],
            "not modules of prime_miner 2",
        ),
        (
            [ll.PointOfNoReturn(), ll.SwitchAppPath("frontman", "1", "2", "lib/a", "lib/b")],
            "switch_app_path frontman from lib/a",
        ),
    ],
)
def test_an_unsound_script_is_refused_as_an_internal_error(
    script: list[ll.Instruction], says: str
) -> None:
    with pytest.raises(BuildError, match="internal error") as e:
        check_script(script, SRC, DST)
    assert says in str(e.value)
