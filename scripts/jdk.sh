# Sourced by ./corral and ./run-tests: sets JAVA_HOME to a JDK 25 or newer, even when the
# default `java` is older. Looks at $JAVA_HOME, then `java` on PATH, then /usr/lib/jvm.
# Shell builtins only where it can: every fork is a millisecond on each corral start.
# Sets `major` to the JDK's feature version (0 if unknown).
java_major() {
  local line
  major=0
  # The JDK's release file answers without starting a JVM (100 ms saved on every corral start).
  if [ -r "$1/release" ]; then
    while IFS= read -r line; do
      case $line in
        JAVA_VERSION=*) line=${line#JAVA_VERSION=\"}; major=${line%%[!0-9]*}; break ;;
      esac
    done < "$1/release"
  else
    major=$("$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p')
  fi
}
jdk_ok() {
  local major
  [ -x "$1/bin/javac" ] || return 1
  java_major "$1" 2>/dev/null
  [ "${major:-0}" -ge 25 ] 2>/dev/null
}
find_jdk() {
  found_jdk=
  if [ -n "${JAVA_HOME:-}" ] && jdk_ok "$JAVA_HOME"; then found_jdk=$JAVA_HOME; return 0; fi
  local java= c
  # PATH's java, found as the shell finds a command (hash: no subshell); then its JDK: the
  # directory above bin/ when that is a JDK (it has a release file), else the one under
  # /usr/lib/jvm that it is (-ef: the same file, as /usr/bin/java through /etc/alternatives is;
  # aliases that are symlinks skipped), else whatever readlink makes of it.
  if hash java 2>/dev/null; then java=${BASH_CMDS[java]}; fi
  if [ -n "$java" ]; then
    c=${java%/bin/java}
    if [ "$c" != "$java" ] && [ -r "$c/release" ] && jdk_ok "$c"; then found_jdk=$c; return 0; fi
    for c in /usr/lib/jvm/*; do
      if [ ! -L "$c" ] && [ "$java" -ef "$c/bin/java" ]; then
        if jdk_ok "$c"; then found_jdk=$c; return 0; fi
        java=
        break
      fi
    done
    if [ -n "$java" ]; then
      java=$(readlink -f "$java")
      c=${java%/bin/java}
      if [ "$c" != "$java" ] && jdk_ok "$c"; then found_jdk=$c; return 0; fi
    fi
  fi
  for c in /usr/lib/jvm/*25* /usr/lib/jvm/*2[6-9]* /usr/lib/jvm/*; do
    if [ -d "$c" ] && jdk_ok "$c"; then found_jdk=$c; return 0; fi
  done
  return 1
}
if ! find_jdk; then
  echo "corral: needs a JDK 25 or newer; none found in \$JAVA_HOME, on PATH or in /usr/lib/jvm." >&2
  echo "  On Debian: install one (e.g. Temurin 25) and/or set JAVA_HOME." >&2
  exit 125
fi
JAVA_HOME=$found_jdk
unset found_jdk
export JAVA_HOME
