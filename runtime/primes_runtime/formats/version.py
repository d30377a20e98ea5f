"""Release versions: PEP 440 in its normal form (what the build accepts), and their order."""

from __future__ import annotations

import re

_N = r"(?:0|[1-9][0-9]*)"
NORMAL = re.compile(
    rf"^(?:(?P<epoch>[1-9][0-9]*)!)?(?P<release>{_N}(?:\.{_N})*)"
    rf"(?:(?P<pre_l>a|b|rc)(?P<pre_n>{_N}))?(?:\.post(?P<post>{_N}))?(?:\.dev(?P<dev>{_N}))?"
    r"(?:\+(?P<local>[a-z0-9]+(?:\.[a-z0-9]+)*))?$"
)
"""A version in PEP 440's normal form (what str(packaging.version.Version(v)) gives)."""

_PHASES = {"a": 1, "b": 2, "rc": 3}
_FINAL = 4
_DEV_ONLY = 0

Key = tuple[
    int, tuple[int, ...], tuple[int, int], int, tuple[int, int], tuple[tuple[int, int, str], ...]
]


def key(version: str) -> Key | None:
    """A sort key ordering normal-form versions as PEP 440 does; None for any other string."""
    found = NORMAL.match(version)
    if found is None:
        return None
    release = [int(part) for part in found["release"].split(".")]
    while len(release) > 1 and release[-1] == 0:
        release.pop()
    post, dev = found["post"], found["dev"]
    if found["pre_l"] is not None:
        pre = (_PHASES[found["pre_l"]], int(found["pre_n"]))
    else:
        pre = (_DEV_ONLY if post is None and dev is not None else _FINAL, 0)
    local = tuple(
        (1, int(part), "") if part.isdigit() else (0, 0, part)
        for part in (found["local"] or "").split(".")
        if part
    )
    return (
        int(found["epoch"] or 0),
        tuple(release),
        pre,
        -1 if post is None else int(post),
        (1, 0) if dev is None else (0, int(dev)),
        local,
    )


def newer(version: str, than: str) -> bool | None:
    """Whether `version` comes after `than`; None when either is not a normal-form version."""
    a, b = key(version), key(than)
    if a is None or b is None:
        return None
    return a > b
