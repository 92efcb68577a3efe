# Shared by tools/test.sh and tools/demo.sh. Source it; do not run it.
# shellcheck shell=bash

DPCOPY_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# Debian packages the project needs to build and to run every test.
DPCOPY_PACKAGES=(
  g++ meson ninja-build pkg-config python3 help2man man-db
  clang libclang-rt-dev
  libdpdk-dev dpdk libpcap-dev libboost-program-options-dev catch2 libsodium-dev libssl-dev prometheus-cpp-dev
  nlohmann-json3-dev libjs-d3 debhelper dpkg-dev python3-jsonschema python3-scapy
  iproute2 iputils-ping nftables ethtool tcpdump conntrack curl apache2-utils wrk nginx-light redis-server redis-tools
  postgresql postgresql-contrib mariadb-server mariadb-client prometheus
  chromium
)

dpcopy_log() { printf '[%s] %s\n' "$(basename "$0")" "$*" >&2; }

# Re-executes the calling script under sudo when not root.
dpcopy_require_root() {
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
      dpcopy_log "needs root; re-running under sudo"
      exec sudo -E -- "$0" "$@"
    fi
    echo "$(basename "$0"): must run as root (and sudo is not installed)" >&2
    exit 2
  fi
}

# Installs whatever is missing from DPCOPY_PACKAGES; no network access when nothing is.
dpcopy_install_packages() {
  local missing=() p
  for p in "${DPCOPY_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  dpcopy_log "installing: ${missing[*]}"
  # Packaged servers (nginx, redis) must not start system services: tests start their own.
  local rc_created=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && rc_created=1
  fi
  export DEBIAN_FRONTEND=noninteractive
  local ok=0
  if apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then ok=1; fi
  [ $rc_created -eq 1 ] && rm -f /usr/sbin/policy-rc.d
  [ $ok -eq 1 ] || { echo "$(basename "$0"): could not install: ${missing[*]}" >&2; return 1; }
}

# Configures (once) and builds one build directory. $1 = dir, rest = meson options.
# DPCOPY_BUILD_TARGETS="a b": build only these ninja targets (default: everything).
# Prints the build's progress in steps of 10 % (ninja's [k/N] lines); the full output
# is in DIR.ninja.log.
dpcopy_build() {
  local dir=$1; shift
  if [ ! -f "$dir/build.ninja" ]; then
    meson setup "$dir" "$DPCOPY_ROOT" "$@" >"$dir.setup.log" 2>&1 || { cat "$dir.setup.log" >&2; return 1; }
  fi
  local targets=()
  [ -n "${DPCOPY_BUILD_TARGETS:-}" ] && read -r -a targets <<<"$DPCOPY_BUILD_TARGETS"
  ninja -C "$dir" "${targets[@]}" 2>&1 | tee "$dir.ninja.log" | awk -v dir="$dir" '
    match($0, /^\[[0-9]+\/[0-9]+\]/) {
      split(substr($0, 2, RLENGTH - 2), kn, "/")
      step = int(kn[1] * 10 / kn[2])
      if (kn[2] >= 10 && step > shown) { shown = step; printf "  %s: %d%% (%d of %d steps)\n", dir, step * 10, kn[1], kn[2]; fflush() }
    }'
  [ "${PIPESTATUS[0]}" -eq 0 ] || { tail -n 60 "$dir.ninja.log" >&2; return 1; }
}