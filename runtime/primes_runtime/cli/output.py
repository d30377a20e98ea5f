"""What the commands print: text for a person, or one JSON object for a program."""

from __future__ import annotations

import json
import sys

from primes_runtime import safetext
from primes_runtime.control.errors import ControlError

TYPE_CHECKING = False  # not typing's: the lean path (cli/fast.py) never imports typing

if TYPE_CHECKING:
    from primes_runtime.handover.report import HandoverReport
    from primes_runtime.release.reports import CheckReport, InstallReport

Data = dict[str, object]

PROCESS_FIELDS = ("pid", "name", "behaviour", "module", "app", "mailbox", "status")
APP_FIELDS = ("name", "version", "status")


def emit_json(command: str, data: Data) -> None:
    """One JSON object on one line of stdout: ok, command, then the command's fields."""
    print(json.dumps({"ok": True, "command": command, **data}, sort_keys=False))


def emit_failure_json(command: str, exc: ControlError, code: int) -> None:
    """A failure as one JSON object: the one-line error, the exit code and any report."""
    from primes_runtime.control.client import RemoteError  # here: the lean path (cli/fast.py)

    report = exc.report if isinstance(exc, RemoteError) else None
    if report is not None:
        from primes_runtime.release.pauses import per_process

        report = per_process(report)
    data: Data = {"ok": False, "command": command, "exit_code": code, "error": str(exc)}
    data["report"] = report
    print(json.dumps(data))


def rows(value: object) -> list[list[object]]:
    if not isinstance(value, list):
        return []
    return [list(row) for row in value if isinstance(row, list)]


def table(lines: list[list[object]], indent: str = "") -> str:
    """Left-aligned columns."""
    cells = [[safetext.escape(str(c)) for c in line] for line in lines]
    widths = [max(len(line[i]) for line in cells if i < len(line)) for i in range(len(cells[0]))]
    return "\n".join(
        indent + "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=False)).rstrip()
        for line in cells
    )


def format_uptime(seconds: float) -> str:
    whole = int(seconds)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{hours:02d}:{minutes:02d}:{secs:02d}"
    return f"{days}d {text}" if days else text


def status_data(value: Data, name: str) -> Data:
    """The node's status reply as named fields."""
    processes: list[Data] = []
    for row in rows(value.get("processes")):
        app, _, app_vsn = str(row[4] if len(row) > 4 else "-").partition(" ")
        fields: Data = dict(zip(PROCESS_FIELDS, row, strict=False))
        fields["app"] = None if app == "-" else app
        fields["app_version"] = app_vsn or None
        processes.append(fields)
    uptime = value.get("uptime")
    return {
        "node": value.get("name") or name,
        "pid": value.get("pid"),
        "release": value.get("release"),
        "runtime": str(value.get("runtime", "")),
        "uptime_s": float(uptime) if isinstance(uptime, int | float) else 0.0,
        "applications": [dict(zip(APP_FIELDS, r, strict=False)) for r in rows(value.get("apps"))],
        "failed_applications": [
            {"name": str(r[0]), "reason": str(r[1])}
            for r in rows(value.get("failed_apps"))
            if len(r) >= 2
        ],
        "processes": processes,
        "packages": str(value.get("packages", "unsigned")),
        "leaked_code_change_workers": [str(w) for w in _listed(value.get("code_change_workers"))],
        "old_code": [str(line) for line in _listed(value.get("old_code"))],
        "stale_code": _listed(value.get("stale_code")),
    }


def shown(out: str, value: object) -> int:
    """What `eval`, `rpc` and `pid` print: the text the node's code printed, then the value
    (if any)."""
    write_out(out)
    if value is not None:
        print(value)
    return 0


def check_code(command: str, as_json: bool, value: object) -> int:
    """check-code's answer printed; exit 1 if anything still runs old code."""
    if not isinstance(value, dict) or not isinstance(value.get("stale"), list):
        raise ControlError("the node sent a malformed check-code answer")
    found = value["stale"]
    if as_json:
        emit_json(command, value)
    elif found:
        for item in found:
            print(stale_line(item))
    else:
        print(f"every loaded module, function and class runs release {value.get('release')}'s code")
    return 1 if found else 0


def versions(
    command: str, as_json: bool, pairs: list[tuple[str, str]], running: bool, packages: str
) -> int:
    """versions' answer printed: one `version status` line per release, or the JSON object
    (`packages`: the tree's signature mode)."""
    if as_json:
        releases = [{"version": v, "status": s} for v, s in pairs]
        emit_json(command, {"running": running, "releases": releases, "packages": packages})
    else:
        for version, status in pairs:
            print(safetext.escape(version), safetext.escape(status))
    return 0


def version_pairs(value: object) -> list[tuple[str, str]]:
    """The node's `versions` answer as (version, status) pairs."""
    return [(str(r[0]), str(r[1])) for r in rows(value)]


def stale_line(item: object) -> str:
    """One object of check-code's list, as `kind name (file) held by ...`."""
    if not isinstance(item, dict):
        return str(item)
    held = "; ".join(str(h) for h in _listed(item.get("held_by")))
    text = f"{item.get('kind')} {item.get('object')} ({item.get('file')})"
    return text + (f" held by {held}" if held else "")


def _listed(value: object) -> list[object]:
    return list(value) if isinstance(value, list) else []


def packages_line(mode: str) -> str:
    """What `status` and `versions` say about the packages a tree accepts."""
    if mode == "signed":
        return "signed only (releases/allowed_signers)"
    return "unsigned accepted (no releases/allowed_signers)"


def status_text(value: Data, name: str) -> str:
    uptime = value.get("uptime")
    lines = [
        f"node:     {value.get('name') or name}",
        f"pid:      {value.get('pid')}",
        f"release:  {value.get('release')}",
        f"runtime:  {value.get('runtime', '')}",
        f"uptime:   {format_uptime(float(uptime) if isinstance(uptime, int | float) else 0.0)}",
        f"packages: {packages_line(str(value.get('packages', 'unsigned')))}",
        *(
            f"leaked:   thread {worker} (restart the node to end it)"
            for worker in _listed(value.get("code_change_workers"))
        ),
        *(f"old code: {line}" for line in _listed(value.get("old_code"))),
        *(f"stale:    {stale_line(item)}" for item in _listed(value.get("stale_code"))),
        *(
            f"failed:   application {row[0]} gave up and is not running: {row[1]}"
            for row in rows(value.get("failed_apps"))
            if len(row) >= 2
        ),
        "applications:",
        *("  " + " ".join(str(cell) for cell in row) for row in rows(value.get("apps"))),
        "processes:",
    ]
    header: list[object] = ["PID", "NAME", "BEHAVIOUR", "MODULE", "APP", "MAILBOX", "STATUS"]
    processes = table([header, *rows(value.get("processes"))], indent="  ")
    return safetext.lines(lines) + "\n" + processes


def install_report(value: object) -> InstallReport:
    """An install report sent by the node, checked."""
    from primes_runtime.release.reports import InstallReport

    try:
        if not isinstance(value, dict):
            raise TypeError("not an object")
        return InstallReport.from_data(value)
    except (TypeError, KeyError, ValueError) as exc:
        raise ControlError(f"the node sent a malformed install report ({exc})") from None


def check_report(value: object) -> CheckReport:
    """A check report sent by the node, checked."""
    from primes_runtime.release.reports import CheckReport

    try:
        if not isinstance(value, dict):
            raise TypeError("not an object")
        return CheckReport.from_data(value)
    except (TypeError, KeyError, ValueError) as exc:
        raise ControlError(f"the node sent a malformed check report ({exc})") from None


def write_out(text: str) -> None:
    """Text the node's code printed, as it printed it."""
    if text:
        sys.stdout.write(text)
        sys.stdout.flush()


def handover_report(value: dict[str, object]) -> HandoverReport:
    """A hand-over report sent by the node, checked."""
    from primes_runtime.handover.report import HandoverReport

    try:
        return HandoverReport.from_data(value)
    except (KeyError, TypeError, ValueError) as exc:
        raise ControlError(f"the node sent a malformed hand-over report ({exc})") from None


def upgrade_kind_line(value: object) -> str:
    """The lines `check` ends with: whether `upgrade` (or `downgrade`) and `install` would be
    hot or a hand-over, and why."""
    if not isinstance(value, dict) or not isinstance(value.get("upgrade"), str):
        return ""
    kind, why = value["upgrade"], safetext.escape(str(value.get("why", "")))
    command = "downgrade" if value.get("way") == "downgrade" else "upgrade"
    if kind == "hand-over":
        moving = safetext.escape(str(value.get("sockets", "")))
        return (
            f"\n  {command}: a hand-over to a successor node, because {why}; "
            f"{value.get('states')} process states and the sockets {moving} would move"
            "\n  install: the same hand-over, without making the release permanent"
        )
    if kind == "hot":
        return f"\n  {command}: hot, in place ({why})\n  install: hot, in place"
    return ""
