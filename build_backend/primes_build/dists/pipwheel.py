"""The wheel pip users get: a `<release>_release` package carrying the release package."""

from __future__ import annotations

import base64
import hashlib
import stat
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from zipfile import ZIP_DEFLATED, ZIP_STORED, ZipFile, ZipInfo

from primes_build.dists.metadata import Distribution
from primes_build.package.release import BuiltRelease, package_name
from primes_build.package.tarball import source_date_epoch

TAG = "py3-none-any"
UNPACKER = Path(__file__).with_name("release_unpacker.py")
#: The format layer's SHA256SUMS reader, shipped beside the unpacker (it imports `._formats`).
FORMATS = Path(__file__).resolve().parents[3] / "runtime" / "primes_runtime" / "formats"
FORMAT_MODULES = ("__init__.py", "errors.py", "hashing.py", "sha256sums.py")
MAIN = "from {package} import main\n\nraise SystemExit(main())\n"


def import_name(release_name: str) -> str:
    """The import package of the pip wheel: `primenode_release`."""
    return f"{release_name}_release"


def dist_info_name(dist: Distribution) -> str:
    """`primenode-2.dist-info`."""
    return f"{dist.filename_name}-{dist.version}.dist-info"


def dist_info_files(dist: Distribution, release_name: str) -> dict[str, bytes]:
    """METADATA, WHEEL and entry_points.txt (the writer adds RECORD)."""
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
    files.update({f"{package}/_formats/{m}": _format_module(m) for m in FORMAT_MODULES})
    info = dist_info_name(dist)
    files.update({f"{info}/{k}": v for k, v in dist_info_files(dist, release_name).items()})
    filename = f"{dist.filename_name}-{dist.version}-{TAG}.whl"
    _write(wheel_dir / filename, files)
    return filename


def _format_module(name: str) -> bytes:
    """A module of the format layer, from the source tree (or the installed runtime)."""
    path = FORMATS / name
    if not path.is_file():
        import primes_runtime.formats as installed

        path = Path(installed.__file__).with_name(name)
    return path.read_bytes()


def record(files: Mapping[str, bytes], record_path: str) -> bytes:
    """The wheel's RECORD (PEP 376/427): `path,sha256=<urlsafe b64>,size` per file, then itself."""
    lines = []
    for name in files:
        digest = base64.urlsafe_b64encode(hashlib.sha256(files[name]).digest()).rstrip(b"=")
        lines.append(f"{name},sha256={digest.decode()},{len(files[name])}\n")
    lines.append(f"{record_path},,\n")
    return "".join(lines).encode()


def _write(target: Path, files: Mapping[str, bytes]) -> None:
    """A zip, every entry at SOURCE_DATE_EPOCH and mode 0644, .dist-info last, RECORD at the end."""
    names = sorted(files, key=lambda n: (".dist-info/" in n, n))
    info_dir = next(n.split("/", 1)[0] for n in names if ".dist-info/" in n)
    ordered = {n: files[n] for n in names}
    record_path = f"{info_dir}/RECORD"
    ordered[record_path] = record(ordered, record_path)
    stamp = time.gmtime(source_date_epoch())[0:6]
    with tempfile.TemporaryDirectory(prefix="primes-whl-", dir=target.parent) as temp:
        temp_path = Path(temp) / target.name
        with ZipFile(temp_path, "w") as wheel:
            for name, data in ordered.items():
                info = ZipInfo(name, date_time=stamp)  # type: ignore[arg-type]
                # the release package is gzip'd already: deflating it again only costs time
                info.compress_type = ZIP_STORED if name.endswith(".tar.gz") else ZIP_DEFLATED
                info.external_attr = (0o644 | stat.S_IFREG) << 16
                wheel.writestr(info, data)
        temp_path.replace(target)
