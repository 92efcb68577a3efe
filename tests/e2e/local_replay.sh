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
REQS="$here/lib/requests_in_pcap.py"

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
rig_exec copy nft -f - <<'NFT' || exit 1
table inet dpce2e {
  chain pre { type filter hook prerouting priority 0; ct state new counter; }
  chain out { type filter hook output priority 0; ct state new counter; }
}
NFT
rig_nginx onl 198.18.0.2 80 || exit 1
rig_redis onl 198.18.0.2 6379 >"$RIG_TMP/redis-onl.log" 2>&1 || exit 1
rig_nginx tgt 198.18.1.2 80 || exit 1
TGT_LOG=$RIG_NGINX_LOG
rig_redis tgt 198.18.1.2 6379 >"$RIG_TMP/redis-tgt.log" 2>&1 || exit 1
# E2E_KEEP=DIR keeps the captures, outputs and logs for a post-mortem.
[ -n "${E2E_KEEP:-}" ] && trap 'mkdir -p "$E2E_KEEP"; cp -r "$RIG_TMP"/. "$E2E_KEEP"/; rig_cleanup' EXIT

# record NAME FILTER -- CMD...: runs CMD in cli while capturing on onl's side.
# A capture tcpdump dropped packets from is recorded again (at most 3 tries): the
# expected request list is read from the capture, so it must be whole.
record() {
  local name=$1 filter=$2 try drops; shift 3
  for try in 1 2 3; do
    rig_tcpdump onl eth0 "$RIG_TMP/$name.pcap" "$filter"
    local cap=$RIG_LAST_PID
    rig_exec cli "$@" >"$RIG_TMP/$name.client.log" 2>&1 || echo "record $name: client exited $?" >&2
    rig_tcpdump_stop "$cap"
    drops=$(rig_tcpdump_drops "$RIG_TMP/$name.pcap")
    [ "$drops" = 0 ] && return 0
    echo "record $name: tcpdump dropped $drops packets (try $try)" >&2
  done
  bad "record $name" "tcpdump kept dropping packets"
}

# replay NAME PORT [dpcopy options...]: replays the capture; output in NAME.out, report in NAME.json
run_no=0
replay() {
  local name=$1 port=$2; shift 2
  run_no=$((run_no + 1))
  local prefix="dpce2e$$_$run_no"
  : > "$TGT_LOG"
  rig_exec tgt redis-cli -h 198.18.1.2 CONFIG RESETSTAT >/dev/null
  timeout 300 ip netns exec "$(rig_ns copy)" "$DPCOPY" --no-huge -m 512 --no-pci -l 0 \
    --file-prefix "$prefix" --log-level 'lib.*:warning' --vdev net_af_packet0,iface=dp0 -- \
    -i "$RIG_TMP/$name.pcap" -x "$port-198.18.1.2:$port" -c 198.19.0.0/16 --ip 198.18.1.9/24 \
    --stats-interval 0 --report "$RIG_TMP/$name.json" "$@" >"$RIG_TMP/$name.out" 2>&1
  local rc=$?
  rm -rf "/var/run/dpdk/$prefix"
  sleep 0.5  # nginx writes its log line after the response
  cp "$TGT_LOG" "$RIG_TMP/$name.$run_no.access.log"
  return $rc
}

http_expected() { python3 "$REQS" "$RIG_TMP/$1.pcap" 80 | sort; }
http_got() { grep -E '^198\.19\.' "$TGT_LOG" | sed -E 's/^[^"]*"([^"]*)".*/\1/' | sort; }

# check_http CASE NAME [MULTIPLY]
check_http() {
  local case=$1 name=$2 mult=${3:-1} exp got
  exp=$(http_expected "$name" | awk -v m="$mult" '{for (i = 0; i < m; i++) print}' | sort)
  got=$(http_got)
  local n_exp n_got
  n_exp=$(printf '%s' "$exp" | grep -c . ); n_got=$(printf '%s' "$got" | grep -c . )
  if [ "$n_exp" -eq 0 ]; then bad "$case" "capture holds no request"; return; fi
  if [ "$exp" == "$got" ]; then ok "$case ($n_got of $n_exp requests)"; else
    bad "$case" "target served $n_got requests, capture holds $n_exp (x$mult)"
    diff <(echo "$exp" | uniq -c) <(echo "$got" | uniq -c) | head -10
    tail -5 "$RIG_TMP/$name.out"
  fi
}

redis_expected() { python3 "$REQS" "$RIG_TMP/$1.pcap" 6379 --proto redis | grep -vE '^(CONFIG|INFO)$' | tr 'A-Z' 'a-z' | sort | uniq -c | awk '{print $2"="$1}'; }
redis_got() {
  rig_exec tgt redis-cli -h 198.18.1.2 INFO commandstats | tr -d '\r' |
    sed -nE 's/^cmdstat_([a-z|]+):calls=([0-9]+).*/\1=\2/p' | grep -vE '^(config|info)' | sort
}

# ---- captures from real clients ------------------------------------------------
record keepalive "tcp port 80" -- ab -q -k -n 200 -c 4 http://198.18.0.2/
record short "tcp port 80" -- ab -q -n 100 -c 2 http://198.18.0.2/short
record large "tcp port 80" -- ab -q -n 20 -c 2 http://198.18.0.2/large
record curl "tcp port 80" -- curl -s -o /dev/null -o /dev/null -o /dev/null -o /dev/null \
  http://198.18.0.2/c1 http://198.18.0.2/c2 http://198.18.0.2/large http://198.18.0.2/c4
# EB-6: curl's keep-alive small / large / small, FIN right after the last response, 45
# connections overlapping (the FIN must wait for the target's whole response).
record curlkl "tcp port 80" -- bash -c 'for i in $(seq 45); do curl -s -o /dev/null -o /dev/null -o /dev/null \
  http://198.18.0.2/f$i-a http://198.18.0.2/large http://198.18.0.2/f$i-b & sleep 0.1; done; wait'
record redis "tcp port 6379" -- redis-benchmark -h 198.18.0.2 -n 300 -c 3 -t set,get,incr,lpush -q
record close "tcp port 80" -- wrk -t 1 -c 8 -d 2s -H 'Connection: close' http://198.18.0.2/w

# ---- replays -------------------------------------------------------------------
for name in keepalive short large curl curlkl close; do
  if replay "$name" 80 --speed 0; then check_http "$name --speed 0" "$name"; else bad "$name" "dpcopy exited $?"; tail -5 "$RIG_TMP/$name.out"; fi
done

if replay redis 6379 --speed 0; then
  exp=$(redis_expected redis); got=$(redis_got)
  if [ -n "$exp" ] && [ "$exp" == "$got" ]; then ok "redis ($(echo $got))"; else bad redis "expected [$(echo $exp)] got [$(echo $got)]"; fi
else bad redis "dpcopy exited $?"; fi

if replay keepalive 80 --speed 1; then check_http "keepalive --speed 1" keepalive; else bad "keepalive --speed 1" "dpcopy exited $?"; fi
if replay curlkl 80 --speed 1; then check_http "curlkl --speed 1" curlkl; else bad "curlkl --speed 1" "dpcopy exited $?"; fi
if replay short 80 --speed 0 -n 3; then check_http "short -n 3" short 3; else bad "short -n 3" "dpcopy exited $?"; fi

# -r 50: the same subset, twice
sub1=""; sub2=""
if replay short 80 --speed 0 -r 50; then sub1=$(http_got | wc -l); fi
if replay short 80 --speed 0 -r 50; then sub2=$(http_got | wc -l); fi
total=$(http_expected short | wc -l)
if [ -n "$sub1" ] && [ "$sub1" = "$sub2" ] && [ "$sub1" -gt 0 ] && [ "$sub1" -lt "$total" ]; then
  ok "-r 50 chose the same $sub1 of $total sessions twice"
else bad "-r 50" "runs served '$sub1' and '$sub2' of $total"; fi

# The copy namespace's kernel never saw the copied sessions. Conntrack is made
# active there from the start (an nftables ct rule; see the top of the rig) and
# proven to work with a control flow on its loopback, so a zero can't be vacuous.
if ct=$(rig_conntrack_untouched copy); then ok "no conntrack entry for copied sessions (control flow tracked)"
else bad conntrack "$ct"; fi

echo "e2e-local: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
