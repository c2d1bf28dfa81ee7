#!/usr/bin/env bash
# A single-node SLURM cluster on this machine, from Debian's packages, for the integration tests
# (tests/harness/slurm.rs) and for trying `linres slurm` by hand. Needs root.
#
#   scripts/slurm-local.sh install   install slurm-wlm and munge when missing
#   scripts/slurm-local.sh start     install when missing, then start munged, slurmctld and slurmd
#                                    and wait until the node takes jobs (idempotent)
#   scripts/slurm-local.sh stop      stop the three daemons started by `start` (by their pid files)
#   scripts/slurm-local.sh status    print whether the node takes jobs
#
# The configuration is written to /etc/slurm/slurm.conf (where Debian's slurm-wlm reads it) and
# overwrites an existing one only if this script wrote it (it carries the marker line below).
# State, spool, logs and pid files live under /var/lib/linres-slurm.
set -euo pipefail

CONF=/etc/slurm/slurm.conf
MARKER="# written by linres scripts/slurm-local.sh"
BASE=/var/lib/linres-slurm
MUNGE_RUN=/run/munge
HOST=$(hostname -s)

die() { echo "slurm-local: $*" >&2; exit 1; }

need_root() { [ "$(id -u)" -eq 0 ] || die "must run as root (it writes $CONF and starts daemons)"; }

install_packages() {
    need_root
    if dpkg -s slurm-wlm munge >/dev/null 2>&1; then
        return
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq slurm-wlm munge >/dev/null
}

# The pid in a pid file, if that process is alive.
live_pid() {
    local file=$1 pid
    [ -f "$file" ] || return 1
    pid=$(cat "$file" 2>/dev/null) || return 1
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

start_munge() {
    if live_pid "$MUNGE_RUN/munged.pid" >/dev/null; then
        return
    fi
    # munged refuses to start unless its run directory exists and belongs to munge.
    install -d -o munge -g munge -m 0755 "$MUNGE_RUN"
    install -d -o munge -g munge -m 0700 /var/lib/munge /var/log/munge
    [ -f /etc/munge/munge.key ] || runuser -u munge -- mungekey --create
    runuser -u munge -- /usr/sbin/munged
    munge -n | unmunge >/dev/null || die "munged started but a credential does not round-trip"
}

write_conf() {
    if [ -f "$CONF" ] && ! grep -qF "$MARKER" "$CONF"; then
        die "$CONF exists and was not written by this script; not overwriting it"
    fi
    local mem
    mem=$(awk '/MemTotal/ {print int($2 / 1024 * 0.9)}' /proc/meminfo)
    install -d -m 0755 "$BASE" "$BASE/state" "$BASE/spool" "$BASE/log" /etc/slurm
    cat >"$CONF" <<EOF
$MARKER
ClusterName=linres-local
SlurmctldHost=$HOST
SlurmUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
StateSaveLocation=$BASE/state
SlurmdSpoolDir=$BASE/spool
SlurmctldPidFile=$BASE/slurmctld.pid
SlurmdPidFile=$BASE/slurmd.pid
SlurmctldLogFile=$BASE/log/slurmctld.log
SlurmdLogFile=$BASE/log/slurmd.log
# Keep finished jobs visible to squeue/scontrol for a while (the tests read their exit codes).
MinJobAge=600
# A cancelled task gets SIGTERM, then SIGKILL after this many seconds.
KillWait=5
NodeName=$HOST CPUs=$(nproc) RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
EOF
}

node_ready() {
    local state
    state=$(sinfo -h -n "$HOST" -o '%t' 2>/dev/null | head -n1) || return 1
    case "$state" in idle | mix | alloc) return 0 ;; *) return 1 ;; esac
}

start() {
    need_root
    install_packages
    start_munge
    write_conf
    if ! live_pid "$BASE/slurmctld.pid" >/dev/null; then
        slurmctld -c
    fi
    if ! live_pid "$BASE/slurmd.pid" >/dev/null; then
        slurmd
    fi
    for _ in $(seq 1 60); do
        if node_ready; then
            echo "slurm-local: node $HOST takes jobs ($(nproc) CPUs, partition debug)"
            return
        fi
        sleep 0.5
    done
    sinfo >&2 || true
    tail -n 20 "$BASE/log/slurmctld.log" "$BASE/log/slurmd.log" >&2 || true
    die "the node did not become idle within 30 s"
}

stop_daemon() {
    local file=$1 pid
    pid=$(live_pid "$file") || return 0
    kill "$pid"
    for _ in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
}

stop() {
    need_root
    stop_daemon "$BASE/slurmd.pid"
    stop_daemon "$BASE/slurmctld.pid"
    stop_daemon "$MUNGE_RUN/munged.pid"
    echo "slurm-local: stopped"
}

case "${1:-}" in
    install) install_packages ;;
    start) start ;;
    stop) stop ;;
    status) if node_ready; then echo "slurm-local: node $HOST takes jobs"; else die "not running"; fi ;;
    *) echo "usage: $0 install|start|stop|status" >&2; exit 2 ;;
esac
