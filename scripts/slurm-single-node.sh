#!/usr/bin/env bash
# A single-node SLURM on this machine, for the sweep test (test/cli/sweep-slurm.test.ts) and for
# trying `evnn sweep --backend slurm` without a cluster. Run as root on Debian 12 with the packages
# installed (apt-get install slurmctld slurmd munge slurm-client):
#
#   scripts/slurm-single-node.sh start    writes /etc/slurm/slurm.conf for this machine, starts
#                                         munged, slurmctld and slurmd in the background and waits
#                                         until sinfo shows the node idle
#   scripts/slurm-single-node.sh status   the daemons' pids and sinfo (exit 0 when the node is up)
#   scripts/slurm-single-node.sh stop     cancels the jobs left in the queue and stops the daemons
#
# No systemd and no cgroups are assumed (containers have neither): the daemons are run directly,
# processes are tracked through /proc (proctrack/linuxproc), tasks are not confined (task/none),
# and there is no accounting database (accounting_storage/none: sacct has nothing to say, and
# evnn follows the jobs through squeue, which keeps finished ones for MinJobAge, and their logs).
# Environment: EVNN_SLURM_TIMEOUT (seconds to wait for the node, default 60).
set -euo pipefail

CONF_DIR=/etc/slurm
CONF=$CONF_DIR/slurm.conf
MARK='# written by evnn scripts/slurm-single-node.sh'
SPOOL=/var/spool/slurm
LOGS=/var/log/slurm
RUN=/run/slurm
MUNGE_RUN=/run/munge
MUNGE_KEY=/etc/munge/munge.key
TIMEOUT=${EVNN_SLURM_TIMEOUT:-60}

say() { printf 'slurm-single-node: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

host=$(hostname -s)

need_root() {
  [ "$(id -u)" = 0 ] || die "must run as root (it writes $CONF and starts the daemons)"
}

need_packages() {
  local missing=()
  for b in munged mungekey slurmctld slurmd sinfo sbatch squeue scancel; do
    command -v "$b" >/dev/null 2>&1 || [ -x "/usr/sbin/$b" ] || missing+=("$b")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    say "missing: ${missing[*]}"
    say "install them with: apt-get install -y slurmctld slurmd munge slurm-client"
    exit 2
  fi
}

pid_of() { # pid file -> pid of a live process, or nothing
  local f=$1 p
  [ -s "$f" ] || return 0
  p=$(tr -dc '0-9' <"$f")
  [ -n "$p" ] && kill -0 "$p" 2>/dev/null && echo "$p"
  return 0
}

write_conf() {
  if [ -e "$CONF" ] && ! grep -qF "$MARK" "$CONF"; then
    die "$CONF exists and was not written by this script; move it away first (this script is for a machine without SLURM)"
  fi
  local cpus mem_mb margin
  cpus=$(nproc)
  mem_mb=$(awk '/^MemTotal:/ { print int($2 / 1024) }' /proc/meminfo)
  # Leave the system some room: 10% (at least 256 MB, at most 2 GB).
  margin=$(( mem_mb / 10 )); [ "$margin" -lt 256 ] && margin=256; [ "$margin" -gt 2048 ] && margin=2048
  local real=$(( mem_mb - margin )); [ "$real" -lt 256 ] && real=256
  mkdir -p "$CONF_DIR" "$SPOOL/ctld" "$SPOOL/d" "$LOGS" "$RUN"
  cat >"$CONF.tmp" <<EOF
$MARK on $(date -u +%Y-%m-%dT%H:%M:%SZ)
# A single node that is its own controller: $host, $cpus CPUs, $real MB for jobs.
ClusterName=evnn
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
MpiDefault=none
SwitchType=switch/none
# No cgroups (containers): processes tracked through /proc, tasks not confined.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
# No accounting database (slurmdbd): sacct is unavailable.
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
StateSaveLocation=$SPOOL/ctld
SlurmdSpoolDir=$SPOOL/d
SlurmctldPidFile=$RUN/slurmctld.pid
SlurmdPidFile=$RUN/slurmd.pid
SlurmctldLogFile=$LOGS/slurmctld.log
SlurmdLogFile=$LOGS/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
# The node's hardware is what this file says (a container may show other figures to slurmd).
SlurmdParameters=config_overrides
ReturnToService=2
MailProg=/bin/true
KillWait=5
# Finished jobs stay visible to squeue for 10 minutes.
MinJobAge=600
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$real State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
  mv "$CONF.tmp" "$CONF"
  say "wrote $CONF ($host: $cpus CPUs, RealMemory=$real MB)"
}

start_munge() {
  if [ ! -s "$MUNGE_KEY" ]; then
    mkdir -p "$(dirname "$MUNGE_KEY")"
    if ! mungekey --create --keyfile="$MUNGE_KEY" 2>/dev/null; then
      dd if=/dev/urandom of="$MUNGE_KEY" bs=1 count=1024 status=none
    fi
    say "created $MUNGE_KEY"
  fi
  chown munge:munge "$MUNGE_KEY" "$(dirname "$MUNGE_KEY")"
  chmod 400 "$MUNGE_KEY"; chmod 700 "$(dirname "$MUNGE_KEY")"
  mkdir -p "$MUNGE_RUN" /var/lib/munge /var/log/munge
  chown munge:munge "$MUNGE_RUN" /var/lib/munge /var/log/munge
  chmod 755 "$MUNGE_RUN"
  if [ -z "$(pid_of "$MUNGE_RUN/munged.pid")" ]; then
    # munged runs as its own user (it refuses a key owned by someone else); --force: a stale
    # socket left by a killed munged is not an error.
    runuser -u munge -- /usr/sbin/munged --force
  fi
  local i
  for i in $(seq 1 50); do
    munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  tail -n 20 /var/log/munge/munged.log >&2 2>/dev/null || true
  die "munged does not answer (munge -n | unmunge fails); its log is above"
}

logs() {
  local f
  for f in "$LOGS/slurmctld.log" "$LOGS/slurmd.log" /var/log/munge/munged.log; do
    [ -f "$f" ] && { say "--- last lines of $f"; tail -n 25 "$f" >&2; }
  done
  return 0
}

node_state() { sinfo -h -N -n "$host" -o '%T' 2>/dev/null | head -n 1; }

start() {
  need_root
  need_packages
  write_conf
  start_munge
  if [ -z "$(pid_of "$RUN/slurmctld.pid")" ]; then
    # -c: start from a clean state (no jobs, no node states of an earlier configuration).
    slurmctld -c || { logs; die "slurmctld did not start; the logs are above"; }
  fi
  if [ -z "$(pid_of "$RUN/slurmd.pid")" ]; then
    slurmd -N "$host" || { logs; die "slurmd did not start; the logs are above"; }
  fi
  local waited=0 state=''
  while [ "$waited" -lt $(( TIMEOUT * 2 )) ]; do
    state=$(node_state)
    case "$state" in
      idle*|mixed*|allocated*) say "node $host is $state; partition debug is up"; sinfo >&2; return 0 ;;
      down*|drain*|fail*) scontrol update nodename="$host" state=resume >/dev/null 2>&1 || true ;;
    esac
    sleep 0.5; waited=$(( waited + 1 ))
  done
  say "the node did not come up within ${TIMEOUT} s (sinfo says: ${state:-nothing})"
  sinfo >&2 || true
  scontrol show node "$host" >&2 || true
  logs
  exit 1
}

stop_pid() { # name, pid file
  local p i
  p=$(pid_of "$2")
  [ -n "$p" ] || return 0
  kill -TERM "$p" 2>/dev/null || true
  for i in $(seq 1 50); do kill -0 "$p" 2>/dev/null || { say "stopped $1 ($p)"; return 0; }; sleep 0.1; done
  kill -KILL "$p" 2>/dev/null || true
  say "killed $1 ($p)"
}

stop() {
  need_root
  if [ -n "$(pid_of "$RUN/slurmctld.pid")" ]; then
    local jobs
    jobs=$(squeue -h -o '%A' 2>/dev/null | sort -u | tr '\n' ' ')
    if [ -n "${jobs// /}" ]; then
      # shellcheck disable=SC2086
      scancel $jobs 2>/dev/null || true
      say "cancelled jobs $jobs"
      sleep 1
    fi
  fi
  stop_pid slurmd "$RUN/slurmd.pid"
  stop_pid slurmctld "$RUN/slurmctld.pid"
  stop_pid munged "$MUNGE_RUN/munged.pid"
}

status() {
  local d f p up=0
  for d in "munged:$MUNGE_RUN/munged.pid" "slurmctld:$RUN/slurmctld.pid" "slurmd:$RUN/slurmd.pid"; do
    p=$(pid_of "${d#*:}")
    echo "${d%%:*}: ${p:-not running}"
  done
  f=$(node_state)
  echo "node $host: ${f:-unknown (no controller answers)}"
  case "$f" in idle*|mixed*|allocated*|completing*) up=1 ;; esac
  [ "$up" = 1 ] && sinfo
  [ "$up" = 1 ]
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 {start|stop|status}" >&2; exit 64 ;;
esac
