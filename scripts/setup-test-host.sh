#!/usr/bin/env bash
# Installs what corral's tests use on a Debian host (root only), and nothing that is there already:
#   musl-tools      a ~90 KB static executor (gcc -static is the fallback: ~740 KB)
#   uidmap          newuidmap/newgidmap, for subordinate id ranges of a normal user
#   busybox-static  the tests' minimal root filesystems
#   util-linux      setpriv, to run tests as a normal user
# In CI (CI=true) it also gives the test user `nobody` a subordinate id range, so the
# newuidmap path is tested; on a developer's machine that test is skipped instead.
set -euo pipefail
need=()
command -v musl-gcc >/dev/null || need+=(musl-tools)
command -v newuidmap >/dev/null || need+=(uidmap)
[ -x /bin/busybox ] || [ -x /usr/bin/busybox ] || need+=(busybox-static)
command -v setpriv >/dev/null || need+=(util-linux)
if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null && apt-get install -y -qq "${need[@]}" >/dev/null \
    || echo "setup: could not install ${need[*]}; tests that need them will be skipped or fail" >&2
fi
if [ "${CI:-}" = true ]; then
  for f in /etc/subuid /etc/subgid; do
    grep -q '^nobody:' "$f" 2>/dev/null || echo "nobody:300000:65536" >>"$f"
  done
fi
