#!/usr/bin/env bash
# Issue 7's UID shifting, measured (as root: idmapping a disk and chowning to a range need it):
#  1. a jail on a shared base through an overlay with an idmapped lower layer, on a range of its
#     own, against a plain rootfs jail (target: within 1.5x), warm, with bench/WarmRootfs.java;
#  2. `corral rootfs shift` throughput in entries per second over a real tree (default /usr/include;
#     SRC=DIR to choose), three runs into fresh copies.
# Results also go to bench/results/idmap-<date>.txt. RUNS (default 200) warm runs per way.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
. scripts/jdk.sh
[ "$(id -u)" = 0 ] || { echo "idmap.sh: run as root (idmapped mounts of a disk, chown to a range)" >&2; exit 1; }
[ -x /bin/busybox ] || { echo "idmap.sh: needs /bin/busybox (apt-get install busybox-static)" >&2; exit 1; }
RUNS=${RUNS:-200}
SRC=${SRC:-/usr/include}
./corral run -- true # builds if needed
mkdir -p bench/results
out=bench/results/idmap-$(date +%Y%m%d-%H%M%S).txt
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

{
echo "kernel $(uname -r), $(nproc) cpus, uid $(id -u), $(date -u +%Y-%m-%dT%H:%MZ)"
echo "warm jails running /bin/true, ms: until started (median p25 p75), until ended (median p25 p75);"
echo "ways interleaved, $RUNS runs each after 100 warm-up:"
warm=$("$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -XX:+UseSerialGC -cp corral-cli/target/corral.jar \
  bench/WarmRootfs.java 100 "$RUNS" plain,plain-range,idmap-range,overlay-run,overlay-idmap-run,overlay-idmap-kept)
echo "$warm" | sed 's/^/  /'
echo "$warm" | awk '{m[$1]=$2; w[$1]=$5} END {
  printf "started: overlay-idmap-run  / plain       = %.2f  (target <= 1.50)\n", m["overlay-idmap-run"] / m["plain"];
  printf "started: overlay-idmap-kept / plain       = %.2f  (target <= 1.50)\n", m["overlay-idmap-kept"] / m["plain"];
  printf "started: overlay-idmap-run  / plain-range = %.2f  (on one range: what overlay + idmap add)\n", m["overlay-idmap-run"] / m["plain-range"];
  printf "started: idmap-range - plain-range        = %+.2f ms (what idmapping the rootfs adds)\n", m["idmap-range"] - m["plain-range"];
  printf "started: overlay-idmap-run - overlay-run  = %+.2f ms (what idmapping the lower layer adds)\n", m["overlay-idmap-run"] - m["overlay-run"];
  printf "ended:   overlay-idmap-run  / plain       = %.2f\n", w["overlay-idmap-run"] / w["plain"] }'

entries=$(find "$SRC" -xdev | wc -l)
size=$(du -sh "$SRC" | cut -f1)
echo "rootfs shift of $SRC ($entries entries, $size), --uid-base 0xB00000, three runs:"
for i in 1 2 3; do
  start=$(date +%s.%N)
  last=$(./corral rootfs shift "$SRC" "$work/copy" --uid-base $((0xB00000)) 2>&1 | tail -1)
  end=$(date +%s.%N)
  [ -d "$work/copy" ] && [ ! -e "$work/copy.corral-shift" ] || { echo "idmap.sh: the shift did not finish: $last" >&2; exit 1; }
  inside=$(echo "$last" | grep -o '[0-9]* entries/s$')
  awk -v s="$start" -v e="$end" -v n="$entries" -v i="$inside" \
    'BEGIN { printf "  run: %s measured by corral; %.2f s wall with the JVM start, %.0f entries/s\n", i, e - s, n / (e - s) }'
  rm -rf "$work/copy"
  sync
done
} | tee "$out"
