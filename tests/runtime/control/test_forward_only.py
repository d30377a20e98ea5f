"""`upgrade` goes forward only: a genuine older release offered to it is refused (going back is
`downgrade`), also when two upgrades race; one to the permanent release again is a success."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from .conftest import DOWN_TO_1, UP_FROM_1, Script, make_package, manifest, repack

SAME_CODE = "point_of_no_return\n"


def package_3(tmp_path: Path) -> Path:
    """primenode_3.tar.gz: release 2's code under version 3, with scripts up from 1 and 2 and
    down to both (so an old node would take `upgrade 2` at 3 as a way down)."""
    scripts = {"up_from_1": UP_FROM_1, "up_from_2": SAME_CODE, "down_to_1": DOWN_TO_1}
    scripts["down_to_2"] = SAME_CODE
    out = tmp_path / "three"
    out.mkdir()
    package = make_package(out).rename(out / "primenode_3.tar.gz")

    def renumbered(files: dict[str, bytes]) -> None:
        for path in [p for p in files if p.startswith("releases/2/")]:
            files["releases/3/" + path.removeprefix("releases/2/")] = files.pop(path)
        for path in [p for p in files if p.endswith(".relup")]:
            del files[path]
        upgrades = {"up_from": ["1", "2"], "down_to": ["1", "2"]}
        files["releases/3/release.json"] = manifest("3", "2", upgrades).encode()
        files.update({f"releases/3/{k}.relup": v.encode() for k, v in scripts.items()})

    return repack(package, renumbered)


def versions(node: Script) -> str:
    return node.ok("versions")


def test_an_older_genuine_package_offered_to_upgrade_is_refused_and_downgrade_goes_back(
    running: Script, tmp_path: Path
) -> None:
    older = make_package(tmp_path)
    running.ok("upgrade", str(package_3(tmp_path)))
    assert versions(running) == "1 old\n3 permanent\n"

    for offered in (str(older), "1"):
        result = running.run("upgrade", offered)
        assert result.returncode == 1, result.stdout
        assert result.stderr.count("\n") == 1, result.stderr
        assert "is not newer than the permanent release 3; upgrade only goes forward" in (
            result.stderr
        )
        assert versions(running) == "1 old\n3 permanent\n"
        assert not (running.root / "releases" / "2").exists()

    assert "release 1 installed over 3 (down" in running.ok("downgrade", "1")
    assert versions(running) == "1 permanent\n3 old\n"


def test_upgrade_3_and_upgrade_2_at_once_never_end_on_2(running: Script, tmp_path: Path) -> None:
    two, three = make_package(tmp_path), package_3(tmp_path)
    for _ in range(3):
        upgrades = [
            subprocess.Popen(
                [str(running.path), "upgrade", str(package), "--json"],
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
            )
            for package in (three, two)
        ]
        to_3, to_2 = (json.loads(u.communicate(timeout=120)[0]) for u in upgrades)

        assert to_3["ok"], to_3
        assert versions(running).endswith("3 permanent\n")
        if to_2["ok"]:  # it went first: 1 -> 2, then 2 -> 3
            assert (to_2["from_version"], to_3["from_version"]) == ("1", "2")
        else:
            assert "is not newer than the permanent release 3" in to_2["error"]
        assert "down" not in (to_3["direction"], to_2.get("direction"))
        running.ok("downgrade", "1")
        running.ok("uninstall", "3")
        if to_2["ok"]:
            running.ok("uninstall", "2")


def test_upgrade_to_the_permanent_release_again_succeeds_and_says_so(
    running: Script, tmp_path: Path
) -> None:
    package = make_package(tmp_path)
    running.ok("upgrade", str(package))
    before = (running.root / "releases" / "RELEASES").read_bytes()

    for offered in ("2", str(package)):
        result = running.run("upgrade", offered)
        assert result.returncode == 0, result.stderr
        assert result.stdout == "release 2 is already permanent; nothing to do\n"
        assert json.loads(running.ok("upgrade", offered, "--json"))["ok"] is True

    assert (running.root / "releases" / "RELEASES").read_bytes() == before
    assert running.ok("rpc", "demo_api", "version") == "two\n"
