"""Tests for primes_runtime.formats.start_data's parsed pair, beyond the contract samples."""

from __future__ import annotations

import copy
import pickle
from dataclasses import asdict, dataclass

from primes_runtime.formats import start_data
from primes_runtime.formats.start_data import StartData


@dataclass(frozen=True)
class _Holder:
    start: StartData


def test_the_pair_reads_by_field_and_by_position_and_unpacks() -> None:
    data = start_data.parse("2 lib/primes_runtime-2\n")
    version, runtime_dir = data
    assert (
        (data.version, data.runtime_dir) == (version, runtime_dir) == ("2", "lib/primes_runtime-2")
    )
    assert data == StartData("2", "lib/primes_runtime-2") == ("2", "lib/primes_runtime-2")
    assert start_data.render(data) == "2 lib/primes_runtime-2\n"


def test_the_pair_survives_copy_pickle_and_a_dataclass_asdict() -> None:
    data = StartData("1", "lib/primes_runtime-1")
    for again in (copy.copy(data), copy.deepcopy(data), pickle.loads(pickle.dumps(data))):
        assert type(again) is StartData and again == data and again.version == "1"
    assert asdict(_Holder(data)) == {"start": data}
