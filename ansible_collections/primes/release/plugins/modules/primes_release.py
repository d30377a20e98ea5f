#!/usr/bin/python
"""Ansible module: take one primes node to a release (unpacked, installed, permanent)."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: primes_release
short_description: Upgrade one primes release node (hot or by hand-over), with rollback
version_added: "1.0.0"
description:
  - Drives one deployed primes release tree through its C(bin/<name>) script, and needs
    nothing else on the host.
  - Takes the node to a release I(state) (C(unpacked), C(installed) or C(permanent)) or
    back to an earlier release with I(downgrade), hot, while the node keeps serving.
  - A release on another runtime or interpreter is a hand-over (the node decides, and
    C(check) says so) - C(bin/<name> upgrade) starts a successor node with a new pid, which
    takes the sockets and every process state; the task is the same and returns I(handover).
  - A node that is already where it should be reports C(changed=false).
  - In check mode the node runs its own check of the release (C(bin/<name> check --json),
    everything up to the point of no return), also for a package it has not unpacked yet
    (C(check --no-keep) removes again what it unpacked), and nothing on the node changes.
  - Everything the module learns from the node comes from the JSON object C(--json) prints
    and the exit code; it parses no text.
  - A failed install is a failed task; C(msg) says what happened and whether the node rolled
    back (it then runs its old release, with its state).
  - The action plugin of the same name copies I(package) from the controller to
    C(<root>/releases/) on the host when that file is not there yet (in check mode, into
    the task's temporary directory only).
options:
  root:
    description: The deployed release tree (the directory holding C(bin/) and C(releases/)).
    type: path
    required: true
  name:
    description: The release name, so the script is C(<root>/bin/<name>).
    type: str
    default: primenode
  package:
    description:
      - Path of the release package C(<name>_<vsn>.tar.gz) on the controller (or on the host
        with I(remote_src=true)).
      - Needed when the node does not have the release yet; its version is the target.
    type: path
  remote_src:
    description: I(package) is already a path on the host; copy nothing.
    type: bool
    default: false
  version:
    description: The target release version, when no I(package) is given (it must be on the node).
    type: str
  state:
    description:
      - C(unpacked) - the release is in the tree; C(installed) - the node runs it (hot, not
        permanent, a restart undoes it); C(permanent) - the node runs it and boots it.
    type: str
    choices: [unpacked, installed, permanent]
    default: permanent
  downgrade:
    description:
      - Go back to this earlier release through the running release's down script and make
        it permanent. Excludes I(package) and I(version).
    type: str
  python:
    description: The interpreter the node's script uses (sets C(PRIMES_PYTHON)).
    type: str
attributes:
  action:
    description: An action plugin copies the package to the host.
    support: full
  check_mode:
    description: Runs the node's check; changes nothing.
    support: full
  diff_mode:
    description: Shows C(bin/<name> versions) before and after.
    support: full
  platform:
    description: POSIX hosts with Python 3.11 or later.
    support: full
    platforms: posix
author:
  - primes developers (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Upgrade the node to the release in the package, hot
  primes.release.primes_release:
    root: /srv/primenode
    package: dist/primenode_2.tar.gz

- name: Install without making it permanent (a restart boots the permanent release)
  primes.release.primes_release:
    root: /srv/primenode
    package: dist/primenode_2.tar.gz
    state: installed

- name: Go back to release 1
  primes.release.primes_release:
    root: /srv/primenode
    downgrade: "1"
"""

RETURN = r"""
release:
  description: The release the node runs after the task.
  returned: always
  type: str
  sample: "2"
previous:
  description: The release the node ran before the task.
  returned: always
  type: str
  sample: "1"
target:
  description: The release the task aimed at.
  returned: always
  type: str
  sample: "2"
versions:
  description: Every release on the node after the task, and its status.
  returned: always
  type: dict
  sample: {"2": "permanent", "1": "old"}
commands:
  description: The C(bin/<name>) commands run (in check mode, the ones that would run).
  returned: always
  type: list
  elements: str
  sample: ["upgrade /srv/primenode/releases/primenode_2.tar.gz"]
pauses:
  description: How long each suspended process stopped handling messages.
  returned: always
  type: list
  elements: dict
  sample: [{"pid": "<0.2>", "name": "prime_miner", "module": "prime_miner.miner", "ms": 2.3}]
max_pause_ms:
  description:
    - The longest pause in I(pauses), in milliseconds.
    - For a hand-over, how long the old node accepted nothing (I(handover.frozen_ms)).
  returned: always
  type: float
  sample: 2.3
duration_ms:
  description: Wall time of the commands run on the node, in milliseconds.
  returned: always
  type: float
  sample: 480.5
handover:
  description:
    - The upgrade handed the node over to a successor node (the release changes the runtime
      or the interpreter) - the node's report, C(old_pid) and C(new_pid) differ.
    - C(frozen_ms) is how long nothing was accepted, C(seconds) the whole hand-over.
  returned: when an upgrade was a hand-over
  type: dict
  sample: {"from_version": "1", "to_version": "2", "why": "the runtime changes
           (primes_runtime-1 -> primes_runtime-2), and a runtime is never swapped in place",
           "old_pid": 4200, "new_pid": 4242, "sockets": ["asgi_host", "primes.control"],
           "states": 1, "seconds": 0.2, "frozen_ms": 18.3}
check:
  description:
    - The node's check report, C(bin/<name> check --json) without C(ok) and C(command).
    - C(unpacked) is true when the check had to unpack the package (and removed it again).
  returned: when check mode would install, upgrade or downgrade
  type: dict
  sample: {"from_version": "1", "to_version": "2", "script": "releases/2/up_from_1.relup",
           "instructions": 12, "modules_prepared": ["prime_miner.miner"],
           "processes": [{"module": "prime_miner.miner", "count": 1}], "warnings": [],
           "unpacked": true}
failed_step:
  description: The step that failed, C(<script>:<line> (<instruction>)); null for a refusal.
  returned: failure
  type: str
  sample: "releases/2/up_from_1.relup:8 (code_change prime_miner.miner)"
failed_script:
  description: The C(.relup) script of the failed step; null for a refusal.
  returned: failure
  type: str
  sample: "releases/2/up_from_1.relup"
failed_line:
  description: The line of the failed step in I(failed_script); null for a refusal.
  returned: failure
  type: int
  sample: 8
reason:
  description: Why the step failed (for a refusal, the node's error line).
  returned: failure
  type: str
exit_code:
  description: The exit code of the failed C(bin/<name>) command (1 refused or rolled back,
    3 not running, 4 rollback problems).
  returned: failure
  type: int
node_json:
  description: The JSON object the failed C(bin/<name>) command printed (C(error), C(report), ...).
  returned: failure
  type: dict
rolled_back:
  description: True if the node went back to its old release and state after a failed install.
  returned: failure
  type: bool
rollback_problems:
  description: What the rollback of a failed install could not undo (see log/node.log).
  returned: failure
  type: list
  elements: str
refused:
  description: True if the node refused the release before changing anything.
  returned: failure
  type: bool
"""

import os  # noqa: E402
import time  # noqa: E402

from ansible.module_utils.basic import AnsibleModule  # noqa: E402

from ansible_collections.primes.release.plugins.module_utils.node_cli import (  # noqa: E402
    NodeCli,
    NodeError,
    Outcome,
)
from ansible_collections.primes.release.plugins.module_utils.package import (  # noqa: E402
    PackageError,
    release_version,
)
from ansible_collections.primes.release.plugins.module_utils.plan import (  # noqa: E402
    STATES,
    PlanError,
    Step,
    plan,
    predict,
    running,
    show,
)

ARGUMENT_SPEC = {
    "root": {"type": "path", "required": True},
    "name": {"type": "str", "default": "primenode"},
    "package": {"type": "path"},
    "remote_src": {"type": "bool", "default": False},
    "version": {"type": "str"},
    "state": {"type": "str", "choices": list(STATES), "default": "permanent"},
    "downgrade": {"type": "str"},
    "python": {"type": "str"},
}


UNREADABLE = -1
"""The exit code an Outcome gets when the node's answer could not be read."""

INSTALLS = ("install", "upgrade", "downgrade")
"""The steps that run a .relup script in the node, so check mode runs the node's check."""


def run_step(cli: NodeCli, step: Step) -> Outcome:
    """One planned command on the node."""
    return {
        "unpack": cli.unpack,
        "install": cli.install,
        "permanent": cli.permanent,
        "upgrade": cli.upgrade,
        "downgrade": cli.downgrade,
    }[step.command](step.argument)


def failure_message(root: str, step: Step, outcome: Outcome, before: str | None) -> str:
    """What happened, and whether the node rolled back: the task's `msg`."""
    what = f"{step.command} {step.argument}"
    if outcome.exit_code == UNREADABLE:
        return f"{root}: {what}: {outcome.summary}; see bin/<name> versions for the node's state"
    if outcome.not_running:
        return f"{root}: {what}: the node is not running; start it (bin/<name> start) and retry"
    if outcome.rolled_back:
        return (
            f"{root}: {what} failed at {outcome.failed_step}: {outcome.reason}; "
            f"the node rolled back and serves release {before} with its state"
        )
    if outcome.rollback_problems:
        return (
            f"{root}: {what} failed at {outcome.failed_step}: {outcome.reason}; the rollback "
            f"was incomplete: {'; '.join(outcome.rollback_problems)} (see log/node.log)"
        )
    return (
        f"{root}: {what} refused, nothing changed (release {before} still runs): {outcome.summary}"
    )


def main() -> None:
    module = AnsibleModule(
        argument_spec=ARGUMENT_SPEC,
        mutually_exclusive=[("downgrade", "package"), ("downgrade", "version")],
        required_one_of=[("package", "version", "downgrade")],
        supports_check_mode=True,
    )
    p = module.params
    root = p["root"].rstrip("/") or "/"
    if p["python"]:
        os.environ["PRIMES_PYTHON"] = p["python"]

    def run(argv: list[str]) -> tuple[int, str, str]:
        code, out, err = module.run_command(argv, cwd="/")
        return int(code), str(out), str(err)

    cli = NodeCli(root, p["name"], run)
    if not os.access(cli.script, os.X_OK):
        module.fail_json(
            msg=f"{cli.script}: no such start script; is {root} a deployed {p['name']} tree?"
        )
    state = "downgraded" if p["downgrade"] else p["state"]
    try:
        target = p["downgrade"] or p["version"] or release_version(p["package"])
        if p["version"] and p["package"] and target != release_version(p["package"]):
            held = release_version(p["package"])
            module.fail_json(msg=f"{p['package']} holds release {held}, not {p['version']}")
        before = dict(cli.versions())
        steps = plan(before, target, state, p["package"])
    except (PackageError, PlanError, NodeError) as exc:
        module.fail_json(msg=f"{root}: {exc}")
    previous = running(before)
    result: dict[str, object] = {
        "changed": bool(steps),
        "target": target,
        "previous": previous,
        "release": previous,
        "versions": before,
        "commands": [f"{s.command} {s.argument}" for s in steps],
        "pauses": [],
        "max_pause_ms": 0.0,
        "duration_ms": 0.0,
    }
    if not steps:
        module.exit_json(**result)
    after = predict(before, target, state)
    if module._diff:
        result["diff"] = {"before": show(before), "after": show(after)}
    if module.check_mode:
        if any(step.command in INSTALLS for step in steps):
            known = target in before
            try:
                checked = cli.check(target if known else str(p["package"]), keep=known)
            except NodeError as exc:
                module.fail_json(msg=f"{root}: {exc}", **result)
            if not checked.ok:
                module.fail_json(
                    msg=f"{root}: the node is not running, so it cannot check release {target}; "
                    "start it (bin/<name> start) and retry"
                    if checked.not_running
                    else f"{root}: the node's check of release {target} failed, so an install "
                    f"would be refused: {checked.summary}",
                    failed_step=None,
                    reason=checked.reason,
                    refused=True,
                    rolled_back=False,
                    exit_code=checked.exit_code,
                    node_json=checked.data,
                    **{k: v for k, v in result.items() if k != "changed"},
                )
            result["check"] = checked.data
        result["release"] = running(after)
        result["versions"] = after
        module.exit_json(**result)

    pauses: list[dict[str, object]] = []
    frozen: list[float] = []
    started = time.monotonic()
    for step in steps:
        try:
            outcome = run_step(cli, step)
        except NodeError as exc:
            outcome = Outcome((step.command, step.argument), False, str(exc), UNREADABLE)
        pauses += [pause.as_dict() for pause in outcome.pauses]
        if outcome.handover is not None:
            result["handover"] = outcome.handover
            frozen.append(float(str(outcome.handover.get("frozen_ms", 0.0))))
        if not outcome.ok:
            try:
                now = dict(cli.versions())
            except NodeError:
                now = before
            result.update(
                changed=now != before,
                versions=now,
                release=running(now),
                pauses=pauses,
                max_pause_ms=max((float(str(x["ms"])) for x in pauses), default=0.0),
                duration_ms=round((time.monotonic() - started) * 1000, 1),
                failed_step=outcome.failed_step,
                failed_script=outcome.failed.script if outcome.failed else None,
                failed_line=outcome.failed.line if outcome.failed else None,
                reason=outcome.reason,
                rolled_back=outcome.rolled_back,
                rollback_problems=list(outcome.rollback_problems),
                refused=outcome.refused,
                exit_code=outcome.exit_code,
                node_json=outcome.data,
            )
            module.fail_json(msg=failure_message(root, step, outcome, previous), **result)
    duration = round((time.monotonic() - started) * 1000, 1)
    try:
        now = dict(cli.versions())
    except NodeError as exc:
        module.fail_json(msg=f"{root}: the release commands succeeded but {exc}", **result)
    result.update(
        versions=now,
        release=running(now),
        pauses=pauses,
        max_pause_ms=max([*(float(str(x["ms"])) for x in pauses), *frozen], default=0.0),
        duration_ms=duration,
    )
    if module._diff:
        result["diff"] = {"before": show(before), "after": show(now)}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
