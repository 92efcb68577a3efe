#!/usr/bin/env bash
# tools/bench/vs_tcpreplay.sh [DPCOPY_BINARY] — the same capture replayed against the same
# nginx target by dpcopy (offline, --speed 0: as fast as the target answers) and by
# `tcpreplay --topspeed` (stateless, kernel), side by side (issue #6; figures in
# docs/PERFORMANCE.md).
#
# Rig (network namespaces made here, all removed at exit; tests/e2e/lib/rig.sh):
#   cli ── eth0 ── onl     ab against the "online" nginx 198.18.0.2, captured on onl:eth0
#   copy ── dp0 ── tgt     dp0: dpcopy's net_af_packet port (no kernel address), and the
#                          interface tcpreplay sends on; the target nginx 198.18.1.2 routes
#                          the fake clients 198.19.0.0/16 to dpcopy's --ip 198.18.1.9.
# Captures: "short" (ab, one connection per request) and "keepalive" (ab -k).
# dpcopy replays the whole capture (both directions; it needs the online responses for
# pacing). tcpreplay replays the client -> server half, rewritten toward the target
# (tcprewrite: client 198.18.0.1 -> 198.19.0.1, server -> 198.18.1.2, MACs of dp0 and the
# target, checksums fixed): what a stateless replayer can best do.
# Per run: sessions/s, packets/s (dpcopy: captured frames read and frames sent per
# second of its run, from --report; tcpreplay: its own "Rated"/"Flows" lines), requests the
# target completed (lines in nginx's access log) and connections it accepted (nstat
# TcpPassiveOpens in the target's namespace). RUNS=N (default 3), SHORT_N, KA_N: sizes.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
DPCOPY=$(realpath "${1:-$root/build/apps/copy/dpcopy}")
RUNS=${RUNS:-3}
SHORT_N=${SHORT_N:-20000}
KA_N=${KA_N:-100000}
# Packages only this benchmark needs (not in tools/lib/common.sh's list).
BENCH_PACKAGES=(tcpreplay apache2-utils nginx-light tcpdump ethtool iproute2)

# shellcheck source=lib.sh
source "$root/tools/bench/lib.sh"
bench_preflight vs_tcpreplay.sh "$DPCOPY" "${BENCH_PACKAGES[@]}"

rig_init vstr
trap keep_and_clean EXIT
for r in cli onl copy tgt; do rig_add_ns $r || exit 1; done
rig_link cli eth0 onl eth0 && rig_link copy dp0 tgt eth0 || exit 1
rig_addr cli eth0 198.18.0.1/24
rig_addr onl eth0 198.18.0.2/24
rig_addr tgt eth0 198.18.1.2/24
ip -n "$(rig_ns tgt)" route add 198.19.0.0/16 via 198.18.1.9
rig_nginx onl 198.18.0.2 80 || exit 1
rig_nginx tgt 198.18.1.2 80 || exit 1
TGT_LOG=$RIG_NGINX_LOG
TGT_MAC=$(ip -n "$(rig_ns tgt)" -br link show eth0 | awk '{print $3}')
DP0_MAC=$(ip -n "$(rig_ns copy)" -br link show dp0 | awk '{print $3}')

record() {  # NAME CMD...: capture of CMD's traffic on the online server's side
  local name=$1 try drops; shift
  for try in 1 2 3; do
    rig_tcpdump onl eth0 "$RIG_TMP/$name.pcap" "tcp port 80"
    local cap=$RIG_LAST_PID
    rig_exec cli "$@" >"$RIG_TMP/$name.client.log" 2>&1
    rig_tcpdump_stop "$cap"
    drops=$(rig_tcpdump_drops "$RIG_TMP/$name.pcap")
    [ "$drops" = 0 ] && return 0
    echo "record $name: tcpdump dropped $drops packets (try $try)" >&2
  done
  echo "record $name: tcpdump kept dropping packets" >&2; return 1
}

passive_opens() { rig_exec tgt nstat -asz TcpPassiveOpens 2>/dev/null | awk '/TcpPassiveOpens/ {print $2}'; }

run_no=0
dpcopy_run() {  # NAME: one dpcopy replay; prints a result line
  local name=$1 i=$2
  run_no=$((run_no + 1))
  local prefix="dpcvstr$$_$run_no" po0 po1 served
  : > "$TGT_LOG"; po0=$(passive_opens)
  timeout 600 ip netns exec "$(rig_ns copy)" "$DPCOPY" --no-huge -m 512 --no-pci -l 0 --file-prefix "$prefix" \
    --log-level 'lib.*:warning' --vdev net_af_packet0,iface=dp0 -- \
    -i "$RIG_TMP/$name.pcap" -x 80-198.18.1.2:80 -c 198.19.0.0/16 --ip 198.18.1.9/24 --speed 0 \
    --stats-interval 0 --report "$RIG_TMP/$name.dpcopy.$i.json" >"$RIG_TMP/$name.dpcopy.$i.out" 2>&1
  local rc=$?
  rm -rf "/var/run/dpdk/$prefix"
  sleep 0.5
  po1=$(passive_opens); served=$(grep -cE '^198\.19\.' "$TGT_LOG")
  python3 - "$RIG_TMP/$name.dpcopy.$i.json" "$rc" "$served" "$((po1 - po0))" "$(load)" <<'PY'
import json, sys
path, rc, served, opens, load = sys.argv[1:]
try:
    r = json.load(open(path))
except Exception as e:
    print(f"dpcopy  exit {rc}: no report ({e})"); sys.exit(0)
t = r["elapsed_s"]; io = r["io"]
print(f"dpcopy    {t:7.2f} s  {r['sessions']['created']/t:9.0f} sessions/s  {io['file_frames']/t:9.0f} captured pkts/s  "
      f"{io['tx_frames']/t:9.0f} sent pkts/s  target: {served} requests, {opens} connections  "
      f"(lost {r['lost_total']}, filtered {r['filtered_total']}, exit {rc}) load {load}")
PY
}

tcpreplay_run() {  # NAME I
  local name=$1 i=$2 po0 po1 served out="$RIG_TMP/$name.tcpreplay.$i.out"
  : > "$TGT_LOG"; po0=$(passive_opens)
  rig_exec copy tcpreplay --topspeed -i dp0 "$RIG_TMP/$name.rw.pcap" >"$out" 2>&1
  sleep 1.5
  po1=$(passive_opens); served=$(grep -cE '^198\.19\.' "$TGT_LOG")
  local secs pps flows fps
  secs=$(sed -nE 's/.*Actual: [0-9]+ packets \([0-9]+ bytes\) sent in ([0-9.]+) seconds.*/\1/p' "$out")
  pps=$(sed -nE 's/.*Rated: .* ([0-9.]+) pps.*/\1/p' "$out")
  flows=$(sed -nE 's/.*Flows: ([0-9]+) flows.*/\1/p' "$out")
  fps=$(sed -nE 's/.*Flows: [0-9]+ flows, ([0-9.]+) fps.*/\1/p' "$out")
  printf 'tcpreplay %7.2f s  %9.0f sessions/s  %9s             %9.0f sent pkts/s  target: %s requests, %s connections  (%s flows) load %s\n' \
    "${secs:-0}" "${fps:-0}" "" "${pps:-0}" "$served" "$((po1 - po0))" "${flows:-?}" "$(load)"
}

echo "dpcopy vs tcpreplay --topspeed, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, load $(load)"
record short ab -q -n "$SHORT_N" -c 50 http://198.18.0.2/ || exit 1
record keepalive ab -q -k -n "$KA_N" -c 50 http://198.18.0.2/ || exit 1
for name in short keepalive; do
  f="$RIG_TMP/$name.pcap"
  tcpdump -r "$f" -w "$RIG_TMP/$name.half.pcap" 'src host 198.18.0.1 and dst port 80' 2>/dev/null
  tcprewrite --infile="$RIG_TMP/$name.half.pcap" --outfile="$RIG_TMP/$name.rw.pcap" \
    --srcipmap=198.18.0.1/32:198.19.0.1/32 --dstipmap=198.18.0.2/32:198.18.1.2/32 \
    --enet-smac="$DP0_MAC" --enet-dmac="$TGT_MAC" --fixcsum || exit 1
  echo "== capture $name: $(tcpdump -r "$f" 2>/dev/null | wc -l) packets, $(python3 "$REQS" "$f" 80 | wc -l) requests, $(tcpdump -r "$f" 'tcp[tcpflags] & tcp-syn != 0 and tcp[tcpflags] & tcp-ack == 0' 2>/dev/null | wc -l) connections; client half for tcpreplay: $(tcpdump -r "$RIG_TMP/$name.rw.pcap" 2>/dev/null | wc -l) packets"
  for i in $(seq "$RUNS"); do
    dpcopy_run "$name" "$i"
    tcpreplay_run "$name" "$i"
  done
done
