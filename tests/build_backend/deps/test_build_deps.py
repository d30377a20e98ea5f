"""The build ships the locked third-party libraries (issue 14): checks, fetching, installing."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path

import pytest
from primes_build.errors import BuildError
from primes_build.package.release import build_release

from tests.build_backend.deps.wheelhouse import (
    add_dependencies,
    write_lock,
    write_sdist,
    write_wheel,
)


def build(project: Path, outdir: Path, wheelhouse: Path | None = None) -> tuple[Path, str]:
    lines: list[str] = []
    built = build_release(project, outdir, (), lines.append, wheelhouse=wheelhouse)
    return built.path, "\n".join(lines)


def members(package: Path) -> dict[str, bytes]:
    with tarfile.open(package, mode="r:gz") as tar:
        return {
            m.name: (tar.extractfile(m) or io.BytesIO()).read()
            for m in tar.getmembers()
            if m.isfile()
        }


def manifest_of(package: Path) -> dict[str, object]:
    files = members(package)
    name = next(p for p in files if p.endswith("/release.json"))
    data: dict[str, object] = json.loads(files[name])
    return data


@pytest.fixture
def house(tmp_path: Path) -> Path:
    """A wheelhouse: tinylib 1.0 (needs tinybase) and tinybase 1.0."""
    folder = tmp_path / "wheelhouse"
    write_wheel(folder, "tinybase", "1.0", {"tinybase.py": b"BASE = 1\n"})
    write_wheel(
        folder,
        "tinylib",
        "1.0",
        {"tinylib/__init__.py": b"from tinybase import BASE\nVALUE = BASE + 1\n"},
        requires=["tinybase>=1"],
    )
    return folder


def test_a_locked_dependency_and_its_own_dependency_are_shipped_in_dependency_order(
    sample: Path, house: Path, tmp_path: Path
) -> None:
    add_dependencies(sample, "alpha", ["tinylib>=1"])
    write_lock(sample, sorted(house.glob("*.whl")))
    package, output = build(sample, tmp_path / "dist")
    files = members(package)
    assert "lib/tinylib-1.0/tinylib/__init__.py" in files
    assert files["lib/tinybase-1.0/tinybase.py"] == b"BASE = 1\n"
    libraries = manifest_of(package)["libraries"]
    assert isinstance(libraries, list)
    assert [lib["name"] for lib in libraries] == ["tinybase", "tinylib"]
    tinylib = libraries[1]
    assert tinylib["path"] == "lib/tinylib-1.0"
    assert tinylib["tags"] == ["py3-none-any"]
    assert tinylib["requires"] == ["tinybase"]
    assert tinylib["used_by"] == ["alpha"]
    source = files["lib/tinylib-1.0/tinylib/__init__.py"]
    assert tinylib["modules"] == {"tinylib": hashlib.sha256(source).hexdigest()}
    assert "start" not in tinylib
    assert "==> library tinylib 1.0 (fetched)" in output


def test_a_second_build_takes_the_locked_files_from_the_cache(
    sample: Path, house: Path, tmp_path: Path
) -> None:
    add_dependencies(sample, "alpha", ["tinylib>=1"])
    write_lock(sample, sorted(house.glob("*.whl")))
    build(sample, tmp_path / "dist")
    for wheel in house.glob("*.whl"):
        wheel.unlink()
    _, output = build(sample, tmp_path / "dist")
    assert "==> library tinylib 1.0 (cached)" in output


def test_an_app_with_no_dependencies_needs_no_lock(sample: Path, tmp_path: Path) -> None:
    package, _ = build(sample, tmp_path / "dist")
    assert manifest_of(package)["libraries"] == []


def test_a_requirement_with_no_lock_is_refused_at_its_line(sample: Path, tmp_path: Path) -> None:
    add_dependencies(sample, "alpha", ["tinylib>=1"])
    with pytest.raises(BuildError) as caught:
        build(sample, tmp_path / "dist")
    assert str(caught.value) == (
        "apps/alpha/pyproject.toml:11: project.dependencies: tinylib>=1 is not satisfied "
        "by pylock.toml; run primes lock"
    )


def test_an_unsatisfied_requirement_is_one_line_naming_its_file_and_line(
    sample: Path, house: Path, tmp_path: Path
) -> None:
    add_dependencies(sample, "beta", ["tinybase>=1", "tinylib>=2"])
    write_lock(sample, sorted(house.glob("*.whl")))
    with pytest.raises(BuildError) as caught:
        build(sample, tmp_path / "dist")
    assert str(caught.value) == (
        "apps/beta/pyproject.toml:12: project.dependencies: tinylib>=2 is not satisfied "
        "by pylock.toml; run primes lock"
    )


def test_a_lock_holding_what_no_app_needs_any_more_is_stale(
    sample: Path, house: Path, tmp_path: Path
) -> None:
    add_dependencies(sample, "alpha", ["tinybase>=1"])
    write_lock(sample, sorted(house.glob("*.whl")))
    with pytest.raises(BuildError) as caught:
        build(sample, tmp_path / "dist")
    assert str(caught.value) == (
        "pylock.toml: locks tinylib 1.0, which no app needs any more; run primes lock"
    )


def test_a_lock_missing_a_dependency_of_a_library_is_stale(
    sample: Path, house: Path, tmp_path: Path
) -> None:
    add_dependencies(sample, "alpha", ["tinylib>=1"])
    write_lock(sample, [house / "tinylib-1.0-py3-none-any.whl"])
    with pytest.raises(BuildError) as caught:
        build(sample, tmp_path / "dist")
    assert str(caught.value) == (
        "pylock.toml: tinylib 1.0 requires tinybase>=1, which the lock does not satisfy; "
        "run primes lock"
    )


def test_a_file_whose_hash_differs_from_the_lock_is_refused_by_name(
    sample: Path, house: Path, tmp_path: Path
) -> None:
    add_dependencies(sample, "alpha", ["tinylib>=1"])
    write_lock(
        sample, sorted(house.glob("*.whl")), sha256={"tinylib-1.0-py3-none-any.whl": "0" * 64}
    )
    with pytest.raises(BuildError) as caught:
        build(sample, tmp_path / "dist")
    message = str(caught.value)
    assert message.startswith("pylock.toml: tinylib-1.0-py3-none-any.whl has sha256 ")
    assert f"the lock says {'0' * 64}" in message
    assert not list((tmp_path / "dist").glob("*.tar.gz"))


def test_an_offline_build_takes_the_locked_files_from_the_wheelhouse_setting(
    sample: Path, house: Path, tmp_path: Path
) -> None:
    add_dependencies(sample, "alpha", ["tinylib>=1"])
    write_lock(sample, sorted(house.glob("*.whl")))
    text = (sample / "pylock.toml").read_text().replace(house.as_uri(), "https://nowhere.invalid")
    (sample / "pylock.toml").write_text(text)
    package, _ = build(sample, tmp_path / "dist", wheelhouse=house)
    assert "lib/tinylib-1.0/tinylib/__init__.py" in members(package)


def test_a_wheelhouse_without_a_locked_file_says_which(
    sample: Path, house: Path, tmp_path: Path
) -> None:
    add_dependencies(sample, "alpha", ["tinylib>=1"])
    write_lock(sample, sorted(house.glob("*.whl")))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(BuildError, match=r"no tinybase-1.0-py3-none-any.whl there"):
        build(sample, tmp_path / "dist", wheelhouse=empty)


def test_an_sdist_only_dependency_is_built_into_a_wheel_once_and_cached(
    sample: Path, tmp_path: Path
) -> None:
    sdist = write_sdist(tmp_path / "sdists", "srconly", "0.3", {"srconly.py": b"SRC = 3\n"})
    add_dependencies(sample, "alpha", ["srconly"])
    write_lock(sample, [sdist])
    package, output = build(sample, tmp_path / "dist")
    assert members(package)["lib/srconly-0.3/srconly.py"] == b"SRC = 3\n"
    assert "==> library srconly 0.3 (wheel built from sdist)" in output
    again, output = build(sample, tmp_path / "dist")
    assert "==> library srconly 0.3 (wheel from sdist, cached)" in output
    assert again.read_bytes() == package.read_bytes()


def test_two_apps_sharing_a_library_ship_it_once(sample: Path, house: Path, tmp_path: Path) -> None:
    add_dependencies(sample, "alpha", ["tinylib>=1"])
    add_dependencies(sample, "beta", ["tinybase"])
    write_lock(sample, sorted(house.glob("*.whl")))
    package, _ = build(sample, tmp_path / "dist")
    libraries = manifest_of(package)["libraries"]
    assert isinstance(libraries, list)
    assert [(lib["name"], lib["used_by"]) for lib in libraries] == [
        ("tinybase", ["alpha", "beta"]),
        ("tinylib", ["alpha"]),
    ]


def test_the_same_library_version_is_byte_identical_across_releases(
    sample: Path, house: Path, tmp_path: Path
) -> None:
    add_dependencies(sample, "alpha", ["tinylib>=1"])
    write_lock(sample, sorted(house.glob("*.whl")))
    first, _ = build(sample, tmp_path / "one")
    second, _ = build(sample, tmp_path / "two")
    mine = {p: d for p, d in members(first).items() if p.startswith("lib/tiny")}
    theirs = {p: d for p, d in members(second).items() if p.startswith("lib/tiny")}
    assert mine and mine == theirs


def test_a_library_shipping_a_module_named_like_an_app_is_refused_naming_both(
    sample: Path, tmp_path: Path
) -> None:
    house = tmp_path / "wheelhouse"
    write_wheel(house, "evilpm", "1.0", {"alpha/__init__.py": b"HIJACKED = True\n"})
    add_dependencies(sample, "beta", ["evilpm>=1"])
    write_lock(sample, sorted(house.glob("*.whl")))
    with pytest.raises(BuildError) as caught:
        build(sample, tmp_path / "dist")
    assert str(caught.value) == (
        "app alpha 1 and library evilpm 1.0 both provide the top-level module `alpha`; one "
        "would shadow the other on the node's sys.path: rename one, or drop the dependency "
        "that ships it"
    )


def test_two_libraries_sharing_a_namespace_package_with_distinct_modules_are_shipped(
    sample: Path, tmp_path: Path
) -> None:
    house = tmp_path / "wheelhouse"
    write_wheel(house, "nsone", "1.0", {"ns/one/__init__.py": b"ONE = 1\n"})
    write_wheel(house, "nstwo", "1.0", {"ns/two.py": b"TWO = 2\n"})
    add_dependencies(sample, "alpha", ["nsone>=1", "nstwo>=1"])
    write_lock(sample, sorted(house.glob("*.whl")))
    package, _ = build(sample, tmp_path / "dist")
    assert "lib/nstwo-1.0/ns/two.py" in members(package)
