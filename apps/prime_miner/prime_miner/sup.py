"""prime_miner's top supervisor: keeps the miner running."""

from __future__ import annotations

from primes_runtime.supervisor import ChildSpec, SupSpec

MINER: ChildSpec = ChildSpec(id="miner", start=("prime_miner.miner", "start_link", ()))


def init(args: object) -> SupSpec:
    """One child, the miner, restarted on its own if it crashes."""
    return SupSpec(strategy="one_for_one", intensity=3, period=5.0, children=[MINER])
