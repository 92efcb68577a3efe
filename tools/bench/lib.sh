# shellcheck shell=bash
# Shared preamble of the namespace benchmarks (tools/bench/*.sh); sourced after they set
# $root (the checkout), not run. Sources the namespace rig (tests/e2e/lib/rig.sh) and sets
# REQS (the request counter of a capture).
# bench_preflight NAME BINARY PACKAGE...: must be root, BINARY built; installs the packages
# this benchmark needs that are missing (not in tools/lib/common.sh's list).
# load: the load average's three figures. keep_and_clean: the EXIT trap; KEEP=DIR keeps the
# captures, dpcopy outputs and reports for a post-mortem, then the rig is removed.
# shellcheck disable=SC2154,SC2034  # $root comes from the caller, REQS is for it
# shellcheck source=../../tests/e2e/lib/rig.sh
source "$root/tests/e2e/lib/rig.sh"
REQS="$root/tests/e2e/lib/requests_in_pcap.py"

bench_preflight() {
  local name=$1 binary=$2 p; shift 2
  if [ "$(id -u)" -ne 0 ]; then echo "$name: must run as root" >&2; exit 2; fi
  [ -x "$binary" ] || { echo "$name: $binary not built" >&2; exit 2; }
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  if [ ${#missing[@]} -gt 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null || exit 1
  fi
}
load() { cut -d' ' -f1-3 /proc/loadavg; }
keep_and_clean() { [ -n "${KEEP:-}" ] && { mkdir -p "$KEEP"; cp -r "$RIG_TMP"/. "$KEEP"/; }; rig_cleanup; }
