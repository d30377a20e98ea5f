"""The wheel pip users get: a `<release>_release` package carrying the release package."""

from __future__ import annotations

import stat
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from zipfile import ZIP_DEFLATED, ZipInfo

from wheel.wheelfile import WheelFile  # type: ignore[import-untyped]

from primes_build.metadata import Distribution
from primes_build.release import BuiltRelease, package_name
from primes_build.tarball import source_date_epoch

TAG = "py3-none-any"
UNPACKER = Path(__file__).with_name("release_unpacker.py")
MAIN = "from {package} import main\n\nraise SystemExit(main())\n"


def import_name(release_name: str) -> str:
    """The import package of the pip wheel: `primenode_release`."""
    return f"{release_name}_release"


def dist_info_name(dist: Distribution) -> str:
    """`primenode-2.dist-info`."""
    return f"{dist.filename_name}-{dist.version}.dist-info"


def dist_info_files(dist: Distribution, release_name: str) -> dict[str, bytes]:
    """METADATA, WHEEL and entry_points.txt (RECORD is added by the wheel writer)."""
    wheel = f"Wheel-Version: 1.0\nGenerator: primes_build\nRoot-Is-Purelib: true\nTag: {TAG}\n"
    command = f"{release_name.replace('_', '-')}-release"
    entry_points = f"[console_scripts]\n{command} = {import_name(release_name)}:main\n"
    return {
        "METADATA": dist.metadata,
        "WHEEL": wheel.encode(),
        "entry_points.txt": entry_points.encode(),
    }


def write_dist_info(dist: Distribution, release_name: str, directory: Path) -> str:
    """prepare_metadata_for_build_wheel: write `<name>-<vsn>.dist-info/` into `directory`."""
    target = directory / dist_info_name(dist)
    target.mkdir(parents=True, exist_ok=True)
    for name, data in dist_info_files(dist, release_name).items():
        (target / name).write_bytes(data)
    return target.name


class _ReproducibleWheel(WheelFile):  # type: ignore[misc]
    """A WheelFile whose every entry (RECORD included) has the same timestamp and mode."""

    def writestr(
        self, zinfo_or_arcname: str | ZipInfo, data: bytes | str, compress_type: int | None = None
    ) -> None:
        if isinstance(zinfo_or_arcname, str):
            year, month, day, hour, minute, second = time.gmtime(source_date_epoch())[0:6]
            info = ZipInfo(zinfo_or_arcname, date_time=(year, month, day, hour, minute, second))
            info.compress_type = ZIP_DEFLATED
            info.external_attr = (0o644 | stat.S_IFREG) << 16
            zinfo_or_arcname = info
        super().writestr(zinfo_or_arcname, data, compress_type)


def write_pip_wheel(
    dist: Distribution, release_name: str, release: BuiltRelease, wheel_dir: Path
) -> str:
    """Write the wheel into `wheel_dir`; returns its file name."""
    package = import_name(release_name)
    files: dict[str, bytes] = {
        f"{package}/__init__.py": UNPACKER.read_bytes(),
        f"{package}/__main__.py": MAIN.format(package=package).encode(),
        f"{package}/{package_name(release_name, release.version)}": release.data,
    }
    info = dist_info_name(dist)
    files.update({f"{info}/{k}": v for k, v in dist_info_files(dist, release_name).items()})
    filename = f"{dist.filename_name}-{dist.version}-{TAG}.whl"
    _write(wheel_dir / filename, files)
    return filename


def _write(target: Path, files: Mapping[str, bytes]) -> None:
    with tempfile.TemporaryDirectory(prefix="primes-whl-", dir=target.parent) as temp:
        temp_path = Path(temp) / target.name
        with _ReproducibleWheel(temp_path, "w") as wheel:
            for name in sorted(files, key=lambda n: (".dist-info/" in n, n)):
                wheel.writestr(name, files[name])
        temp_path.replace(target)
