"""limiter's top supervisor: keeps the bucket process running."""

from __future__ import annotations

from primes_runtime.supervisor import ChildSpec, SupSpec

BUCKET: ChildSpec = ChildSpec(id="bucket", start=("limiter.bucket", "start_link", ()))


def init(args: object) -> SupSpec:
    """One child: the async process holding every client's counter."""
    return SupSpec(strategy="one_for_one", intensity=3, period=5.0, children=[BUCKET])
