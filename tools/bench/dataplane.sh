#!/usr/bin/env bash
# tools/bench/dataplane.sh [BUILD_DIR] — the data-plane benchmark of issue #6, side by side
# in one run (figures in docs/PERFORMANCE.md):
#   1. bench_dataplane: dpcopy's live data path (io::run_dataplane) on net_ring ports with a
#      simulated mirror + target peer, 1 worker: 64- and 512-byte frames x 1k, 100k, 1M
#      sessions; packets/s per worker CPU second (the peer's cost is printed apart);
#   2. the cost per extra replica: -n 1, 10, 100 (1k sessions, 64-byte frames);
#   3. 1 vs 2 workers (100k sessions, 64-byte frames);
#   4. dpdk-testpmd on the same kind of ports: io forwarding on net_ring (a loopback ring,
#      as bench_dataplane's ports), io forwarding on net_null (the PMD allocates and frees
#      mbufs, as a NIC driver does), csum forwarding on net_ring (parses every frame and
#      recomputes its checksums in software); cycles/packet from --record-core-cycles.
# Every line carries the load average (/proc/loadavg) at its end. RUNS=N (default 3):
# best of N for each configuration; SECONDS_PER_RUN (default 3).
# Needs root (EAL's /var/run/dpdk); each process gets its own --file-prefix, removed after.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
bench="$build/tools/bench/bench_dataplane"
RUNS=${RUNS:-3}
SECS=${SECONDS_PER_RUN:-3}
# Only this benchmark needs dpdk-testpmd (Debian ships it in dpdk-dev, not in dpdk).
BENCH_PACKAGES=(dpdk-dev)

if [ "$(id -u)" -ne 0 ]; then echo "dataplane.sh: must run as root" >&2; exit 2; fi
[ -x "$bench" ] || { echo "dataplane.sh: $bench not built (meson setup ... -Dbench=true; ninja)" >&2; exit 2; }
if ! command -v dpdk-testpmd >/dev/null 2>&1; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${BENCH_PACKAGES[@]}" >/dev/null || exit 1
fi

EAL=(--no-huge -m 1024 --no-pci --no-telemetry --log-level 'lib.eal:warning')
tmp=$(mktemp -d /tmp/dpc-bench-dp.XXXXXX)
prefixes=()
cleanup() {
  local p
  for p in "${prefixes[@]}"; do rm -rf "/var/run/dpdk/$p"; done
  rm -rf "$tmp"
}
trap cleanup EXIT
n_run=0
load() { cut -d' ' -f1-3 /proc/loadavg; }

# dp NAME LCORES ARGS...: best of RUNS bench_dataplane runs (highest rx per worker CPU second)
dp() {
  local name=$1 lcores=$2; shift 2
  local i best="" bestv=0 line v
  for i in $(seq "$RUNS"); do
    n_run=$((n_run + 1))
    local pfx="dpcbd$$_$n_run"; prefixes+=("$pfx")
    # shellcheck disable=SC2086
    timeout 600 "$bench" "${EAL[@]}" --file-prefix "$pfx" $lcores -- --seconds "$SECS" "$@" \
      --log "$tmp/$name.$i.log" >"$tmp/$name.$i.out" 2>&1
    rm -rf "/var/run/dpdk/$pfx"
    line=$(grep '^RESULT' "$tmp/$name.$i.out")
    if [ -z "$line" ]; then
      echo "  $name run $i: no result: $(grep -E 'FAILED|status' "$tmp/$name.$i.out" | tr '\n' ' ')"
      continue
    fi
    echo "  $name run $i: $(echo "$line" | cut -d' ' -f2-)"
    v=$(echo "$line" | sed -nE 's/.*rx_pps_per_worker_cpu=([0-9]+).*/\1/p')
    if [ "${v:-0}" -gt "$bestv" ]; then bestv=$v; best=$line; fi
  done
  if [ -n "$best" ]; then echo "BEST $name ${best#RESULT }"; else echo "BEST $name none"; fi
}

# tp NAME MODE SIZE VDEV...: dpdk-testpmd, one forwarding lcore, best of RUNS (fewest cycles/packet)
tp() {
  local name=$1 mode=$2 size=$3; shift 3
  local i best="" bestc=999999 c hz out vdevs=() v nports=0
  for v in "$@"; do vdevs+=(--vdev "$v"); nports=$((nports + 1)); done
  for i in $(seq "$RUNS"); do
    n_run=$((n_run + 1))
    local pfx="dpcbd$$_$n_run"; prefixes+=("$pfx")
    out="$tmp/$name.$i.testpmd"
    { echo "start tx_first 16"; sleep "$SECS"; echo "stop"; sleep 0.5; echo "quit"; } |
      timeout 120 dpdk-testpmd "${EAL[@]}" --file-prefix "$pfx" -l 0,1 "${vdevs[@]}" -- -i \
        --forward-mode="$mode" --nb-cores=1 --record-core-cycles --txpkts="$size" --nb-ports="$nports" >"$out" 2>&1
    rm -rf "/var/run/dpdk/$pfx"
    c=$(sed -nE 's/.*CPU cycles\/packet=([0-9.]+).*/\1/p' "$out" | tail -1)
    hz=$(sed -nE 's/.* at ([0-9]+) MHz Clock.*/\1/p' "$out" | tail -1)
    if [ -z "$c" ]; then echo "  $name run $i: no result ($(tail -2 "$out" | tr '\n' ' '))"; continue; fi
    echo "  $name run $i: cycles/packet=$c at ${hz} MHz load=\"$(load)\""
    if awk -v a="$c" -v b="$bestc" 'BEGIN{exit !(a < b)}'; then bestc=$c; best="$c $hz"; fi
  done
  if [ -n "$best" ]; then
    set -- $best
    echo "BEST $name cycles_per_packet=$1 pps_per_lcore=$(awk -v c="$1" -v h="$2" 'BEGIN{printf "%.0f", h * 1e6 / c}') load=\"$(load)\""
  else echo "BEST $name none"; fi
}

echo "dataplane benchmark, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, build $build (scripts at $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')), load $(load)"
echo "== 1 worker (main lcore inline on CPU 0, peer on CPU 1)"
for frame in 64 512; do
  for s in 1000 100000 1000000; do
    dp "w1_f${frame}_s${s}" "-l 0" --sessions "$s" --frame "$frame"
  done
done
echo "== replicas (-n), 1k sessions, 64-byte frames, 1 worker"
for n in 1 10 100; do dp "w1_n${n}" "-l 0" --sessions 1000 -n "$n"; done
echo "== 1 vs 2 workers, 100k sessions, 64-byte frames, window 256 rounds (see the doc)"
dp "w1_s100000_win256" "-l 0" --sessions 100000 --window 256
dp "w2_s100000_win256" "--lcores (0-2)@0" --sessions 100000 --window 256 --peer-cpu 1
echo "== dpdk-testpmd, one forwarding lcore (lcore 1 on CPU 1)"
for frame in 64 512; do
  tp "testpmd_io_ring_f$frame" io "$frame" net_ring0
  tp "testpmd_io_null_f$frame" io "$frame" "net_null0,size=$frame" "net_null1,size=$frame"
  tp "testpmd_csum_ring_f$frame" csum "$frame" net_ring0
done
echo "done, load $(load)"
