#!/usr/bin/env bash
# Times `true` run inside a running jail, corral exec against nsenter, and prints medians and the
# ratio (issue 6: corral exec through the warm library path <= 1.0x nsenter):
#   corral exec warm   the library, in a JVM that is already running (bench/WarmExec.java):
#                      every namespace, the jail's cgroups, root and cwd, its uid/gid,
#                      capabilities, no_new_privs and seccomp filter; /proc read, the jail
#                      opened and the plan made for each exec
#   ... prepared       the same, read, opened and planned once (JoinBuilder.prepare())
#   nsenter            util-linux nsenter --target PID --all -r -w true: every namespace, root
#                      and cwd; no cgroup, capabilities, no_new_privs or filter
#   corral exec cold   the CLI, a fresh JVM each time (corral exec --pid PID -- true)
# The jail is `corral run -- sleep` (the default jail, as root with a cgroup of its own); both
# join its program. Needs root, hyperfine and nsenter. Results also go to bench/results/exec-<date>.txt.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
. scripts/jdk.sh
for tool in hyperfine nsenter python3; do
  command -v "$tool" >/dev/null || { echo "exec.sh: needs $tool" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "exec.sh: run as root (nsenter into every namespace needs it)" >&2; exit 1; }
RUNS=${RUNS:-200}
./corral run -- true # builds if needed
mkdir -p bench/results
out=bench/results/exec-$(date +%Y%m%d-%H%M%S).txt
json=$(mktemp)
JAR=corral-cli/target/corral.jar
JAVA="$JAVA_HOME/bin/java --enable-native-access=ALL-UNNAMED -XX:+UseSerialGC"

$JAVA -jar "$JAR" run -- sleep 100000 </dev/null &
cli=$!
trap 'kill "$cli" 2>/dev/null; wait "$cli" 2>/dev/null; rm -f "$json"' EXIT
# corral's child is the executor's monitor, the monitor's child the jail's init, its child the program.
children() { cat /proc/"$1"/task/*/children 2>/dev/null | tr ' ' '\n' | grep . | head -1 || true; }
program=
for _ in $(seq 200); do
  monitor=$(children "$cli"); init=${monitor:+$(children "$monitor")}; program=${init:+$(children "$init")}
  [ -n "$program" ] && [ "$(cat /proc/"$program"/comm)" = sleep ] && break
  sleep 0.05
done
[ -n "$program" ] || { echo "exec.sh: the jail did not start" >&2; exit 1; }

warm=$($JAVA -cp "$JAR" bench/WarmExec.java "$program" 100 "$RUNS" each)
prepared=$($JAVA -cp "$JAR" bench/WarmExec.java "$program" 100 "$RUNS" prepared)
hyperfine -N -w 20 -r "$RUNS" --export-json "$json" \
  -n "nsenter" "nsenter --target $program --all -r -w true" \
  -n "corral exec cold" "$JAVA -XX:-UsePerfData -XX:TieredStopAtLevel=1 -jar $JAR exec --pid $program -- true" \
  >/dev/null

python3 - "$json" "$warm" "$prepared" <<'PY' | tee "$out"
import json, sys, statistics, platform, os
runs = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
med = {name: statistics.median(r["times"]) * 1000 for name, r in runs.items()}
med["corral exec warm"] = float(sys.argv[2].split()[0])
med["... prepared"] = float(sys.argv[3].split()[0])
print(f"kernel {platform.release()}, {os.cpu_count()} cpus; medians of {len(runs['nsenter']['times'])} runs, ms")
for name in ["corral exec warm", "... prepared", "nsenter", "corral exec cold"]:
    print(f"  {name:20s} {med[name]:8.2f}")
print(f"corral exec warm / nsenter = {med['corral exec warm'] / med['nsenter']:.2f}   (target <= 1.00)")
print(f"prepared / nsenter         = {med['... prepared'] / med['nsenter']:.2f}")
print(f"corral exec cold / nsenter = {med['corral exec cold'] / med['nsenter']:.2f}")
PY
