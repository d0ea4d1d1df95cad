#!/usr/bin/env bash
# Times `true` run inside a running jail, corral exec against nsenter, and prints medians and
# ratios (issue 6: corral exec through the warm library path <= 1.0x nsenter):
#   corral exec warm   the library, in a JVM that is already running (bench/WarmExec.java):
#                      every namespace, the jail's cgroups, root and cwd, its uid/gid,
#                      capabilities, no_new_privs and seccomp filter; /proc read, the jail
#                      opened and the plan made for each exec
#   ... prepared       the same, read, opened and planned once (JoinBuilder.prepare())
#   nsenter            util-linux nsenter --target PID --all -r -w true: every namespace, root
#                      and cwd; no cgroup, capabilities, no_new_privs or filter
#   corral exec cold   the CLI, a fresh JVM each time (./corral exec --pid PID -- true), 20 runs
# "Warm" means JIT-compiled: 1,000 runs come before the measured ones (with 100, C2 was still
# compiling the start path: exec's median measured 3.8-4.1 ms instead of 2.1-2.6 ms).
# Both join the program of `corral run -- sleep`, once in the default jail (as root it has a
# cgroup of its own, which corral exec enters and nsenter does not) and once with --no-cgroup
# (nothing to enter: the like-for-like comparison). corral exec warm and nsenter take turns, ten
# rounds each, so that both see the same stretches of this shared machine's load (measured one
# after the other, their ratio moved by a tenth between runs). Needs root, hyperfine and nsenter.
# Results also go to bench/results/exec-<date>.txt.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
. scripts/jdk.sh
for tool in hyperfine nsenter python3; do
  command -v "$tool" >/dev/null || { echo "exec.sh: needs $tool" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "exec.sh: run as root (nsenter into every namespace needs it)" >&2; exit 1; }
RUNS=${RUNS:-200}
ROUNDS=10
./corral run -- true # builds if needed, and creates the CDS archive
mkdir -p bench/results
out=bench/results/exec-$(date +%Y%m%d-%H%M%S).txt
tmp=$(mktemp -d)
JAR=corral-cli/target/corral.jar
JAVA="$JAVA_HOME/bin/java --enable-native-access=ALL-UNNAMED -XX:+UseSerialGC"
cli=
cleanup() { [ -n "$cli" ] && { kill "$cli" 2>/dev/null; wait "$cli" 2>/dev/null; }; rm -rf "$tmp"; }
trap cleanup EXIT

# corral's child is the executor's monitor, the monitor's child the jail's init, its child the program.
children() { cat /proc/"$1"/task/*/children 2>/dev/null | tr ' ' '\n' | grep . | head -1 || true; }
start_jail() {
  $JAVA -jar "$JAR" run "$@" -- sleep 100000 </dev/null &
  cli=$!
  program=
  for _ in $(seq 200); do
    monitor=$(children "$cli"); init=${monitor:+$(children "$monitor")}; program=${init:+$(children "$init")}
    [ -n "$program" ] && [ "$(cat /proc/"$program"/comm)" = sleep ] && return
    sleep 0.05
  done
  echo "exec.sh: the jail did not start" >&2; exit 1
}
stop_jail() { kill "$cli"; wait "$cli" 2>/dev/null || true; cli=; }

# $1: a name for the jail; the rest: its flags. Writes $tmp/$1.warm, .prepared and
# $1.nsenter-ROUND.json.
measure() {
  local name=$1; shift
  start_jail "$@"
  local round=0
  nsenter_round() {
    round=$((round + 1))
    hyperfine -N -w 3 -r $((RUNS / ROUNDS)) --export-json "$tmp/$name.nsenter-$round.json" \
      -n "nsenter" "nsenter --target $program --all -r -w true" >/dev/null
  }
  coproc WARM { $JAVA -cp "$JAR" bench/WarmExec.java "$program" 1000 "$RUNS" each "$ROUNDS"; }
  # (bash forgets WARM and WARM_PID once the coprocess has exited)
  local warm_pid=$WARM_PID warm_out=${WARM[0]} warm_in=${WARM[1]} line
  while IFS= read -r line <&"$warm_out"; do
    if [ "$line" = ROUND ]; then
      nsenter_round
      echo go >&"$warm_in"
    else
      echo "$line" >"$tmp/$name.warm"
    fi
  done
  wait "$warm_pid"
  nsenter_round # the tenth, after corral's last
  $JAVA -cp "$JAR" bench/WarmExec.java "$program" 1000 "$RUNS" prepared >"$tmp/$name.prepared"
  if [ "$name" = cgroup ]; then
    hyperfine -N -w 3 -r 20 --export-json "$tmp/cold.json" \
      -n "corral exec cold" "./corral exec --pid $program -- true" >/dev/null
  fi
  stop_jail
}
measure cgroup
measure nocgroup --no-cgroup

python3 - "$tmp" <<'PY' | tee "$out"
import json, sys, statistics, platform, os, glob
d = sys.argv[1]
def hf(f): return statistics.median(json.load(open(f"{d}/{f}"))["results"][0]["times"]) * 1000
def rounds(name):
    return statistics.median(t for f in glob.glob(f"{d}/{name}.nsenter-*.json")
                             for t in json.load(open(f))["results"][0]["times"]) * 1000
def first(f): return float(open(f"{d}/{f}").read().split()[0])
print(f"kernel {platform.release()}, {os.cpu_count()} cpus; medians, ms")
for name, label in [("cgroup", "jail with its own cgroup (default as root)"), ("nocgroup", "jail without a cgroup (--no-cgroup)")]:
    warm, prepared, ns = first(f"{name}.warm"), first(f"{name}.prepared"), rounds(name)
    print(f"{label}:")
    print(f"  corral exec warm      {warm:8.2f}   / nsenter = {warm / ns:.2f}   (target <= 1.00)")
    print(f"  ... prepared          {prepared:8.2f}   / nsenter = {prepared / ns:.2f}")
    print(f"  nsenter               {ns:8.2f}")
cold = hf("cold.json")
print(f"corral exec cold (./corral exec --pid, 20 runs) {cold:.1f}")
PY
