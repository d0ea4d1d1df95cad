# Sourced by ./corral and ./run-tests: sets JAVA_HOME to a JDK 25 or newer, even when the
# default `java` is older. Looks at $JAVA_HOME, then `java` on PATH, then /usr/lib/jvm.
java_major() {
  # The JDK's release file answers without starting a JVM (100 ms saved on every corral start).
  if [ -r "$1/release" ]; then
    sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$1/release"
  else
    "$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p'
  fi
}
find_jdk() {
  local candidates=()
  [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME")
  if command -v java >/dev/null 2>&1; then
    candidates+=("$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")")
  fi
  for d in /usr/lib/jvm/*25* /usr/lib/jvm/*2[6-9]* /usr/lib/jvm/*; do [ -d "$d" ] && candidates+=("$d"); done
  local c
  for c in "${candidates[@]}"; do
    if [ -x "$c/bin/javac" ] && [ "$(java_major "$c" 2>/dev/null || echo 0)" -ge 25 ] 2>/dev/null; then
      echo "$c"; return 0
    fi
  done
  return 1
}
if ! JAVA_HOME=$(find_jdk); then
  echo "corral: needs a JDK 25 or newer; none found in \$JAVA_HOME, on PATH or in /usr/lib/jvm." >&2
  echo "  On Debian: install one (e.g. Temurin 25) and/or set JAVA_HOME." >&2
  exit 125
fi
export JAVA_HOME
