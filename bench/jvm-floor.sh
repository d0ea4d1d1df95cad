#!/usr/bin/env bash
# The floor under the cold CLI: how long a JVM of this JDK takes to do each single thing a
# `corral run` must do, alone, against `java -version` (issue 2's yardstick: cold CLI <= 1.3x).
#   return     a main that returns at once
#   spawn      a main that starts /bin/true with ProcessBuilder and waits for it
#   downcall   a main that makes one FFM call into libc (getpid)
# each from a jar with its own AOT cache trained on that mode (-XX:AOTMode=on: a cache that could
# not be used would be an error, not a silent run without it), with the launcher's flags, and
# `./corral run -- true` itself. All take turns, ROUNDS rounds of RUNS/ROUNDS runs each, so that
# every median comes from the same stretches of time on a noisy host.
# "java -version" has the flags bench/spawn.sh gives it (serial GC, C1 only), the stricter yardstick;
# the JDK's defaults (G1) are shown too.
# Needs hyperfine and python3. Results also go to bench/results/jvm-floor-<date>.txt.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
. scripts/jdk.sh
for tool in hyperfine python3; do
  command -v "$tool" >/dev/null || { echo "jvm-floor.sh: needs $tool" >&2; exit 1; }
done
RUNS=${RUNS:-200}
ROUNDS=${ROUNDS:-10}
./corral run -- true # builds if needed, and makes the run AOT cache
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p bench/results
out=bench/results/jvm-floor-$(date +%Y%m%d-%H%M%S).txt

java=$JAVA_HOME/bin/java
# The flags ./corral gives every command (run's higher compile thresholds cannot matter to mains
# this short), and native access for the FFM call (corral's jar grants it in its manifest).
flags=(-XX:+UseSerialGC -XX:-UsePerfData -Xss512k -XX:TieredStopAtLevel=1 --enable-native-access=ALL-UNNAMED)
"$JAVA_HOME/bin/javac" -d "$work/classes" bench/JvmFloor.java
"$JAVA_HOME/bin/jar" --create --file "$work/floor.jar" -C "$work/classes" .
declare -A cmd=(
  [java -version]="$java -XX:+UseSerialGC -XX:-UsePerfData -XX:TieredStopAtLevel=1 -version"
  [java -version, no flags]="$java -version"
  [corral run -- true]="./corral run -- true"
)
modes=(return spawn downcall)
for mode in "${modes[@]}"; do
  "$java" "${flags[@]}" -Xlog:aot=off -XX:AOTCacheOutput="$work/$mode.aot" -cp "$work/floor.jar" JvmFloor "$mode" >/dev/null 2>&1 \
    || { echo "jvm-floor.sh: could not train the $mode cache" >&2; exit 1; }
  cmd[$mode]="$java ${flags[*]} -XX:AOTMode=on -XX:AOTCache=$work/$mode.aot -cp $work/floor.jar JvmFloor $mode"
done
order=("java -version" "java -version, no flags" "${modes[@]}" "corral run -- true")
for name in "${order[@]}"; do ${cmd[$name]} >/dev/null 2>&1 || { echo "jvm-floor.sh: failed: ${cmd[$name]}" >&2; exit 1; }; done
for round in $(seq "$ROUNDS"); do
  for i in "${!order[@]}"; do
    hyperfine -N -w 3 -r $((RUNS / ROUNDS)) --export-json "$work/$i-$round.json" "${cmd[${order[$i]}]}" >/dev/null 2>&1 \
      || { echo "jvm-floor.sh: hyperfine failed on: ${cmd[${order[$i]}]}" >&2; exit 1; }
  done
done

python3 - "$work" "${order[@]}" <<'PY' | tee "$out"
import glob, json, os, platform, statistics, sys
work, names = sys.argv[1], sys.argv[2:]
def times(i):
    return [t for f in glob.glob(f"{work}/{i}-*.json") for t in json.load(open(f))["results"][0]["times"]]
med = [statistics.median(times(i)) * 1000 for i in range(len(names))]
print(f"kernel {platform.release()}, {os.cpu_count()} cpus; medians of {len(times(0))} runs each, taking turns, ms")
for name, m in zip(names, med):
    print(f"  {name:24s} {m:8.2f}   {m / med[0]:5.2f}x java -version")
PY
