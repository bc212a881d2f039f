#!/usr/bin/env bash
# A throwaway one-node Slurm cluster for eosweep's CI: munged, slurmctld and
# slurmd from Debian's slurm-wlm and munge packages, everything (config,
# state, logs, munge key and socket) under one directory, on free loopback
# ports, run as root.
#
#   deploy/slurm/ci-cluster.sh start DIR   # prints the SLURM_CONF to export
#   deploy/slurm/ci-cluster.sh stop DIR    # stops what start started, by PID
#
# start exits non-zero, after stopping what it started, when a daemon does not
# come up (no root, no munge, a container without what slurmd needs); the
# log tail says why. The test deploy/slurm/cluster_test.go uses it.
set -euo pipefail

usage() { echo "usage: $0 start|stop DIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
cmd=$1
dir=$(mkdir -p "$2" && cd "$2" && pwd)

stop() {
	# Reverse order of start; each daemon by the PID start recorded.
	for d in slurmd slurmctld munged; do
		f=$dir/$d.pid
		[ -s "$f" ] || continue
		pid=$(cat "$f")
		if kill -0 "$pid" 2>/dev/null; then
			kill -TERM "$pid" 2>/dev/null || true
			for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
			kill -KILL "$pid" 2>/dev/null || true
		fi
		rm -f "$f"
	done
}

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

fail() {
	echo "ci-cluster: $*" >&2
	for log in munged slurmctld slurmd; do
		[ -f "$dir/$log.log" ] && { echo "--- $log.log" >&2; tail -n 20 "$dir/$log.log" >&2; }
	done
	stop
	exit 1
}

# wait_for WHAT CMD...: retries CMD for up to 30 s.
wait_for() {
	what=$1
	shift
	for _ in $(seq 300); do
		if "$@" >/dev/null 2>&1; then return 0; fi
		sleep 0.1
	done
	fail "$what did not come up within 30 s"
}

case $cmd in
stop)
	stop
	exit 0
	;;
start) ;;
*) usage ;;
esac

[ "$(id -u)" -eq 0 ] || { echo "ci-cluster: must run as root (SlurmUser=root)" >&2; exit 1; }
for b in munged slurmctld slurmd sbatch; do
	command -v "$b" >/dev/null || { echo "ci-cluster: $b not installed (apt-get install slurm-wlm munge)" >&2; exit 1; }
done
stop # leftovers of an earlier run in the same directory

mkdir -p "$dir/state" "$dir/spool" "$dir/munge"
chmod 700 "$dir/munge"
# munged refuses a key that others may read, and a socket directory others may write.
dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$dir/munge/munge.key"
munged --force -F --socket="$dir/munge/munge.socket" --key-file="$dir/munge/munge.key" \
	--pid-file="$dir/munge/munged.pid.unused" --log-file="$dir/munged.log" --seed-file="$dir/munge/munged.seed" \
	>>"$dir/munged.log" 2>&1 &
echo $! >"$dir/munged.pid"
wait_for munged test -S "$dir/munge/munge.socket"

node=$(hostname -s)
cpus=$(nproc)
mem=$(awk '/MemTotal/ { print int($2 / 1024 * 0.8) }' /proc/meminfo)
cat >"$dir/slurm.conf" <<EOF
ClusterName=eosweep-ci
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$(free_port)
SlurmdPort=$(free_port)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$dir/munge/munge.socket
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid.unused
SlurmdPidFile=$dir/slurmd.pid.unused
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
SchedulerType=sched/backfill
MpiDefault=none
SwitchType=switch/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
ReturnToService=2
KillWait=30
MinJobAge=10
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=ci Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$dir/slurm.conf

slurmctld -D -i -f "$SLURM_CONF" >>"$dir/slurmctld.log" 2>&1 &
echo $! >"$dir/slurmctld.pid"
wait_for slurmctld scontrol ping
slurmd -D -f "$SLURM_CONF" -N "$node" >>"$dir/slurmd.log" 2>&1 &
echo $! >"$dir/slurmd.pid"
wait_for "slurmd (node $node idle)" sh -c "sinfo -h -N -o %t | grep -qx idle"
echo "SLURM_CONF=$SLURM_CONF"
