#!/usr/bin/env bash
# A jail on a shared base with an overlay vs a jail on the plain rootfs (issue 7: starts within
# 1.5x), warm (bench/WarmRootfs.java: plain, a layer per run, a layer kept by name; interleaved;
# until the program is exec'd, and until it has exited and the jail is torn down), and cold
# through the CLI (hyperfine: ./corral run --rootfs B [--rootfs-overlay] -- /bin/true).
# Needs /bin/busybox (busybox-static) and hyperfine. Results also go to bench/results/rootfs-<date>.txt.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
. scripts/jdk.sh
for tool in hyperfine python3; do
  command -v "$tool" >/dev/null || { echo "rootfs.sh: needs $tool" >&2; exit 1; }
done
[ -x /bin/busybox ] || { echo "rootfs.sh: needs /bin/busybox (apt-get install busybox-static)" >&2; exit 1; }
RUNS=${RUNS:-200}
./corral run -- true # builds if needed
mkdir -p bench/results
out=bench/results/rootfs-$(date +%Y%m%d-%H%M%S).txt
work=$(mktemp -d)
json=$work/cold.json
trap 'rm -rf "$work"' EXIT

warm=$("$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -XX:+UseSerialGC \
  -cp corral-cli/target/corral.jar bench/WarmRootfs.java 100 "$RUNS")

base=$work/base
mkdir -p "$base/bin" "$base/etc" "$base/proc" "$base/dev" "$base/tmp"
cp /bin/busybox "$base/bin/"
ln -s busybox "$base/bin/true"
chmod 755 "$work"
export XDG_STATE_HOME=$work/state # a non-root caller's layers; root's go to /var/lib/corral/layers
hyperfine -N -w 10 -r "$((RUNS / 4))" --export-json "$json" \
  -n "cold plain" "./corral run --rootfs $base -- /bin/true" \
  -n "cold overlay-run" "./corral run --rootfs $base --rootfs-overlay -- /bin/true" \
  >/dev/null

python3 - "$json" "$warm" <<'PY' | tee "$out"
import json, sys, statistics, platform, os
med = {r["command"]: statistics.median(r["times"]) * 1000 for r in json.load(open(sys.argv[1]))["results"]}
start, whole = {}, {}
for line in sys.argv[2].splitlines():
    f = line.split()
    start[f[0]], whole[f[0]] = float(f[1]), float(f[4])
print(f"kernel {platform.release()}, {os.cpu_count()} cpus, uid {os.getuid()}, load {os.getloadavg()[0]:.1f}; medians, ms")
print(f"  {'warm':20s} {'started':>8s} {'exited':>8s}")
for name in ["plain", "overlay-run", "overlay-kept"]:
    print(f"  {name:20s} {start[name]:8.2f} {whole[name]:8.2f}")
for name in ["cold plain", "cold overlay-run"]:
    print(f"  {name:20s} {'':8s} {med[name]:8.2f}")
for name in ["overlay-run", "overlay-kept"]:
    print(f"warm {name} / plain: started {start[name] / start['plain']:.2f} (target <= 1.50), exited {whole[name] / whole['plain']:.2f}")
print(f"cold overlay-run / plain  = {med['cold overlay-run'] / med['cold plain']:.2f}")
PY
