"""Where the control channel's files live in a deployed tree, and how to reach its socket."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path

from primes_runtime.control.errors import ControlError, NotRunning
from primes_runtime.formats import FormatError, node_toml, releases, start_data

UNIX_PATH_MAX = 100
"""Bytes an AF_UNIX path may have here (107 on Linux, 103 on macOS; kept below both)."""


@dataclass(frozen=True)
class Tree:
    """The files of one deployed tree that the control channel and the start script use."""

    root: Path

    @property
    def run_dir(self) -> Path:
        return self.root / "run"

    @property
    def sock(self) -> Path:
        return self.run_dir / "node.sock"

    @property
    def pid_file(self) -> Path:
        return self.run_dir / "node.pid"

    @property
    def cookie_file(self) -> Path:
        return self.run_dir / "cookie"

    @property
    def start_lock(self) -> Path:
        return self.run_dir / "start.lock"

    @property
    def node_lock(self) -> Path:
        """Held (flock) by the node for its whole life; outside run/, so losing run/ loses
        nothing. It holds the node's pid and start time."""
        return self.root / ".node.lock"

    @property
    def log_dir(self) -> Path:
        return self.root / "log"

    @property
    def console_log(self) -> Path:
        return self.log_dir / "console.log"

    @property
    def releases_dir(self) -> Path:
        return self.root / "releases"

    def make_run_dir(self) -> None:
        """Create run/ readable by the owner only (0700), tightening it if it exists."""
        self.run_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(self.run_dir, 0o700)

    def start_data(self) -> tuple[str, str]:
        """The permanent release and the runtime dir from releases/start_data."""
        path = self.root / start_data.PATH
        try:
            data = start_data.parse(path.read_text(encoding="utf-8"), str(path))
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise ControlError(f"cannot read {path}: {reason}; is this a release tree?") from None
        except (FormatError, UnicodeDecodeError) as exc:
            raise ControlError(str(exc)) from None
        return data.version, data.runtime_dir

    def node_config(self, version: str) -> node_toml.NodeConfig:
        """releases/<version>/node.toml read by the format layer (all defaults when missing)."""
        path = self.root / node_toml.path_for(version)
        try:
            return node_toml.parse(path.read_text(encoding="utf-8"), str(path))
        except FileNotFoundError:
            return node_toml.NodeConfig()
        except (OSError, UnicodeDecodeError) as exc:
            raise ControlError(f"cannot read {path}: {exc}") from None
        except FormatError as exc:
            raise ControlError(str(exc)) from None

    def releases_on_disk(self) -> list[tuple[str, str]]:
        """(version, status) of every release in releases/RELEASES."""
        path = self.root / releases.PATH
        try:
            entries = releases.parse(path.read_text(encoding="utf-8"), str(path))
        except OSError as exc:
            raise ControlError(f"cannot read {path}: {exc.strerror}") from None
        except (FormatError, UnicodeDecodeError) as exc:
            raise ControlError(str(exc)) from None
        return [(r.version, r.status) for r in entries]


def address(path: Path) -> str:
    """A name for `path` short enough for AF_UNIX: absolute if it fits, else relative to cwd."""
    absolute = str(path.absolute())
    if len(os.fsencode(absolute)) <= UNIX_PATH_MAX:
        return absolute
    relative = os.path.relpath(absolute)
    if len(os.fsencode(relative)) <= UNIX_PATH_MAX:
        return relative
    raise ControlError(f"socket path {absolute} is too long for a Unix socket; use a shorter root")


def connect(path: Path, timeout: float | None = 10.0) -> socket.socket:
    """A socket connected to the node's control socket; NotRunning when nobody answers."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        try:
            name = address(path)
        except ControlError:
            # Too long even relative to cwd: go there (the client is single-threaded).
            cwd = os.getcwd()
            os.chdir(path.parent)
            try:
                sock.connect(path.name)
            finally:
                os.chdir(cwd)
        else:
            sock.connect(name)
    except (FileNotFoundError, NotADirectoryError, ConnectionRefusedError) as exc:
        sock.close()
        raise NotRunning(f"the node is not running (nothing answers on {path})") from exc
    except PermissionError:
        sock.close()
        raise ControlError(
            f"permission denied on {path}: run this as the user that owns the node"
        ) from None
    except OSError:
        sock.close()
        raise
    return sock
