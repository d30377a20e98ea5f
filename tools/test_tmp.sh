#!/bin/sh
# Prints a fresh, empty directory in RAM for one test suite's files (`make test` points
# pytest's --basetemp and TMPDIR into it), or nothing where there is none that can run
# programs (no /dev/shm, not writable, mounted noexec) or has less than 4 GiB free (a suite
# wrote 1.4 GiB in one run; a container's /dev/shm is often 64 MiB): the suite then uses the
# default.
#
# Why: the suite creates hundreds of thousands of files (release trees, unpacked packages,
# builds, bytecode). On a tmpfs a file costs about 15 us to create; on the ext4 disk of the
# CI machines about 200 us, which made a tenth of `make test`'s wall time.
#
# Usage: tools/test_tmp.sh NAME   (one directory per suite and checkout; the name is short:
# Unix socket paths under it must stay within 107 bytes)
set -eu
name=${1:?usage: tools/test_tmp.sh NAME}
ram=/dev/shm
[ -d "$ram" ] && [ -w "$ram" ] || exit 0
free_kib=$(df -Pk "$ram" 2>/dev/null | awk 'NR == 2 { print $4 }')
[ "${free_kib:-0}" -ge 4194304 ] 2>/dev/null || exit 0
key=$(printf '%s %s' "$(id -u)" "$(pwd -P)" | cksum | cut -d' ' -f1)
dir=$ram/pt$key/$name
rm -rf "$dir"
mkdir -p "$dir/t" 2>/dev/null || exit 0
probe=$dir/t/probe
if printf '#!/bin/sh\nexit 0\n' > "$probe" && chmod +x "$probe" && "$probe" 2>/dev/null; then
    rm -f "$probe"
    echo "$dir"
else
    rm -rf "$dir"
    rmdir "$ram/pt$key" 2>/dev/null || :
fi
