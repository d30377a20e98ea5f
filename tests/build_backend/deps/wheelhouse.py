"""Tiny wheels and sdists the dependency tests make themselves, and pylock.toml files for them."""

from __future__ import annotations

import base64
import hashlib
import io
import tarfile
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path

_EPOCH = (1980, 1, 1, 0, 0, 0)


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={digest}"


def wheel_files(
    name: str, version: str, files: Mapping[str, bytes], requires: Sequence[str], tag: str
) -> dict[str, bytes]:
    """The members of a wheel: `files`, METADATA, WHEEL and RECORD."""
    dist = name.replace("-", "_")
    info = f"{dist}-{version}.dist-info"
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    metadata += "".join(f"Requires-Dist: {r}\n" for r in requires)
    members = dict(files)
    members[f"{info}/METADATA"] = metadata.encode()
    purelib = "true" if tag.endswith("-none-any") else "false"
    wheel = f"Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: {purelib}\nTag: {tag}\n"
    members[f"{info}/WHEEL"] = wheel.encode()
    record = "".join(f"{p},{_record_hash(d)},{len(d)}\n" for p, d in members.items())
    members[f"{info}/RECORD"] = (record + f"{info}/RECORD,,\n").encode()
    return members


def write_wheel(
    folder: Path,
    name: str,
    version: str,
    files: Mapping[str, bytes],
    requires: Sequence[str] = (),
    tag: str = "py3-none-any",
) -> Path:
    """A wheel `<name>-<version>-<tag>.whl` in `folder`, written directly as a zip."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name.replace('-', '_')}-{version}-{tag}.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for member, data in wheel_files(name, version, files, requires, tag).items():
            archive.writestr(zipfile.ZipInfo(member, _EPOCH), data)
    return path


_BACKEND = '''"""A tiny PEP 517 backend: zips the module or package into a wheel."""
import base64, hashlib, zipfile
from pathlib import Path
NAME, VERSION, PACKAGE = {name!r}, {version!r}, {package!r}
EPOCH = (1980, 1, 1, 0, 0, 0)


def _hash(data):
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    found = [Path(PACKAGE + ".py")] if Path(PACKAGE + ".py").is_file() else []
    found += sorted(Path(PACKAGE).rglob("*.py")) if Path(PACKAGE).is_dir() else []
    files = {{p.as_posix(): p.read_bytes() for p in found}}
    info = f"{{NAME}}-{{VERSION}}.dist-info"
    meta = f"Metadata-Version: 2.1\\nName: {{NAME}}\\nVersion: {{VERSION}}\\n"
    files[info + "/METADATA"] = meta.encode()
    wheel = "Wheel-Version: 1.0\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"
    files[info + "/WHEEL"] = wheel.encode()
    record = "".join(f"{{p}},{{_hash(d)}},{{len(d)}}\\n" for p, d in files.items())
    files[info + "/RECORD"] = (record + info + "/RECORD,,\\n").encode()
    name = f"{{NAME}}-{{VERSION}}-py3-none-any.whl"
    with zipfile.ZipFile(Path(wheel_directory) / name, "w") as archive:
        for path, data in files.items():
            archive.writestr(zipfile.ZipInfo(path, EPOCH), data)
    return name
'''


def write_sdist(folder: Path, name: str, version: str, files: Mapping[str, bytes]) -> Path:
    """An sdist whose in-tree backend needs nothing installed (so its isolated build is offline)."""
    folder.mkdir(parents=True, exist_ok=True)
    package = next(iter(files)).split("/")[0].removesuffix(".py")
    top = f"{name}-{version}"
    pyproject = (
        '[build-system]\nrequires = []\nbuild-backend = "tinybackend"\nbackend-path = ["."]\n'
        f'[project]\nname = "{name}"\nversion = "{version}"\n'
    )
    members = {
        f"{top}/pyproject.toml": pyproject.encode(),
        f"{top}/tinybackend.py": _BACKEND.format(
            name=name, version=version, package=package
        ).encode(),
        f"{top}/PKG-INFO": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(),
        **{f"{top}/{p}": d for p, d in files.items()},
    }
    path = folder / f"{top}.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        for member, data in sorted(members.items()):
            entry = tarfile.TarInfo(member)
            entry.size = len(data)
            archive.addfile(entry, io.BytesIO(data))
    return path


def write_lock(
    project: Path, files: Sequence[Path], sha256: Mapping[str, str] | None = None
) -> Path:
    """project/pylock.toml locking each wheel or sdist by file URL (sha256 overridable by name)."""
    sha256 = sha256 or {}
    text = 'lock-version = "1.0"\ncreated-by = "tests"\nrequires-python = ">=3.11"\n'
    text += "" if files else "packages = []\n"
    for path in files:
        digest = sha256.get(path.name, hashlib.sha256(path.read_bytes()).hexdigest())
        if path.name.endswith(".whl"):
            name, version = path.name.split("-")[:2]
            kind = "wheels = [{"
            end = "}]"
        else:
            name, version = path.name.removesuffix(".tar.gz").rsplit("-", 1)
            kind = "sdist = {"
            end = "}"
        entry = f'url = "{path.as_uri()}", hashes = {{ sha256 = "{digest}" }}'
        text += f'\n[[packages]]\nname = "{name}"\nversion = "{version}"\n{kind} {entry} {end}\n'
    lock = project / "pylock.toml"
    lock.write_text(text)
    return lock


def add_dependencies(project: Path, app: str, requirements: Sequence[str]) -> None:
    """Set an app's `dependencies = [...]` to the runtime plus `requirements`, one a line."""
    path = project / "apps" / app / "pyproject.toml"
    listed = "".join(f'    "{r}",\n' for r in ["primes-runtime", *requirements])
    text = path.read_text().replace(
        'dependencies = ["primes-runtime"]', f"dependencies = [\n{listed}]"
    )
    path.write_text(text)
