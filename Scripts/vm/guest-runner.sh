# Runs inside the VM (chrooted into the host root), copied to /job/runner.sh
# by Scripts/vm/run. Executes /job/script with the saved arguments from the
# saved working directory; stdout/stderr/exit code land in /job.
export JOB=/job
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root
export XDG_CACHE_HOME=/tmp/.cache
export TMPDIR=/tmp
export LVS_TEST_VM=1
# Variables forwarded from the host (PATH, LANG, VM_PASS_ENV names, ...).
# shellcheck disable=SC1091
[ -f /job/env.sh ] && . /job/env.sh
# The system's tools first: a forwarded PATH may start with wrappers (pyenv shims are bash scripts that cost a
# second per python3 start under emulation) that the guest does not need.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH
export JOB=/job

args=()
if [ -s /job/args ]; then
    mapfile -d '' args < /job/args
fi
cwd=$(cat /job/cwd 2>/dev/null || echo /job)
# The guest's /tmp and /run are its own tmpfs, so a caller working under /tmp (a CI clone, say) is not visible
# through the host share: mount the caller's directory, shared read-only as tag "cwd", at the same path.
if [ ! -d "$cwd" ] || [ "$(stat -c %d "$cwd" 2>/dev/null)" = "$(stat -c %d /tmp)" ]; then
    mkdir -p "$cwd" 2>/dev/null && mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,ro cwd "$cwd" 2>>/job/stderr
fi
if ! cd "$cwd" 2>/dev/null; then
    echo "vm-run: warning: working directory $cwd does not exist in the guest; using /job" >> /job/stderr
    cd /job
fi
bash /job/script "${args[@]}" >> /job/stdout 2>> /job/stderr < /dev/null
rc=$?
echo "$rc" > /job/rc.tmp && mv /job/rc.tmp /job/rc
exit 0
