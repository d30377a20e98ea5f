"""An install's pauses: one per suspended process, kept as batches of processes that stopped
and ran again together, so 10,000 processes paused as one batch cost one record, not 10,000."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import groupby

Data = dict[str, object]
"""Plain JSON data, as the control channel carries it."""

BATCHES_KEY = "pause_batches"
"""The key of the batched form in a report's data (and of the request argument by which a
client asks for it: see `control.operations.PAUSE_BATCHES`)."""


@dataclass(frozen=True)
class Pause:
    """How long one suspended process stopped handling messages during an install."""

    pid: str
    name: str | None
    module: str
    ms: float


@dataclass(frozen=True)
class PauseBatch:
    """Processes of one module that stopped together and ran again together: one pause."""

    module: str
    ms: float
    pids: tuple[str, ...]
    """In the order they ran again."""
    names: tuple[tuple[str, str], ...] = ()
    """(pid, registered name) of those among them that have a name."""

    def each(self) -> Iterator[Pause]:
        """One Pause per process."""
        names = dict(self.names)
        module, ms = self.module, self.ms
        return (Pause(pid, names.get(pid), module, ms) for pid in self.pids)


@dataclass(frozen=True)
class Pauses:
    """Every pause of an install, in the order the processes ran again; iterates as one
    Pause per process."""

    batches: tuple[PauseBatch, ...] = ()

    @classmethod
    def of(cls, pauses: Iterable[Pause]) -> Pauses:
        """Pauses given one per process: each run of one module and one length a batch."""
        batches = []
        for (module, ms), run in groupby(pauses, key=lambda p: (p.module, p.ms)):
            group = list(run)
            names = tuple((p.pid, p.name) for p in group if p.name is not None)
            batches.append(PauseBatch(module, ms, tuple(p.pid for p in group), names))
        return cls(tuple(batches))

    def __iter__(self) -> Iterator[Pause]:
        for batch in self.batches:
            yield from batch.each()

    def __len__(self) -> int:
        return sum(len(b.pids) for b in self.batches)

    @property
    def longest_ms(self) -> float:
        return max((b.ms for b in self.batches if b.pids), default=0.0)

    def by_module(self) -> dict[str, list[PauseBatch]]:
        """The batches of each module, modules in the order they first ran again."""
        found: dict[str, list[PauseBatch]] = {}
        for batch in self.batches:
            if batch.pids:
                found.setdefault(batch.module, []).append(batch)
        return found

    def to_data(self, batched: bool) -> Data:
        """{"pauses": one object per process} or, `batched`, {BATCHES_KEY: one per batch}."""
        if batched:
            return {BATCHES_KEY: [_batch_data(b) for b in self.batches]}
        rows = []
        for b in self.batches:
            names, module, ms = dict(b.names), b.module, round(b.ms, 3)
            rows += [{"pid": p, "name": names.get(p), "module": module, "ms": ms} for p in b.pids]
        return {"pauses": rows}

    @classmethod
    def from_data(cls, data: Data) -> Pauses:
        """Either form `to_data` makes; TypeError/KeyError/ValueError when it is malformed."""
        if BATCHES_KEY in data:
            return cls(tuple(_batch(row) for row in list_field(data, BATCHES_KEY)))
        pauses = []
        for row in list_field(data, "pauses"):
            if not isinstance(row, dict):
                raise TypeError("pauses must hold objects")
            name = row.get("name")
            pauses.append(
                Pause(
                    text_field(row, "pid"),
                    name if isinstance(name, str) else None,
                    text_field(row, "module"),
                    float(row["ms"]),
                )
            )
        return cls.of(pauses)


def per_process(data: Data) -> Data:
    """A report's data with its batched pauses (if any) written out one object per process,
    in the same place: what `--json` prints, whichever form the node sent."""
    if BATCHES_KEY not in data:
        return data
    rows = Pauses.from_data(data).to_data(batched=False)["pauses"]
    out: Data = {}
    for key, value in data.items():
        if key == BATCHES_KEY:
            out["pauses"] = rows
        else:
            out[key] = value
    return out


def median_ms(batches: list[PauseBatch]) -> float:
    """The median pause over every process of `batches` (statistics.median's, without
    writing out one value per process)."""
    ordered = sorted((b.ms, len(b.pids)) for b in batches if b.pids)
    total = sum(n for _, n in ordered)
    if not total:
        raise ValueError("no pauses")

    def at(index: int) -> float:
        for ms, n in ordered:
            if index < n:
                return ms
            index -= n
        raise AssertionError("index past the last pause")

    return (at((total - 1) // 2) + at(total // 2)) / 2  # the middle one, or the middle two


def _batch_data(batch: PauseBatch) -> Data:
    return {
        "module": batch.module,
        "ms": round(batch.ms, 3),
        "pids": list(batch.pids),
        "names": dict(batch.names),
    }


def _batch(row: object) -> PauseBatch:
    if not isinstance(row, dict):
        raise TypeError(f"{BATCHES_KEY} must hold objects")
    pids = list_field(row, "pids")
    if not all(isinstance(p, str) for p in pids):
        raise TypeError("pids must be strings")
    names = row.get("names", {})
    if not isinstance(names, dict) or not all(isinstance(v, str) for v in names.values()):
        raise TypeError("names must map pids to strings")
    return PauseBatch(
        text_field(row, "module"),
        float(row["ms"]),
        tuple(str(p) for p in pids),
        tuple((str(k), str(v)) for k, v in names.items()),
    )


def text_field(data: Data, key: str) -> str:
    """`data[key]`, a string; KeyError or TypeError otherwise."""
    value = data[key]
    if not isinstance(value, str):
        raise TypeError(f"{key} must be a string")
    return value


def list_field(data: Data, key: str) -> list[object]:
    """`data[key]`, a list (empty when missing); TypeError when it is something else."""
    value = data.get(key, [])
    if not isinstance(value, list):
        raise TypeError(f"{key} must be a list")
    return value
