#!/usr/bin/env bash
# tools/bench/idle_cpu.sh [BUILD_DIR] — the CPU an idle dpcopy and an idle dpintercept take
# (the idle policy, docs/operations.md): each runs DURATION seconds (default 10) on a namespace rig
# with no traffic after a 3 s start, then gets SIGINT; CPU seconds (user + system) over
# those DURATION seconds from /proc/PID/stat, and idle_sleeps from its report. Cases: dpintercept; dpcopy live (-l 0); each
# with its default --idle-sleep and with --busy-poll (skipped for a binary without it);
# MODES="default busy 100 1000" adds --idle-sleep 100 and 1000.
# BUILD_DIR/apps/copy/dpcopy and BUILD_DIR/apps/intercept/dpintercept, or DPCOPY= and
# DPINTERCEPT= (e.g. main's build, to compare).
#
# Rig (namespaces made here, removed at exit; tests/e2e/lib/rig.sh):
#   copy:rx0 ── onl:eth0   dpcopy's mirror port (net_af_packet0), nothing sent on it
#   copy:tx0 ── tgt:dp0    dpcopy's TX port (net_af_packet1)
#   asst:dp0 ── tgt:as0    dpintercept's port (net_af_packet0)
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
DPCOPY=$(realpath "${DPCOPY:-$build/apps/copy/dpcopy}")
DPINTERCEPT=$(realpath "${DPINTERCEPT:-$build/apps/intercept/dpintercept}")
SECONDS_RUN=${DURATION:-10}

# shellcheck source=lib.sh
source "$root/tools/bench/lib.sh"
bench_preflight idle_cpu.sh "$DPCOPY" iproute2
[ -x "$DPINTERCEPT" ] || { echo "idle_cpu.sh: $DPINTERCEPT not built" >&2; exit 2; }

rig_init idl
trap keep_and_clean EXIT
for r in copy onl tgt asst; do rig_add_ns $r || exit 1; done
rig_link copy rx0 onl eth0 && rig_link copy tx0 tgt dp0 && rig_link asst dp0 tgt as0 || exit 1
rig_addr tgt dp0 198.18.1.2/24
rig_addr tgt as0 198.18.2.2/24

pid_cpu() { awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / hz }' "/proc/$1/stat"; }
# measure NAME ROLE REPORT CMD...: runs CMD in ROLE's namespace for SECONDS_RUN, prints a row
run_no=0
measure() {
  local name=$1 role=$2 report=$3; shift 3
  run_no=$((run_no + 1))
  rig_bg "$role" "$@" >"$RIG_TMP/$run_no.out" 2>&1
  local pid=$RIG_LAST_PID
  sleep 3  # EAL start-up and port setup: not idle time
  if ! kill -0 "$pid" 2>/dev/null; then echo "$name: exited early"; tail -3 "$RIG_TMP/$run_no.out"; return; fi
  local cpu0; cpu0=$(pid_cpu "$pid")
  sleep "$SECONDS_RUN"
  local cpu; cpu=$(awk -v a="$cpu0" -v b="$(pid_cpu "$pid")" 'BEGIN { printf "%.2f", b - a }')
  kill -INT "$pid"; wait "$pid"
  local sleeps; sleeps=$(sed -nE 's/.*"idle_sleeps": ([0-9]+).*/\1/p' "$report" | head -1)
  printf '%-40s cpu %6.2f s over %s s (%5.1f %% of a core)  idle_sleeps %s  load %s\n' "$name" "$cpu" "$SECONDS_RUN" \
    "$(awk -v c="$cpu" -v t="$SECONDS_RUN" 'BEGIN { print 100 * c / t }')" "${sleeps:-n/a}" "$(load)"
}

echo "idle CPU, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, load $(load)"
echo "  dpcopy $DPCOPY"
echo "  dpintercept $DPINTERCEPT"
for mode in ${MODES:-default busy}; do
  extra=()
  case $mode in
    default) ;;
    busy)
      "$DPINTERCEPT" -- --help 2>&1 | grep -q -- --busy-poll || { echo "(no --busy-poll in these binaries)"; continue; }
      extra=(--busy-poll) ;;
    *) extra=(--idle-sleep "$mode") ;;
  esac
  prefix="idl$$_i$mode"
  measure "dpintercept ($mode)" asst "$RIG_TMP/i.$mode.json" "$DPINTERCEPT" --no-huge -m 256 --no-pci -l 0 \
    --file-prefix "$prefix" --log-level 'lib.*:warning' --vdev net_af_packet0,iface=dp0 -- \
    --ip 198.18.2.7/24 --stats-interval 0 --report "$RIG_TMP/i.$mode.json" "${extra[@]}"
  rm -rf "/var/run/dpdk/$prefix"
  prefix="idl$$_c$mode"
  measure "dpcopy live -l 0 ($mode)" copy "$RIG_TMP/c.$mode.json" "$DPCOPY" --no-huge -m 512 --no-pci -l 0 \
    --file-prefix "$prefix" --log-level 'lib.*:warning' --vdev net_af_packet0,iface=rx0 --vdev net_af_packet1,iface=tx0 -- \
    -x 80-198.18.1.2:80 --ip 198.18.1.9/24 --rx-port 0 --tx-port 1 --stats-interval 0 \
    --report "$RIG_TMP/c.$mode.json" "${extra[@]}"
  rm -rf "/var/run/dpdk/$prefix"
done
