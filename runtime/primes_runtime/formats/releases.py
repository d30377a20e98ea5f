"""`releases/RELEASES`: every release a tree knows and its status (JSON, format 1)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from .errors import FormatError

PATH = "releases/RELEASES"
FORMAT = 1
#: Statuses written to RELEASES; "current" is never written (it is the running node's knowledge).
STATUSES = ("unpacked", "permanent", "old")


@dataclass(frozen=True)
class Release:
    """One entry of RELEASES."""

    version: str
    status: str


def render(entries: tuple[Release, ...]) -> str:
    """JSON, keys sorted, 2-space indent, trailing newline; refuses a status never written."""
    check(entries, PATH)
    data = {"format": FORMAT, "releases": [{"status": r.status, "version": r.version}
                                           for r in entries]}  # fmt: skip
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def parse(text: str, where: str = PATH) -> tuple[Release, ...]:
    """The entries of a RELEASES text; a FormatError names the file and what is wrong."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise FormatError(f"not JSON ({exc}); restore it from a backup", file=where) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise FormatError(f"expected a JSON object with format {FORMAT}; restore it", file=where)
    raw = data.get("releases")
    if not isinstance(raw, list):
        raise FormatError("key 'releases' must be a list", file=where)
    entries: list[Release] = []
    for i, entry in enumerate(raw):
        if not (
            isinstance(entry, dict)
            and set(entry) == {"version", "status"}
            and isinstance(entry["version"], str)
            and entry["version"]
            and entry["status"] in STATUSES
        ):
            raise FormatError(
                f"releases[{i}] must be {{'version': str, 'status': one of {', '.join(STATUSES)}}}",
                file=where,
            )
        entries.append(Release(entry["version"], entry["status"]))
    result = tuple(entries)
    check(result, where)
    return result


def check(entries: tuple[Release, ...], where: str = PATH) -> None:
    """Each version once, only written statuses, at most one permanent."""
    seen: set[str] = set()
    for entry in entries:
        if entry.status not in STATUSES:
            raise FormatError(f"status {entry.status!r} is never written to RELEASES", file=where)
        if entry.version in seen:
            raise FormatError(f"release {entry.version} is listed twice; keep one", file=where)
        seen.add(entry.version)
    if sum(e.status == "permanent" for e in entries) > 1:
        raise FormatError("more than one release is permanent; keep one", file=where)
