"""Tests for release/pauses.py: an install's pauses kept as batches, written out one per
process where a reader needs that, and read back from either form."""

from __future__ import annotations

import json
import statistics

import pytest
from primes_runtime.release.pauses import Pause, PauseBatch, Pauses, median_ms, per_process


def _batch(module: str, ms: float, first: int, count: int, **names: str) -> PauseBatch:
    pids = tuple(f"<0.{i}>" for i in range(first, first + count))
    return PauseBatch(module, ms, pids, tuple((f"<0.{k[1:]}>", v) for k, v in names.items()))


def test_pauses_iterate_as_one_pause_per_process_in_the_order_they_ran_again() -> None:
    pauses = Pauses((_batch("w", 3.0, 1, 2, p2="second"), _batch("sup", 0.5, 9, 1)))
    assert list(pauses) == [
        Pause("<0.1>", None, "w", 3.0),
        Pause("<0.2>", "second", "w", 3.0),
        Pause("<0.9>", None, "sup", 0.5),
    ]
    assert len(pauses) == 3 and pauses.longest_ms == 3.0


def test_pauses_given_one_per_process_become_a_batch_per_run_of_one_module_and_length() -> None:
    given = [Pause("<0.1>", None, "w", 1.0), Pause("<0.2>", "b", "w", 1.0)]
    given += [Pause("<0.3>", None, "v", 1.0), Pause("<0.4>", None, "w", 1.0)]
    pauses = Pauses.of(given)
    assert [(b.module, b.pids, b.names) for b in pauses.batches] == [
        ("w", ("<0.1>", "<0.2>"), (("<0.2>", "b"),)),
        ("v", ("<0.3>",), ()),
        ("w", ("<0.4>",), ()),
    ]
    assert list(pauses) == given
    assert list(pauses.by_module()) == ["w", "v"]


def test_either_form_of_the_data_reads_back_the_same_pauses() -> None:
    pauses = Pauses((_batch("w", 2.25, 1, 4, p3="three"), _batch("v", 0.5, 7, 2)))
    for batched in (False, True):
        data = json.loads(json.dumps(pauses.to_data(batched)))
        assert Pauses.from_data(data) == pauses


def test_the_per_process_form_is_what_a_report_always_printed() -> None:
    pauses = Pauses((_batch("w", 1 / 3, 1, 2, p2="two"),))
    assert pauses.to_data(batched=False) == {
        "pauses": [
            {"pid": "<0.1>", "name": None, "module": "w", "ms": 0.333},
            {"pid": "<0.2>", "name": "two", "module": "w", "ms": 0.333},
        ]
    }


def test_batched_data_is_written_out_per_process_in_the_same_place_among_the_keys() -> None:
    pauses = Pauses((_batch("w", 1.5, 1, 3),))
    data = {"from_version": "1", **pauses.to_data(batched=True), "failed": None}
    out = per_process(data)
    assert list(out) == ["from_version", "pauses", "failed"]
    assert out["pauses"] == pauses.to_data(batched=False)["pauses"]
    plain = {"from_version": "1", **pauses.to_data(batched=False)}
    assert per_process(plain) is plain


@pytest.mark.parametrize(
    "lengths", [[1.0], [1.0, 2.0], [3.0, 1.0, 2.0], [1.0, 1.0, 5.0, 7.0], [0.5, 9.0, 9.0, 9.0]]
)
def test_the_median_over_batches_is_the_median_over_every_process(lengths: list[float]) -> None:
    batches = [_batch("w", ms, 10 * i, i + 1) for i, ms in enumerate(lengths)]
    every = [ms for i, ms in enumerate(lengths) for _ in range(i + 1)]
    assert median_ms(batches) == statistics.median(every)


@pytest.mark.parametrize(
    "bad",
    [
        {"pause_batches": "x"},
        {"pause_batches": [1]},
        {"pause_batches": [{"module": "w", "ms": 1.0, "pids": [7]}]},
        {"pause_batches": [{"module": "w", "ms": 1.0, "pids": [], "names": {"<0.1>": 2}}]},
        {"pause_batches": [{"ms": 1.0, "pids": []}]},
        {"pauses": [{"pid": "<0.1>", "module": "w"}]},
    ],
    ids=["not-a-list", "not-objects", "number-pid", "number-name", "no-module", "no-ms"],
)
def test_malformed_pauses_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises((TypeError, KeyError, ValueError)):
        Pauses.from_data(bad)
