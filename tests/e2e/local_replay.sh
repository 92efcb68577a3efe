#!/usr/bin/env bash
# End-to-end: offline replay with the local response path, in namespaces.
#
#   tests/e2e/local_replay.sh DPCOPY_BINARY
#
# Rig (all made here, all removed at exit):
#   cli  ── eth0 ── onl      "production": real clients against nginx/redis, captured with tcpdump
#   copy ── dp0  ── tgt      dpcopy on net_af_packet over dp0 (no kernel address) and the target
#                            (nginx + redis on 198.18.1.2), which routes the fake clients
#                            198.19.0.0/16 to dpcopy's --ip 198.18.1.9.
# Each case records a capture from a real client, replays it, and requires the
# target to serve exactly the requests the capture holds, with identical request
# lines (nginx access log) or command counts (redis INFO commandstats).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
DPCOPY=$(realpath "$1")
source "$here/lib/rig.sh"
source "$here/lib/replay_checks.sh"

pass=0; fail=0
ok()  { echo "PASS $1"; pass=$((pass + 1)); }
bad() { echo "FAIL $1: $2"; fail=$((fail + 1)); }

rig_init e2e
rig_add_ns cli && rig_add_ns onl && rig_add_ns copy && rig_add_ns tgt || exit 1
rig_link cli eth0 onl eth0 && rig_link copy dp0 tgt eth0 || exit 1
rig_addr cli eth0 198.18.0.1/24
rig_addr onl eth0 198.18.0.2/24
rig_addr tgt eth0 198.18.1.2/24
ip -n "$(rig_ns tgt)" route add 198.19.0.0/16 via 198.18.1.9
rig_conntrack_arm copy || exit 1
rig_nginx onl 198.18.0.2 80 || exit 1
rig_redis onl 198.18.0.2 6379 >"$RIG_TMP/redis-onl.log" 2>&1 || exit 1
rig_nginx tgt 198.18.1.2 80 || exit 1
E2E_TGT_LOG=$RIG_NGINX_LOG
rig_redis tgt 198.18.1.2 6379 >"$RIG_TMP/redis-tgt.log" 2>&1 || exit 1
# E2E_KEEP=DIR keeps the captures, outputs and logs for a post-mortem.
[ -n "${E2E_KEEP:-}" ] && trap 'mkdir -p "$E2E_KEEP"; cp -r "$RIG_TMP"/. "$E2E_KEEP"/; rig_cleanup' EXIT

# replay NAME PORT [dpcopy options...]: replays the capture; output in NAME.out, report in NAME.json
run_no=0
replay() {
  local name=$1 port=$2; shift 2
  run_no=$((run_no + 1))
  local prefix="dpce2e$$_$run_no"
  e2e_reset_target
  timeout 300 ip netns exec "$(rig_ns copy)" "$DPCOPY" --no-huge -m 512 --no-pci -l 0 \
    --file-prefix "$prefix" --log-level 'lib.*:warning' --vdev net_af_packet0,iface=dp0 -- \
    -i "$RIG_TMP/$name.pcap" -x "$port-198.18.1.2:$port" -c 198.19.0.0/16 --ip 198.18.1.9/24 \
    --stats-interval 0 --report "$RIG_TMP/$name.json" "$@" >"$RIG_TMP/$name.out" 2>&1
  local rc=$?
  rm -rf "/var/run/dpdk/$prefix"
  sleep 0.5  # nginx writes its log line after the response
  cp "$E2E_TGT_LOG" "$RIG_TMP/$name.$run_no.access.log"
  return $rc
}

# report_ctr NAME COUNTER: a counter of NAME.json, dpcopy's --report of that replay
report_ctr() { sed -nE "s/.*\"$2\": ([0-9]+).*/\1/p" "$RIG_TMP/$1.json" | head -1; }

# ---- captures from real clients (lib/replay_checks.sh: e2e_capture) ---------------
for name in keepalive short large curl curlkl redis close upload; do
  e2e_capture "$name" || bad "record $name" "tcpdump kept dropping packets"
done

# ---- replays -------------------------------------------------------------------
for name in keepalive short large curl curlkl close; do
  if replay "$name" 80 --speed 0; then e2e_check_http "$name --speed 0" "$name" "$name"; else bad "$name" "dpcopy exited $?"; tail -5 "$RIG_TMP/$name.out"; fi
done

if replay redis 6379 --speed 0; then e2e_check_redis redis redis redis; else bad redis "dpcopy exited $?"; fi

if replay keepalive 80 --speed 1; then e2e_check_http "keepalive --speed 1" keepalive keepalive; else bad "keepalive --speed 1" "dpcopy exited $?"; fi
if replay curlkl 80 --speed 1; then e2e_check_http "curlkl --speed 1" curlkl curlkl; else bad "curlkl --speed 1" "dpcopy exited $?"; fi
if replay short 80 --speed 0 -n 3; then e2e_check_http "short -n 3" short short 3; else bad "short -n 3" "dpcopy exited $?"; fi
# zero-copy amplification over net_af_packet: the bodies' segments go out as header mbufs
# chained to one shared copy of each payload block
if replay upload 80 --speed 0 -n 3; then
  e2e_check_http "upload -n 3" upload upload 3
  chained=$(report_ctr upload tx_chained); blocks=$(report_ctr upload tx_payload_blocks)
  fallback=$(report_ctr upload tx_chain_fallback)
  if [ "${chained:-0}" -gt 0 ] && [ "${blocks:-0}" -gt 0 ] && [ $((blocks * 2)) -le "$chained" ] && [ "$fallback" = 0 ]; then
    ok "upload -n 3: $chained chained frames from $blocks payload blocks copied once"
  else bad "upload -n 3" "tx_chained=$chained tx_payload_blocks=$blocks tx_chain_fallback=$fallback"; fi
else bad "upload -n 3" "dpcopy exited $?"; tail -5 "$RIG_TMP/upload.out"; fi

# -r 50: the same subset, twice
sub1=""; sub2=""
if replay short 80 --speed 0 -r 50; then sub1=$(e2e_http_got); else bad "-r 50" "dpcopy exited $?"; fi
if replay short 80 --speed 0 -r 50; then sub2=$(e2e_http_got); else bad "-r 50" "dpcopy exited $?"; fi
e2e_check_same_subset "-r 50" short "$sub1" "$sub2"
# what -r leaves out is filtered by design, not lost: the report tells them apart
lost=$(report_ctr short lost_total); filtered=$(report_ctr short filtered_total)
unsampled=$(report_ctr short drop_captured_not_sampled)
if [ "$lost" = 0 ] && [ "${unsampled:-0}" -gt 0 ] && [ "${filtered:-0}" -ge "$unsampled" ]; then
  ok "-r 50: lost_total 0, filtered_total $filtered ($unsampled frames of sessions not chosen)"
else bad "-r 50 report" "lost_total=$lost filtered_total=$filtered drop_captured_not_sampled=$unsampled"; fi

# The copy namespace's kernel never saw the copied sessions. Conntrack is made
# active there from the start (rig_conntrack_arm; see the top of the rig) and
# proven to work with a control flow on its loopback, so a zero can't be vacuous.
if ct=$(rig_conntrack_untouched copy); then ok "no conntrack entry for copied sessions (control flow tracked)"
else bad conntrack "$ct"; fi

echo "e2e-local: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
