#!/usr/bin/env bash
# tools/bench/tcpcopy_workloads.sh [DPCOPY_BINARY] — the workloads of
# ../shared/reference/tcpcopy-measured.md on a namespace rig: wrk keep-alive and wrk
# `Connection: close`, 50 connections, 10 s; offline replay (real time, 2x, -n 2, -n 5)
# and live copy from a tc mirror (-n 1, 2, 5). Requests lost and rates, to put beside
# tcpcopy's figures (docs/PERFORMANCE.md).
#
# Rig (network namespaces made here, all removed at exit; tests/e2e/lib/rig.sh):
#   cli ── eth0 ── onl    wrk against the online nginx 198.18.0.2 (1 worker). onl:eth0 is
#                         mirrored (tc clsact + u32 + mirred, ingress and egress) onto
#                         onl:mir0 ── copy:rx0, dpcopy's RX port (net_af_packet0, live).
#   copy:tx0 ── tgt:dp0   dpcopy's TX port (net_af_packet1; the only port offline) and the
#                         target nginx 198.18.1.2 (1 worker), which routes the fake
#                         clients 198.19.0.0/16 to dpcopy's --ip 198.18.1.9.
# Offline: the capture is recorded with tcpdump on onl:eth0 during the wrk run (recorded
# again if tcpdump dropped packets); expected = the complete requests it holds
# (tests/e2e/lib/requests_in_pcap.py) x n. Live: expected = the requests the online
# nginx logged x n; dpcopy runs before the load and gets SIGINT once the target's count
# has been stable for 2 s (at most 60 s after the load). Lost = expected - requests the
# target logged from the fake clients. DPCOPY_LCORES (default "-l 0": one inline worker,
# so that nginx, wrk and the kernel keep the other CPU), DURATION (default 10).
# Each row gives the target's req/s served and dpcopy's CPU seconds (user + system; offline
# from /usr/bin/time, live from /proc/PID/stat up to the SIGINT) and per 1,000 requests.
# OFFLINE_SPECS (default "1 1,2 1,1 2,1 5,0 1": "SPEED N" pairs, 0 = fastest);
# DPCOPY_BASELINE=BINARY also runs every offline case with that binary, on the same capture
# (e.g. main's build, to compare a change: rows marked "[baseline]").
# TCPCOPY_SRC=DIR runs vs_tcpcopy.sh instead: tcpcopy + intercept from DIR side by side.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
# TCPCOPY_SRC=DIR: tcpcopy + intercept built from DIR beside dpcopy + dpintercept and wrk
# alone, on the seed's three-host rig (tools/bench/vs_tcpcopy.sh; dpintercept is taken
# next to DPCOPY_BINARY, as in a build directory)
if [ -n "${TCPCOPY_SRC:-}" ]; then
  if [ -n "${1:-}" ]; then
    DPCOPY=$(realpath "$1"); export DPCOPY
    export DPINTERCEPT=${DPINTERCEPT:-$(dirname "$DPCOPY")/../intercept/dpintercept}
  fi
  exec "$root/tools/bench/vs_tcpcopy.sh"
fi
DPCOPY=$(realpath "${1:-$root/build/apps/copy/dpcopy}")
DURATION=${DURATION:-10}
LCORES=${DPCOPY_LCORES:--l 0}
ONLY=${ONLY:-.}   # regex over case names (debugging)
OFFLINE_SPECS=${OFFLINE_SPECS:-1 1,2 1,1 2,1 5,0 1}
BASELINE=${DPCOPY_BASELINE:+$(realpath "$DPCOPY_BASELINE")}
BENCH_PACKAGES=(wrk nginx-light tcpdump ethtool iproute2)

# shellcheck source=lib.sh
source "$root/tools/bench/lib.sh"
bench_preflight tcpcopy_workloads.sh "$DPCOPY" "${BENCH_PACKAGES[@]}"

rig_init tcw
trap keep_and_clean EXIT
for r in cli onl copy tgt; do rig_add_ns $r || exit 1; done
rig_link cli eth0 onl eth0 && rig_link onl mir0 copy rx0 && rig_link copy tx0 tgt dp0 || exit 1
rig_addr cli eth0 198.18.0.1/24
rig_addr onl eth0 198.18.0.2/24
rig_addr tgt dp0 198.18.1.2/24
ip -n "$(rig_ns tgt)" route add 198.19.0.0/16 via 198.18.1.9
rig_nginx onl 198.18.0.2 80 || exit 1
ONL_LOG=$RIG_NGINX_LOG
rig_nginx tgt 198.18.1.2 80 || exit 1
TGT_LOG=$RIG_NGINX_LOG

# Where mirrored frames are lost before dpcopy: mir0's TX (onl), rx0's RX and RX drops
# (copy), and the kernel's per-CPU backlog drops (/proc/net/softnet_stat, whole machine).
mirror_counters() {
  local mtx rrx rdrop sn
  mtx=$(ip -n "$(rig_ns onl)" -s -j link show mir0 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["stats64"]["tx"]["packets"])')
  read -r rrx rdrop < <(ip -n "$(rig_ns copy)" -s -j link show rx0 | python3 -c 'import json,sys; s=json.load(sys.stdin)[0]["stats64"]["rx"]; print(s["packets"], s["dropped"])')
  sn=$(python3 -c 'print(sum(int(l.split()[1], 16) for l in open("/proc/net/softnet_stat")))')
  echo "$mtx $rrx $rdrop $sn"
}
bench_wrk_scripts
echo "tcpcopy workloads on dpcopy, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, dpcopy $LCORES, load $(load)"

# ---------------------------------------------------------------- offline
run_no=0
for w in keepalive close; do
  [[ "offline $w" =~ $ONLY ]] || continue
  cap="$RIG_TMP/$w.pcap"
  record_capture "$w" "$cap"
  exp=$CAP_REQS
  IFS=, read -r -a specs <<<"$OFFLINE_SPECS"
  for spec in "${specs[@]}"; do
   for bin in "$DPCOPY" ${BASELINE:+"$BASELINE"}; do
    # shellcheck disable=SC2086  # "SPEED N"
    set -- $spec; speed=$1; n=$2
    label=""; [ "$bin" = "$DPCOPY" ] || label=" [baseline]"
    run_no=$((run_no + 1)); prefix="dpctcw$$_$run_no"
    : > "$TGT_LOG"
    # shellcheck disable=SC2086
    /usr/bin/time -f '%U %S' -o "$RIG_TMP/off.$run_no.cpu" \
    timeout 900 ip netns exec "$(rig_ns copy)" "$bin" --no-huge -m 768 --no-pci $LCORES --file-prefix "$prefix" \
      --log-level 'lib.*:warning' --vdev net_af_packet0,iface=tx0 -- \
      -i "$cap" -x 80-198.18.1.2:80 -c 198.19.0.0/16 --ip 198.18.1.9/24 --speed "$speed" -n "$n" \
      --stats-interval 0 --report "$RIG_TMP/off.$run_no.json" >"$RIG_TMP/off.$run_no.out" 2>&1
    rc=$?
    rm -rf "/var/run/dpdk/$prefix"
    sleep 1
    secs=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["elapsed_s"])' "$RIG_TMP/off.$run_no.json" 2>/dev/null || echo 0)
    drops=$(python3 -c 'import json,sys; r = json.load(open(sys.argv[1])); print(r["lost_total"], "lost", r["filtered_total"], "filtered, replay lag at most %.1f s" % r.get("replay", {}).get("max_lag_s", 0))' "$RIG_TMP/off.$run_no.json" 2>/dev/null || echo '?')
    cpu=$(tail -1 "$RIG_TMP/off.$run_no.cpu" | awk '{ print $1 + $2 }')
    result "offline $w --speed $speed -n $n$label" $((exp * n)) "$(served)" "$secs" \
      "(run ${secs} s, exit $rc, dpcopy drops: $drops, $(cpu_text "$cpu" "$(served)"))"
   done
  done
done

# ---------------------------------------------------------------- live
rig_exec onl tc qdisc add dev eth0 clsact || exit 1
for dir in ingress egress; do
  rig_exec onl tc filter add dev eth0 "$dir" protocol all u32 match u32 0 0 \
    action mirred egress mirror dev mir0 || exit 1
done
for w in keepalive close keepalive_throttled close_throttled; do
  [[ "live $w" =~ $ONLY ]] || continue
  : > "$ONL_LOG"
  run_wrk "$w" "$RIG_TMP/$w.alone.wrk"
  echo "== live $w: the online nginx alone (mirror on, no dpcopy): $(wrk_rate "$RIG_TMP/$w.alone.wrk") req/s"
  for n in 1 2 5; do
    run_no=$((run_no + 1)); prefix="dpctcw$$_$run_no"; out="$RIG_TMP/live.$run_no.out"
    # shellcheck disable=SC2086
    rig_bg copy "$DPCOPY" --no-huge -m 768 --no-pci $LCORES --file-prefix "$prefix" --log-level 'lib.*:warning' \
      --vdev net_af_packet0,iface=rx0 --vdev net_af_packet1,iface=tx0 -- \
      -x 80-198.18.1.2:80 -c 198.19.0.0/16 --ip 198.18.1.9/24 --rx-port 0 --tx-port 1 -n "$n" \
      --stats-interval 0 --report "$RIG_TMP/live.$run_no.json" >"$out" 2>&1
    pid=$RIG_LAST_PID
    for i in $(seq 150); do grep -q "; copying" "$out" && break; kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if ! grep -q "; copying" "$out"; then echo "live $w -n $n: dpcopy did not start"; tail -3 "$out"; kill -INT "$pid"; continue; fi
    : > "$ONL_LOG"; : > "$TGT_LOG"
    read -r m0 r0 d0 s0 < <(mirror_counters)
    run_wrk "$w" "$RIG_TMP/$w.live.$n.wrk"
    wait_stable
    cpu=$(pid_cpu "$pid")
    kill -INT "$pid" 2>/dev/null
    for i in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
    wait "$pid"; rc=$?
    rm -rf "/var/run/dpdk/$prefix"
    read -r m1 r1 d1 s1 < <(mirror_counters)
    rxp=$(python3 -c 'import json,sys; p=json.load(open(sys.argv[1]))["ports"]; print(sum(x["ipackets"] for x in p if x["port"] == 0))' "$RIG_TMP/live.$run_no.json" 2>/dev/null || echo '?')
    echo "    mirror path: mir0 sent $((m1 - m0)) frames, rx0 received $((r1 - r0)) (dropped $((d1 - d0))), softnet backlog drops $((s1 - s0)), dpcopy's RX port got $rxp"
    on=$(online)
    drops=$(python3 -c 'import json,sys; r = json.load(open(sys.argv[1])); s = r.get("shed", {}); print(r["lost_total"], "lost", r["filtered_total"], "filtered, shed", s.get("sessions", 0), "sessions", s.get("requests", 0), "requests")' "$RIG_TMP/live.$run_no.json" 2>/dev/null || echo '?')
    # rate: over the load's DURATION (the target is served while the load runs)
    result "live $w -n $n" $((on * n)) "$(served)" "$DURATION" \
      "(online $on at $(wrk_rate "$RIG_TMP/$w.live.$n.wrk") req/s beside dpcopy; exit $rc, dpcopy drops: $drops, $(cpu_text "$cpu" "$(served)"))"
  done
done
