#!/usr/bin/env bash
# Start a one-node SLURM cluster on 127.0.0.1 for the tests marked `slurm` (as root, Debian).
#
#   ci/slurm-up.sh DIR      # installs the packages if needed, starts munged (unless one answers),
#                           # slurmctld and slurmd, waits for the node to be idle
#   export SLURM_CONF=DIR/slurm.conf
#   ci/slurm-down.sh DIR    # stops exactly the daemons this script started (pid files in DIR)
#
# Everything (configuration, state, spool, logs, pid files) lives in DIR; the daemons listen on
# 127.0.0.1 only (NoCtldInAddrAny, NoInAddrAny). The node offers every core of this machine.
set -euo pipefail

dir=${1:?usage: ci/slurm-up.sh DIR}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v sinfo >/dev/null \
        || ! command -v munged >/dev/null; then
    echo "slurm-up: installing slurmctld slurmd slurm-client munge" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq slurmctld slurmd slurm-client munge >/dev/null
fi

# munge: Debian writes /etc/munge/munge.key; it must belong to munge, mode 0400
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    if [ ! -s /etc/munge/munge.key ]; then
        dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
    fi
    chown munge:munge /etc/munge/munge.key
    chmod 0400 /etc/munge/munge.key
    install -d -o munge -g munge -m 0755 /run/munge
    rm -f /run/munge/munged.pid   # stale: no munged answers
    runuser -u munge -- /usr/sbin/munged
    for _ in $(seq 50); do [ -s /run/munge/munged.pid ] && break; sleep 0.1; done
    cp /run/munge/munged.pid "$dir/munged.pid"   # slurm-down stops it because we started it
    munge -n | unmunge >/dev/null
fi

host=$(hostname -s)
cpus=$(nproc)
memory=$(( $(free -m | awk '/^Mem:/ {print $4}') * 3 / 4 ))
mkdir -p "$dir/state" "$dir/spool"
cat > "$dir/slurm.conf" <<CONF
ClusterName=ci
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CommunicationParameters=NoCtldInAddrAny,NoInAddrAny
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
KillWait=5
MpiDefault=none
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/filetxt
JobCompLoc=$dir/jobcomp.txt
MailProg=/bin/true
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=ci Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$dir/slurm.conf

/usr/sbin/slurmctld -f "$SLURM_CONF"
/usr/sbin/slurmd -f "$SLURM_CONF" -N "$host"

for _ in $(seq 150); do
    state=$(sinfo -h -N -n "$host" -o %T 2>/dev/null || true)
    [ "$state" = idle ] && break
    sleep 0.2
done
if [ "$state" != idle ]; then
    echo "slurm-up: node $host is '${state:-unreachable}', not idle; logs in $dir" >&2
    exit 1
fi
echo "slurm-up: node $host idle ($cpus CPUs, ${memory} MB) on 127.0.0.1; SLURM_CONF=$SLURM_CONF" >&2
