#!/usr/bin/env bash
# End-to-end: offline replay with the REMOTE response path (the seed's three servers).
#
#   tests/e2e/intercept_replay.sh DPCOPY_BINARY DPINTERCEPT_BINARY
#
# copy, target and assistant share one L2 segment (a bridge in a "sw" namespace).
# The target routes the fake clients 198.19.0.0/16 to the assistant 198.18.1.7, whose
# veth has no kernel address: dpintercept owns it (net_af_packet), answers ARP, captures
# the target's responses and returns their headers to dpcopy (-s) over the control ring.
# The target must serve exactly the requests the captures hold.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
DPCOPY=$(realpath "$1"); DPINTERCEPT=$(realpath "$2")
source "$here/lib/rig.sh"
REQS="$here/lib/requests_in_pcap.py"
pass=0; fail=0
ok()  { echo "PASS $1"; pass=$((pass + 1)); }
bad() { echo "FAIL $1: $2"; fail=$((fail + 1)); }

rig_init ice
for r in cli onl sw copy tgt asst; do rig_add_ns $r || exit 1; done
rig_link cli eth0 onl eth0 || exit 1
rig_addr cli eth0 198.18.0.1/24; rig_addr onl eth0 198.18.0.2/24
ip -n "$(rig_ns sw)" link add br0 type bridge && ip -n "$(rig_ns sw)" link set br0 up || exit 1
for r in copy tgt asst; do
  rig_link "$r" dp0 sw "p$r" || exit 1
  ip -n "$(rig_ns sw)" link set "p$r" master br0
done
rig_addr tgt dp0 198.18.1.2/24
ip -n "$(rig_ns tgt)" route add 198.19.0.0/16 via 198.18.1.7
rig_nginx onl 198.18.0.2 80 || exit 1
rig_nginx tgt 198.18.1.2 80 || exit 1
TGT_LOG=$RIG_NGINX_LOG

rig_bg asst "$DPINTERCEPT" --no-huge -m 512 --no-pci -l 0 --file-prefix "dpcice$$" \
  --log-level 'lib.*:warning' --vdev net_af_packet0,iface=dp0 -- \
  --ip 198.18.1.7/24 -F 'tcp and src host 198.18.1.2' --stats-interval 0 >"$RIG_TMP/intercept.out" 2>&1
ICE_PID=$RIG_LAST_PID
sleep 2
kill -0 "$ICE_PID" 2>/dev/null || { cat "$RIG_TMP/intercept.out"; bad dpintercept "exited at start"; echo "e2e-intercept: $pass passed, $fail failed"; exit 1; }

record() {  # NAME CMD...
  local name=$1; shift
  rig_tcpdump onl eth0 "$RIG_TMP/$name.pcap" "tcp port 80"; local cap=$RIG_LAST_PID
  rig_exec cli "$@" >/dev/null 2>&1
  rig_tcpdump_stop "$cap"
  [ "$(rig_tcpdump_drops "$RIG_TMP/$name.pcap")" = 0 ] || bad "record $name" "tcpdump dropped packets"
}
run_no=0
replay() {  # NAME [dpcopy options]
  local name=$1; shift; run_no=$((run_no + 1))
  : > "$TGT_LOG"
  timeout 300 ip netns exec "$(rig_ns copy)" "$DPCOPY" --no-huge -m 512 --no-pci -l 0 \
    --file-prefix "dpcicc$$_$run_no" --log-level 'lib.*:warning' --vdev net_af_packet0,iface=dp0 -- \
    -i "$RIG_TMP/$name.pcap" -x 80-198.18.1.2:80 -c 198.19.0.0/16 --ip 198.18.1.9/24 \
    -s 198.18.1.7 --stats-interval 0 "$@" >"$RIG_TMP/$name.$run_no.out" 2>&1
  local rc=$?
  rm -rf "/var/run/dpdk/dpcicc$$_$run_no"
  sleep 0.5
  return $rc
}
check() {  # CASE NAME [MULT]
  local exp got mult=${3:-1}
  exp=$(python3 "$REQS" "$RIG_TMP/$2.pcap" 80 | awk -v m="$mult" '{for (i = 0; i < m; i++) print}' | sort)
  got=$(grep -E '^198\.19\.' "$TGT_LOG" | sed -E 's/^[^"]*"([^"]*)".*/\1/' | sort)
  if [ -n "$exp" ] && [ "$exp" == "$got" ]; then ok "$1 ($(echo "$got" | wc -l) requests)"
  else bad "$1" "target served $(echo "$got" | grep -c .) of $(echo "$exp" | grep -c .)"; tail -4 "$RIG_TMP/$2.$run_no.out"; fi
}

record keepalive ab -q -k -n 100 -c 2 http://198.18.0.2/
record short ab -q -n 50 -c 2 http://198.18.0.2/short
if replay keepalive --speed 0; then check "intercept: keep-alive" keepalive; else bad "intercept: keep-alive" "dpcopy exited $?"; tail -4 "$RIG_TMP/keepalive.$run_no.out"; fi
if replay short --speed 0; then check "intercept: short connections" short; else bad "intercept: short" "dpcopy exited $?"; tail -4 "$RIG_TMP/short.$run_no.out"; fi
if replay short --speed 0 -n 2; then check "intercept: short -n 2" short 2; else bad "intercept: -n 2" "dpcopy exited $?"; fi

kill -INT "$ICE_PID"; for _ in $(seq 50); do kill -0 "$ICE_PID" 2>/dev/null || break; sleep 0.1; done
rm -rf "/var/run/dpdk/dpcice$$"
grep -q "dpintercept" "$RIG_TMP/intercept.out" && ok "dpintercept ran and stopped on SIGINT" || bad dpintercept "no output"
echo "e2e-intercept: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
