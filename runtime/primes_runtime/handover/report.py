"""What a hand-over reports to the command that asked for it."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from primes_runtime import safetext


@dataclass(frozen=True)
class HandoverReport:
    """A hand-over that succeeded: from which node and release to which, and what moved."""

    from_version: str
    to_version: str
    why: str
    old_pid: int
    new_pid: int
    sockets: tuple[str, ...]
    states: int
    seconds: float
    frozen_ms: float
    """How long no process of the old node took a message and no one accepted."""
    permanent: bool = True
    """Whether the new release was made permanent (not by `install`)."""

    def to_data(self) -> dict[str, object]:
        data = asdict(self)
        data["sockets"] = list(self.sockets)
        data["handover"] = True
        return data

    @classmethod
    def from_data(cls, data: dict[str, object]) -> HandoverReport:
        sockets = data.get("sockets", [])
        return cls(
            str(data["from_version"]), str(data["to_version"]), str(data["why"]),
            int(str(data["old_pid"])), int(str(data["new_pid"])),
            tuple(str(s) for s in sockets) if isinstance(sockets, list) else (),
            int(str(data["states"])), float(str(data["seconds"])), float(str(data["frozen_ms"])),
            data.get("permanent", True) is not False,
        )  # fmt: skip

    def summary(self) -> str:
        return safetext.lines(
            [
                f"release {self.to_version} handed over from {self.from_version}: node pid "
                f"{self.old_pid} -> {self.new_pid} ({self.why})",
                f"  {self.states} process states and {len(self.sockets)} listening sockets "
                f"({', '.join(self.sockets)}) moved in {self.seconds:.2f} s; "
                f"nothing accepted for {self.frozen_ms:.0f} ms",
                f"  release {self.to_version} made permanent"
                if self.permanent
                else f"  release {self.to_version} is not permanent: a restart boots the "
                "permanent release (make it permanent with: permanent "
                f"{self.to_version})",
            ]
        )
