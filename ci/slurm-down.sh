#!/usr/bin/env bash
# Stop what ci/slurm-up.sh DIR started: cancel the jobs left on that cluster, then stop slurmd,
# slurmctld and (if slurm-up started it) munged, each by its pid file in DIR. Safe to call twice,
# or after a slurm-up that failed half-way.
set -uo pipefail

dir=${1:?usage: ci/slurm-down.sh DIR}
[ -d "$dir" ] || exit 0
export SLURM_CONF=$dir/slurm.conf

pids=()
for name in slurmd slurmctld munged; do  # only the processes recorded in DIR, and only by that name
    pidfile=$dir/$name.pid
    [ -s "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$name" ] && pids+=("$pid")
done
if [ -s "$dir/slurmctld.pid" ] && [ -f "$SLURM_CONF" ]; then
    scancel --full --user "$(id -un)" 2>/dev/null
    for _ in $(seq 100); do
        [ -z "$(squeue -h -o %i 2>/dev/null)" ] && break
        sleep 0.2
    done
fi
# all three at once (each takes 1-2 s to shut down); SIGKILL whatever is left after 10 s
[ ${#pids[@]} -gt 0 ] && kill -TERM "${pids[@]}" 2>/dev/null
for _ in $(seq 100); do
    alive=()
    for pid in "${pids[@]}"; do [ -e "/proc/$pid" ] && alive+=("$pid"); done
    [ ${#alive[@]} -eq 0 ] && break
    sleep 0.1
done
[ ${#alive[@]} -gt 0 ] && kill -KILL "${alive[@]}" 2>/dev/null
rm -f "$dir/slurmd.pid" "$dir/slurmctld.pid" "$dir/munged.pid"
exit 0
