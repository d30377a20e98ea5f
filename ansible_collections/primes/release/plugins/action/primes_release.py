"""Action plugin for primes_release: copy the package to the host if absent, then run the module."""

from __future__ import annotations

import os
import shlex

from ansible.errors import AnsibleActionFail, AnsibleError
from ansible.plugins.action import ActionBase
from ansible.utils.hashing import checksum

MODULE = "primes.release.primes_release"


class ActionModule(ActionBase):
    """Stages the release package through the task's connection (local, ssh, ...) and runs it.

    The package goes to <root>/releases/<file> on the host, where bin/<name> also looks a
    version up, unless a file with the same checksum is already there. In check mode it goes
    into the task's temporary directory instead, removed when the task ends.
    """

    TRANSFERS_FILES = True

    def run(self, tmp=None, task_vars=None):  # type: ignore[no-untyped-def]
        del tmp  # unused; the connection's shell keeps the temporary directory
        result = super().run(task_vars=task_vars)
        args = dict(self._task.args)
        package = args.get("package")
        owned_tmp = self._connection._shell.tmpdir is None
        try:
            if package and not args.get("remote_src"):
                args["package"], copied = self._stage(
                    str(package), str(args.get("root", "")), task_vars
                )
                args["remote_src"] = True
                result["package_copied"] = copied
            result.update(
                self._execute_module(module_name=MODULE, module_args=args, task_vars=task_vars)
            )
            if result.get("package_copied") and result.get("failed") and not result.get("changed"):
                self._remove_copied(str(args["package"]))
                result["package_copied"] = False
            if result.get("package_copied") and not self._task.check_mode:
                result["changed"] = True
        except AnsibleError as exc:
            result.update(failed=True, msg=str(exc))
        finally:
            if owned_tmp:
                self._remove_tmp_path(self._connection._shell.tmpdir)
        return result

    def _remove_copied(self, dest: str) -> None:
        """Remove the package this task copied: the node refused it and changed nothing."""
        removed = self._low_level_execute_command(f"rm -f {shlex.quote(dest)}")
        if removed.get("rc", 0) != 0:
            self._display.warning(f"could not remove {dest}: {removed.get('stderr', '')}")

    def _local(self, package: str) -> str:
        """The package on the controller: a relative path is relative to the directory
        ansible-playbook was started in (where the user typed it), then looked up as a
        file of the play or role (files/)."""
        typed = os.path.abspath(os.path.expanduser(package))
        if os.path.isfile(typed):
            return typed
        try:
            found: str = self._find_needle("files", package)
        except AnsibleError:
            where = "" if typed == package else f" (looked for {typed}, and in files/)"
            raise AnsibleActionFail(
                f"package {package} not found on the controller{where}"
            ) from None
        return found

    def _stage(self, package: str, root: str, task_vars: dict) -> tuple[str, bool]:  # type: ignore[type-arg]
        """The package's path on the host, and whether this call copied it there."""
        local = self._local(package)
        if not root:
            raise AnsibleActionFail("root is required")
        name = os.path.basename(local)
        dest = self._connection._shell.join_path(root, "releases", name)
        found = self._execute_remote_stat(dest, all_vars=task_vars, follow=True, checksum=True)
        if found["exists"] and found["checksum"] == checksum(local):
            return dest, False
        if self._task.check_mode:
            tmpdir = self._connection._shell.tmpdir or self._make_tmp_path()
            dest = self._connection._shell.join_path(tmpdir, name)
        self._transfer_file(local, dest)
        self._fixup_perms2([dest], execute=False)
        return dest, not self._task.check_mode
