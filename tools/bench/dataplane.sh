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
#   5. (issue #16) a per-packet anchor that does work: DPDK's own l3fwd in exact-match mode
#      (`--lookup em`, built from Debian's dpdk-doc example sources with ../common against the
#      installed libdpdk-dev, into a temporary directory), on net_pcap ports replaying a pcap
#      forever (`infinite_rx`) toward net_null (`no-rx=1`): 1k, 100k and 1M TCP flows of 64-byte
#      frames, one frame per flow in turn (tools/bench/em_flows.py writes the pcaps and the EM
#      rules matching them, one rule per flow); forwarded frames (net_null's opackets) per
#      CPU-second of the l3fwd process, one lcore. A net_pcap port holds its whole file in mbufs
#      and l3fwd sizes its pool by RX descriptors (at most 65,535 per port), so the flows are
#      spread over ceil(N / 65,000) net_pcap ports (16 for 1M: l3fwd polls at most 16 queues per
#      lcore), all polled by the one lcore. Printed beside
#      section 1's figure for the same number of sessions (64-byte frames): ratio dpcopy / l3fwd.
#      dpdk-testpmd io forwarding on the same kind of ports (1k flows) is the no-work limit there.
#      These DPDK processes run in a network namespace made here (removed at exit).
# Every line carries the load average (/proc/loadavg) at its end. FLOWS (default "1000 100000
# 1000000"): section 5's flow counts. RUNS=N (default 3):
# best of N for each configuration; SECONDS_PER_RUN (default 3).
# Needs root (EAL's /var/run/dpdk); each process gets its own --file-prefix, removed after.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
bench="$build/tools/bench/bench_dataplane"
RUNS=${RUNS:-3}
SECS=${SECONDS_PER_RUN:-3}
# Only this benchmark needs dpdk-testpmd (Debian ships it in dpdk-dev, not in dpdk) and
# l3fwd's sources (dpdk-doc).
BENCH_PACKAGES=(dpdk-dev dpdk-doc)
EXAMPLES=/usr/share/dpdk/examples
FLOWS=${FLOWS:-1000 100000 1000000}

if [ "$(id -u)" -ne 0 ]; then echo "dataplane.sh: must run as root" >&2; exit 2; fi
[ -x "$bench" ] || { echo "dataplane.sh: $bench not built (meson setup ... -Dbench=true; ninja)" >&2; exit 2; }
if ! command -v dpdk-testpmd >/dev/null 2>&1 || [ ! -d "$EXAMPLES/l3fwd" ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${BENCH_PACKAGES[@]}" >/dev/null || exit 1
fi

EAL=(--no-huge -m 1024 --no-pci --no-telemetry --log-level 'lib.eal:warning')
tmp=$(mktemp -d /tmp/dpc-bench-dp.XXXXXX)
prefixes=()
ns="dpcbd$$"
cleanup() {
  local p
  [ -n "${L3FWD_PID:-}" ] && kill -9 "$L3FWD_PID" 2>/dev/null
  for p in "${prefixes[@]}"; do rm -rf "/var/run/dpdk/$p"; done
  ip netns del "$ns" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
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
    timeout 600 ip netns exec "$ns" "$bench" "${EAL[@]}" --file-prefix "$pfx" $lcores -- --seconds "$SECS" "$@" \
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
  if [ -n "$best" ]; then echo "BEST $name ${best#RESULT }"; else echo "BEST $name none"; fi | tee -a "$tmp/summary"
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
      timeout 120 ip netns exec "$ns" dpdk-testpmd "${EAL[@]}" --file-prefix "$pfx" -l 0,1 "${vdevs[@]}" -- -i \
        --forward-mode="$mode" --nb-cores=1 --record-core-cycles --txpkts="$size" --nb-ports="$nports" \
        "${TP_EXTRA[@]}" >"$out" 2>&1
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

TP_EXTRA=()

# build_l3fwd: DPDK's l3fwd example (Debian's dpdk-doc sources, ../common) copied into $tmp and
# built there. One change to the copy: l3fwd (22.11) requests RX checksum offload on every port
# unconditionally, which virtual ports lack (rte_eth_dev_configure fails with -EINVAL); the copy
# requests none (the EM path does not read the checksum flags; a NIC would verify for free).
build_l3fwd() {
  local src="$tmp/examples/l3fwd"
  mkdir -p "$tmp/examples" && cp -r "$EXAMPLES/l3fwd" "$EXAMPLES/common" "$tmp/examples/" || return 1
  sed -i 's/\.offloads = RTE_ETH_RX_OFFLOAD_CHECKSUM,/.offloads = 0,/' "$src/main.c"
  grep -q '\.offloads = 0,' "$src/main.c" || { echo "l3fwd's main.c: the RX offload line was not found" >"$tmp/l3fwd.build.log"; return 1; }
  # shellcheck disable=SC2046  # pkg-config's flags are word lists
  (cd "$src" && nice cc -O3 $(pkg-config --cflags libdpdk) -DALLOW_EXPERIMENTAL_API -I../common \
     main.c l3fwd_acl.c l3fwd_lpm.c l3fwd_fib.c l3fwd_em.c l3fwd_event.c l3fwd_event_generic.c \
     l3fwd_event_internal_port.c -o "$tmp/l3fwd" $(pkg-config --libs libdpdk)) >"$tmp/l3fwd.build.log" 2>&1
}
# ethdev_stat PREFIX PORT FIELD: one counter of /ethdev/stats through the telemetry socket
ethdev_stat() {
  python3 - "/var/run/dpdk/$1/dpdk_telemetry.v2" "/ethdev/stats,$2" "$3" <<'PY' 2>/dev/null
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.settimeout(5)
s.connect(sys.argv[1])
info = json.loads(s.recv(4096))
s.send(sys.argv[2].encode())
print(json.loads(s.recv(info.get("max_output_len", 16384)))["/ethdev/stats"][sys.argv[3]])
PY
}
# window PREFIX PID OUT_PORT SECONDS: over SECONDS, the frames sent on OUT_PORT (telemetry's
# /ethdev/stats) per CPU-second of PID (/proc/PID/stat), both read together at each end, and the
# frames the other ports received and sent: "PPS forwarded=N cpu_s=S rx=N back=N" (back: sent
# out of the input ports, i.e. exact-match misses)
window() {
  python3 - "/var/run/dpdk/$1/dpdk_telemetry.v2" "$2" "$3" "$4" <<'PY'
import json, os, socket, sys, time
path, pid, out, secs = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(path)
mx = json.loads(s.recv(4096)).get("max_output_len", 16384)
hz = os.sysconf("SC_CLK_TCK")
def stat(port):
    s.send(("/ethdev/stats,%d" % port).encode())
    return json.loads(s.recv(mx))["/ethdev/stats"]
def sample():
    f = open("/proc/%s/stat" % pid).read().rsplit(")", 1)[1].split()
    cpu = (int(f[11]) + int(f[12])) / hz
    st = [stat(p) for p in range(out + 1)]
    return cpu, st[out]["opackets"], sum(x["ipackets"] for x in st[:out]), sum(x["opackets"] for x in st[:out])
c0, f0, r0, b0 = sample()
time.sleep(secs)
c1, f1, r1, b1 = sample()
print("%d forwarded=%d cpu_s=%.2f rx=%d back=%d" % ((f1 - f0) / (c1 - c0) if c1 > c0 else 0, f1 - f0, c1 - c0, r1 - r0, b1 - b0))
PY
}
# l3 FLOWS: l3fwd exact match, one lcore (lcore 1 on CPU 1), best of RUNS (forwarded frames
# per CPU-second over SECS, once forwarding runs); the net_pcap ports 0..Q-1, net_null port Q
L3FWD_PID=""
l3() {
  local flows=$1 q i best=0 v pfx out vdevs=() cfg="" mask ports f0 c0 f1 c1 ip0 ip1
  q=$(( (flows + 64999) / 65000 ))
  python3 "$root/tools/bench/em_flows.py" "$flows" "$tmp/em$flows" "$q" || return
  for i in $(seq 0 $((q - 1))); do
    vdevs+=(--vdev "net_pcap$i,rx_pcap=$tmp/em$flows.$i.pcap,infinite_rx=1"); cfg+="${cfg:+,}($i,0,1)"
  done
  vdevs+=(--vdev "net_null$q,no-rx=1")
  mask=$(printf '0x%x' $(( (1 << (q + 1)) - 1 )))
  for i in $(seq "$RUNS"); do
    n_run=$((n_run + 1)); pfx="dpcbd$$_$n_run"; prefixes+=("$pfx"); out="$tmp/l3fwd.$flows.$i.out"
    ip netns exec "$ns" "$tmp/l3fwd" --no-huge -m $((2048 + flows * 3 / 1000)) --no-pci --file-prefix "$pfx" -l 1 \
      --log-level 'lib.eal:warning' "${vdevs[@]}" -- -p "$mask" --config "$cfg" --lookup em --parse-ptype \
      --rx-queue-size 65535 --rule_ipv4 "$tmp/em$flows.rules" --rule_ipv6 "$EXAMPLES/l3fwd/em_default_v6.cfg" >"$out" 2>&1 &
    L3FWD_PID=$!
    f0=""
    for _ in $(seq 600); do  # start-up: loading the rules and the pcaps (1M flows: ~30 s)
      kill -0 "$L3FWD_PID" 2>/dev/null || break
      f0=$(ethdev_stat "$pfx" "$q" opackets); [ "${f0:-0}" -gt 0 ] && break
      sleep 0.2
    done
    if [ "${f0:-0}" -gt 0 ]; then
      read -r v line < <(window "$pfx" "$L3FWD_PID" "$q" "$SECS")
      echo "  l3fwd_em_f64_s$flows run $i: fwd_pps_per_cpu=$v $line pcap_ports=$q load=\"$(load)\""
      [ "${v:-0}" -gt "$best" ] && best=$v
    else
      echo "  l3fwd_em_f64_s$flows run $i: no forwarding ($(grep -vE '^EM: Adding route' "$out" | tail -3 | tr '\n' ' '))"
    fi
    kill -INT "$L3FWD_PID" 2>/dev/null
    for _ in $(seq 100); do kill -0 "$L3FWD_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$L3FWD_PID" 2>/dev/null; wait "$L3FWD_PID" 2>/dev/null; L3FWD_PID=""
    rm -rf "/var/run/dpdk/$pfx" "$out"
  done
  rm -f "$tmp/em$flows".*
  L3_BEST[$flows]=$best
  echo "BEST l3fwd_em_f64_s$flows fwd_pps_per_cpu=$best load=\"$(load)\""
}
declare -A L3_BEST

ip netns add "$ns" || exit 1
ip -n "$ns" link set lo up
build_l3fwd || { echo "dataplane.sh: building l3fwd failed:"; tail -5 "$tmp/l3fwd.build.log"; exit 1; }

echo "dataplane benchmark, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, build $build (scripts at $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')), load $(load)"
if [ -z "${L3FWD_ONLY:-}" ]; then  # L3FWD_ONLY=1: section 5 only (debugging)
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
fi
echo "== l3fwd exact match (issue #16): net_pcap infinite_rx -> net_null, one lcore (lcore 1 on CPU 1), 64-byte frames"
for f in $FLOWS; do l3 "$f"; done
TP_EXTRA=(--total-num-mbufs=16384)
python3 "$root/tools/bench/em_flows.py" 1000 "$tmp/tp1k" 1
tp testpmd_io_pcap_null_f64 io 64 "net_pcap0,rx_pcap=$tmp/tp1k.0.pcap,infinite_rx=1" "net_null1,no-rx=1"
TP_EXTRA=()
echo "== dpcopy (section 1, net_ring with the simulated peer, 1 worker) / l3fwd exact match, per CPU-second, 64-byte frames"
for f in $FLOWS; do
  d=$(grep -E "^BEST w1_f64_s$f " "$tmp/summary" 2>/dev/null | sed -nE 's/.*rx_pps_per_worker_cpu=([0-9]+).*/\1/p')
  awk -v f="$f" -v d="${d:-0}" -v l="${L3_BEST[$f]:-0}" 'BEGIN {
    printf "RATIO sessions/flows=%d dpcopy=%d l3fwd_em=%d ratio=%.3f\n", f, d, l, (l > 0 ? d / l : 0) }'
done
echo "done, load $(load)"
