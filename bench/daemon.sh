#!/usr/bin/env bash
# The supervisor daemon at scale (issue 5): starts `corral daemon` on a private socket, state file
# and log directory, gives it N applications in one PUT (each `sh -c 'exec sleep 100000'` in the
# default jail, restart "always"), and measures (bench/DaemonBench.java):
#   daemon RSS, and memory per app outside the jail: (daemon RSS growth + the corral-monitor
#     processes, by RSS and by PSS) / N                     targets: <= 150 MB, <= 1 MB per app
#   GET /status p50/p99 over 1000 sequential requests       target: p99 <= 10 ms
#   time from the one PUT to all N running
#   crash -> running again: SIGKILL to the app (the child of the jail's init) in apps that have run
#     past the backoff's 10 s, until the status shows it running with a new pid; followed once
#     through /status/applications/NAME and once through the whole /status     target: <= 50 ms
# then removes every app with one PUT, stops the daemon with SIGTERM and checks that none of its
# processes (corral-monitor, corral-init, the apps) and none of its cgroups is left.
# Usage: [N=1000] [RESPAWNS=20] bench/daemon.sh    (or bench/daemon.sh N). Run as root: as another
# user the jails get no cgroups. DAEMON_JVM_OPTS="..." adds JVM options to the daemon only (through
# JAVA_TOOL_OPTIONS), to try heap settings. FAVORDYNMODS=1 (root, a cgroup2 mount needed) remounts
# the host's cgroup2 with favordynmods for the run and puts its options back after: on cgroup v1 a
# jail's move into its cgroups then no longer waits for an RCU grace period (see `corral doctor`,
# "Joining cgroups"). Results also go to bench/results/daemon-<date>.txt.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
. scripts/jdk.sh
N=${1:-${N:-1000}}
RESPAWNS=${RESPAWNS:-20}
[ -z "${DAEMON_JVM_OPTS:-}" ] || echo "daemon.sh: the daemon's JVM also gets: $DAEMON_JVM_OPTS" >&2
[ "$(id -u)" = 0 ] || echo "daemon.sh: not root: the jails run without cgroups of their own" >&2

./corral --version >/dev/null # builds if needed

cgroup2=$(findmnt -n -t cgroup2 -o TARGET | head -n 1 || true)
favor_restore=""
if [ "${FAVORDYNMODS:-0}" = 1 ]; then
  [ -n "$cgroup2" ] || { echo "daemon.sh: FAVORDYNMODS=1 needs a cgroup2 mount" >&2; exit 1; }
  if ! findmnt -n -o OPTIONS "$cgroup2" | tr , '\n' | grep -qx favordynmods; then
    favor_restore=$(findmnt -n -o OPTIONS "$cgroup2")
    mount -o remount,favordynmods "$cgroup2"
  fi
fi
restore_favor() {
  # --options-mode ignore: exactly the options it had, not those merged with the current ones
  [ -z "$favor_restore" ] || mount --options-mode ignore -o "remount,$favor_restore" "$cgroup2"
}
trap restore_favor EXIT # until the daemon's cleanup, which ends with it, takes over
favordynmods=$(findmnt -n -t cgroup,cgroup2 -o TARGET,OPTIONS | awk '$2 ~ /(^|,)favordynmods(,|$)/ {print $1; exit}')
echo "daemon.sh: cgroup favordynmods: ${favordynmods:-off}" >&2
mkdir -p bench/results
out=bench/results/daemon-$(date +%Y%m%d-%H%M%S).txt
tmp=$(mktemp -d /tmp/corral-daemon-bench.XXXXXX)

# Each app holds a few descriptors in the daemon (the monitor's control and event pipes, the
# app's stdout and stderr, its log file). The JVM raises its own soft limit to the hard one
# (-XX:+MaxFDLimit, on by default on Linux); do the same here so the shell's limit is not the
# reason for a failure either way.
ulimit -n "$(ulimit -Hn)"

env ${DAEMON_JVM_OPTS:+"JAVA_TOOL_OPTIONS=$DAEMON_JVM_OPTS"} \
  ./corral daemon --socket "$tmp/control.sock" --state "$tmp/state.json" --logs "$tmp/logs" >"$tmp/daemon.err" 2>&1 &
daemon=$! # ./corral execs the JVM: this is the daemon's pid

# Every process below the daemon, as "pid:starttime" (a pid alone could be reused).
descendants() {
  local frontier=("$1") next pid child
  while [ ${#frontier[@]} -gt 0 ]; do
    next=()
    for pid in "${frontier[@]}"; do
      for child in $(cat /proc/"$pid"/task/*/children 2>/dev/null); do
        echo "$child:$(starttime "$child")"
        next+=("$child")
      done
    done
    frontier=("${next[@]}")
  done
}
starttime() { sed 's/.*) //' /proc/"$1"/stat 2>/dev/null | cut -d' ' -f20; }

cleanup() {
  local rc=$?
  set +e
  local before=""
  if kill -0 "$daemon" 2>/dev/null; then
    before=$(descendants "$daemon")
  fi
  # With the jails' processes the benchmark saw running (all N apps, before it removed them).
  [ -f "$tmp/seen" ] && before+=" $(cat "$tmp/seen")"
  if kill -0 "$daemon" 2>/dev/null; then
    kill -TERM "$daemon"
    for _ in $(seq 600); do kill -0 "$daemon" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$daemon" 2>/dev/null; then
      echo "daemon.sh: the daemon did not stop within 60 s of SIGTERM; killing it" >&2
      kill -KILL "$daemon"
    fi
  fi
  wait "$daemon" 2>/dev/null
  # The monitors remove the cgroups as the jails end; give the last ones a moment. Other corral
  # processes on the machine (someone else's tests) are not this daemon's: only its own
  # descendants and its own cgroups (corral-<daemon pid>-N) are looked for.
  local left="" cgroups=0 entry
  for _ in $(seq 50); do
    left=""
    for entry in $before; do
      [ -e /proc/"${entry%%:*}" ] && [ "$(starttime "${entry%%:*}")" = "${entry#*:}" ] && left+="${entry%%:*} "
    done
    cgroups=$(find /sys/fs/cgroup -maxdepth 4 -name "corral-$daemon-*" 2>/dev/null | wc -l)
    [ -z "$left" ] && [ "$cgroups" = 0 ] && break
    sleep 0.1
  done
  {
    if [ -z "$left" ] && [ "$cgroups" = 0 ]; then
      echo "cleanup: daemon stopped by SIGTERM; none of the $(echo $before | wc -w) jail processes seen is left, no corral-$daemon-* cgroup left"
    else
      echo "cleanup: LEFT BEHIND: processes [$left], $cgroups cgroups corral-$daemon-*"
      [ -n "$left" ] && ps -o pid,ppid,comm,args -p "$(echo $left | tr ' ' ,)"
      rc=1
    fi
  } | { if [ -f "$out" ]; then tee -a "$out"; else cat; fi; }
  if [ "$rc" != 0 ]; then
    echo "daemon.sh: failed; the daemon said:" >&2
    tail -n 40 "$tmp/daemon.err" >&2
  fi
  rm -rf "$tmp"
  restore_favor
  exit "$rc"
}
trap cleanup EXIT

for _ in $(seq 300); do
  [ -S "$tmp/control.sock" ] && break
  kill -0 "$daemon" 2>/dev/null || { echo "daemon.sh: the daemon exited" >&2; exit 1; }
  sleep 0.1
done
[ -S "$tmp/control.sock" ] || { echo "daemon.sh: no control socket after 30 s" >&2; exit 1; }

DAEMON_JVM_OPTS=${DAEMON_JVM_OPTS:-} "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -XX:+UseSerialGC \
  -cp corral-cli/target/corral.jar bench/DaemonBench.java "$tmp/control.sock" "$daemon" "$N" "$RESPAWNS" "$tmp/seen" >"$tmp/table"
tee "$out" <"$tmp/table"
echo "cgroup favordynmods: ${favordynmods:-off} (FAVORDYNMODS=${FAVORDYNMODS:-0})" | tee -a "$out"
