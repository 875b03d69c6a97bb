#!/usr/bin/env bash
# Stop what ci/slurm-up.sh DIR started: cancel the jobs left on that cluster, then stop slurmd,
# slurmctld and (if slurm-up started it) munged, each by its pid file in DIR. Safe to call twice,
# or after a slurm-up that failed half-way.
set -uo pipefail

dir=${1:?usage: ci/slurm-down.sh DIR}
[ -d "$dir" ] || exit 0
export SLURM_CONF=$dir/slurm.conf

stop() {  # stop PIDFILE NAME: SIGTERM the process named NAME recorded in PIDFILE, SIGKILL after 10 s
    local pidfile=$1 name=$2 pid
    [ -s "$pidfile" ] || return 0
    pid=$(cat "$pidfile")
    if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$name" ]; then
        kill -TERM "$pid" 2>/dev/null
        for _ in $(seq 100); do [ -e "/proc/$pid" ] || break; sleep 0.1; done
        [ -e "/proc/$pid" ] && kill -KILL "$pid" 2>/dev/null
    fi
    rm -f "$pidfile"
}

if [ -s "$dir/slurmctld.pid" ] && [ -f "$SLURM_CONF" ]; then
    scancel --full --user "$(id -un)" 2>/dev/null
    for _ in $(seq 100); do
        [ -z "$(squeue -h -o %i 2>/dev/null)" ] && break
        sleep 0.2
    done
fi
stop "$dir/slurmd.pid" slurmd
stop "$dir/slurmctld.pid" slurmctld
stop "$dir/munged.pid" munged
