"""Introspection: frozen snapshots of the node's processes and applications."""

from __future__ import annotations

from dataclasses import dataclass

from ..kernel.context import current_node
from ..kernel.pid import Pid
from .application import AppInfo


@dataclass(frozen=True)
class ProcessInfo:
    """One process at one moment."""

    pid: Pid
    name: str | None
    behaviour: str  # "server", "statem" or "supervisor"
    module: str  # its callback module
    app: str | None  # the application it belongs to
    app_vsn: str | None  # that application's running version
    mailbox_len: int
    status: str  # "running" or "suspended"


def processes() -> list[ProcessInfo]:
    """Every live process, in start order."""
    node = current_node()
    table, apps = node.processes, node.applications
    infos = []
    for proc in table.all():
        if not proc.alive:
            continue
        infos.append(
            ProcessInfo(
                pid=proc.pid,
                name=table.name_of(proc.pid),
                behaviour=proc.behaviour,
                module=proc.module,
                app=proc.app,
                app_vsn=apps.version_of(proc.app),
                mailbox_len=len(proc.mailbox),
                status=proc.status,
            )
        )
    return infos


def applications() -> list[AppInfo]:
    """The applications, in start order, with their running version and status."""
    return current_node().applications.running()
