#!/usr/bin/env bash
# End-to-end over IPv6 (issue #18): offline replay with the local response path, onto an IPv6
# target, then the same capture onto an IPv4 target (family mapping), in namespaces.
#
#   tests/e2e/ipv6_replay.sh DPCOPY_BINARY
#
# Rig (all made here, all removed at exit; IPv6 unique local addresses, no DAD):
#   cli  ── eth0 ── onl      "production" over IPv6 only: curl -6 and ab against nginx on
#                            [fd77:30::2]:80, captured with tcpdump
#   copy ── dp0  ── tgt      dpcopy on net_af_packet over dp0 (no kernel address, IPv6 off in
#                            the copy namespace's kernel) and the target nginx on [fd77:40::2]:80
#                            and 198.18.1.2:80; the target routes the fake clients fd77:41::/64
#                            to dpcopy's --ip fd77:40::1 (resolved by NDP, answered by dpcopy)
#                            and 198.19.0.0/16 to its IPv4 --ip 198.18.1.9 (ARP); fake clients
#                            in fd77:40::1:0/112 are on its link (dpcopy answers their NDP).
# Then the reverse mapping: the kernel-written IPv4 capture tests/data/tcp_http.pcap onto the
# IPv6 target.
# Each case requires the target to serve exactly the requests the capture holds, to fake
# clients of the pool's family, and dpcopy's host counters to show the NDP it did.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
DPCOPY=$(realpath "$1")
source "$here/lib/rig.sh"
source "$here/lib/replay_checks.sh"

pass=0; fail=0
ok()  { echo "PASS $1"; pass=$((pass + 1)); }
bad() { echo "FAIL $1: $2"; fail=$((fail + 1)); }

rig_init e2e6
rig_add_ns cli && rig_add_ns onl && rig_add_ns copy && rig_add_ns tgt || exit 1
for r in cli onl copy tgt; do
  rig_exec "$r" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
    net.ipv6.conf.default.router_solicitations=0 net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.default.disable_ipv6=0
done
# the copy namespace's kernel stays out of IPv6 on dpcopy's port (no link-local, no NDP)
rig_exec copy sysctl -qw net.ipv6.conf.default.disable_ipv6=1
rig_link cli eth0 onl eth0 && rig_link copy dp0 tgt eth0 || exit 1
rig_exec copy sysctl -qw net.ipv6.conf.dp0.disable_ipv6=1
ip -n "$(rig_ns cli)" -6 addr add fd77:30::1/64 dev eth0 nodad
ip -n "$(rig_ns onl)" -6 addr add fd77:30::2/64 dev eth0 nodad
ip -n "$(rig_ns tgt)" -6 addr add fd77:40::2/64 dev eth0 nodad
rig_addr tgt eth0 198.18.1.2/24
ip -n "$(rig_ns tgt)" -6 route add fd77:41::/64 via fd77:40::1
ip -n "$(rig_ns tgt)" route add 198.19.0.0/16 via 198.18.1.9
rig_conntrack_arm copy || exit 1

# nginx listening on IPv6 (rig_nginx's own wait is IPv4's /dev/tcp: waited for with curl -6)
wait6() {  # ROLE URL
  for _ in $(seq 100); do rig_exec "$1" curl -6 -gs -o /dev/null --max-time 1 "$2" && return 0; sleep 0.1; done
  echo "nothing answers $2 in $1" >&2; return 1
}
rig_nginx onl '[fd77:30::2]' 80 2>/dev/null; wait6 cli 'http://[fd77:30::2]/' || exit 1
RIG_NGINX_EXTRA='listen [fd77:40::2]:80;' rig_nginx tgt 198.18.1.2 80 || exit 1
wait6 tgt 'http://[fd77:40::2]/' || exit 1
E2E_TGT_LOG=$RIG_NGINX_LOG
[ -n "${E2E_KEEP:-}" ] && trap 'mkdir -p "$E2E_KEEP"; cp -r "$RIG_TMP"/. "$E2E_KEEP"/; rig_cleanup' EXIT

# ---- captures from real IPv6 clients --------------------------------------------
e2e_record v6curl "tcp port 80" -- curl -6 -gs -o /dev/null -o /dev/null -o /dev/null \
  'http://[fd77:30::2]/a1' 'http://[fd77:30::2]/large' 'http://[fd77:30::2]/a3' || bad "record v6curl" "tcpdump dropped packets"
e2e_record v6ab "tcp port 80" -- ab -q -k -n 100 -c 4 'http://[fd77:30::2]/' || bad "record v6ab" "tcpdump dropped packets"
for name in v6curl v6ab; do
  n4=$(tcpdump -nn -r "$RIG_TMP/$name.pcap" ip 2>/dev/null | grep -c .)
  n6=$(tcpdump -nn -r "$RIG_TMP/$name.pcap" ip6 2>/dev/null | grep -c .)
  if [ "$n4" = 0 ] && [ "$n6" -gt 0 ]; then ok "capture $name: $n6 IPv6 frames, no IPv4"
  else bad "capture $name" "$n6 IPv6 and $n4 IPv4 frames"; fi
done

# replay NAME [dpcopy options...]: replays NAME.pcap; output in NAME.N.out, report NAME.N.json
run_no=0
replay() {
  local name=$1; shift
  run_no=$((run_no + 1))
  local prefix="dpce2e6$$_$run_no"
  : > "$E2E_TGT_LOG"
  timeout 300 ip netns exec "$(rig_ns copy)" "$DPCOPY" --no-huge -m 512 --no-pci -l 0 \
    --file-prefix "$prefix" --log-level 'lib.*:warning' --vdev net_af_packet0,iface=dp0 -- \
    -i "$RIG_TMP/$name.pcap" --stats-interval 0 --report "$RIG_TMP/$name.$run_no.json" "$@" \
    >"$RIG_TMP/$name.$run_no.out" 2>&1
  local rc=$?
  rm -rf "/var/run/dpdk/$prefix"
  sleep 0.5  # nginx writes its log line after the response
  return $rc
}
ctr() { sed -nE "s/.*\"$2\": ([0-9]+).*/\1/p" "$RIG_TMP/$1.json" | head -1; }  # NAME.N COUNTER

# check NAME CASE ADDR_REGEX: the target served exactly NAME.pcap's request lines, to fake
# clients matching ADDR_REGEX only
check() {
  local name=$1 case=$2 re=$3 exp got all
  exp=$(e2e_http_expected "$name")
  got=$(e2e_http_got 0 65535 "$re")
  all=$(grep -c . "$E2E_TGT_LOG")
  if [ -z "$exp" ]; then bad "$case" "the capture holds no request"; return; fi
  if [ "$exp" == "$got" ] && [ "$all" -eq "$(printf '%s\n' "$got" | grep -c .)" ]; then
    ok "$case ($(printf '%s\n' "$got" | grep -c .) requests, all from the pool)"
  else
    bad "$case" "target served $(printf '%s\n' "$got" | grep -c .) of $(printf '%s\n' "$exp" | grep -c .) requests from the pool, $all in all"
    diff <(echo "$exp" | uniq -c) <(echo "$got" | uniq -c) | head -6
    tail -12 "$RIG_TMP/$name.$run_no.out"
  fi
}

pool6='fd77:41:[0-9a-f:]+'
# onto the IPv6 target: v6curl with fake clients inside --ip's prefix (on the target's link:
# it solicits each one and dpcopy answers), v6ab with the routed pool
for name in v6curl v6ab; do
  if [ "$name" = v6curl ]; then pool=fd77:40::1:0/112 re='fd77:40::1:[0-9a-f]+'; else pool=fd77:41::/64 re=$pool6; fi
  if replay "$name" -x '80-[fd77:40::2]:80' -c "$pool" --ip fd77:40::1/64 --speed 0; then
    check "$name" "$name onto [fd77:40::2]:80, fake clients $pool" "$re"
    sol=$(ctr "$name.$run_no" ndp_solicitations_sent); res=$(ctr "$name.$run_no" ndp_resolved)
    adv=$(ctr "$name.$run_no" ndp_advertisements_sent)
    if [ "${sol:-0}" -ge 1 ] && [ "${res:-0}" -ge 1 ] && { [ "$name" != v6curl ] || [ "${adv:-0}" -ge 1 ]; }; then
      ok "$name: NDP: $sol solicitations, next hop resolved ($res), $adv advertisements"
    else bad "$name NDP" "ndp_solicitations_sent=$sol ndp_resolved=$res ndp_advertisements_sent=$adv"; fi
  else bad "$name onto IPv6" "dpcopy exited $?"; tail -8 "$RIG_TMP/$name.$run_no.out"; fi
done
# the same captures onto the IPv4 target: family mapping (a bare port with an IPv4 pool)
for name in v6curl v6ab; do
  if replay "$name" -x 80-198.18.1.2:80 -c 198.19.0.0/16 --ip 198.18.1.9/24 --speed 0; then
    check "$name" "$name onto 198.18.1.2:80 (IPv6 -> IPv4)" '198\.19\.[0-9.]+'
    mapped=$(ctr "$name.$run_no" sessions_family_mapped)
    if [ "${mapped:-0}" -ge 1 ]; then ok "$name: $mapped sessions family-mapped"
    else bad "$name mapped" "sessions_family_mapped=$mapped"; fi
  else bad "$name onto IPv4" "dpcopy exited $?"; tail -8 "$RIG_TMP/$name.$run_no.out"; fi
done
# -n 2 over IPv6
if replay v6ab -x '80-[fd77:40::2]:80' -c fd77:41::/64 --ip fd77:40::1/64 --speed 0 -n 2; then
  exp=$(e2e_http_expected v6ab | awk '{print; print}' | sort); got=$(e2e_http_got 0 65535 "$pool6")
  if [ "$exp" == "$got" ]; then ok "v6ab -n 2 ($(printf '%s\n' "$got" | grep -c .) requests)"
  else bad "v6ab -n 2" "target served $(printf '%s\n' "$got" | grep -c .), expected $(printf '%s\n' "$exp" | grep -c .)"; fi
else bad "v6ab -n 2" "dpcopy exited $?"; fi

# the reverse mapping: an IPv4 capture written by the kernel (tests/data/tcp_http.pcap, a curl
# to 198.18.0.2:8080) onto the IPv6 target, fake clients from the IPv6 pool
cp "$here/../data/tcp_http.pcap" "$RIG_TMP/v4http.pcap"
if replay v4http -x '8080-[fd77:40::2]:80' -c fd77:41::/64 --ip fd77:40::1/64 --speed 0; then
  exp=$(python3 "$E2E_REQS" "$RIG_TMP/v4http.pcap" 8080 | sort); got=$(e2e_http_got 0 65535 "$pool6")
  mapped=$(ctr "v4http.$run_no" sessions_family_mapped)
  if [ -n "$exp" ] && [ "$exp" == "$got" ] && [ "${mapped:-0}" -ge 1 ]; then
    ok "IPv4 capture onto [fd77:40::2]:80 (IPv4 -> IPv6): $(printf '%s\n' "$got" | grep -c .) requests, $mapped sessions mapped"
  else bad "IPv4 -> IPv6" "expected '$exp', served '$got', sessions_family_mapped=$mapped"; tail -8 "$RIG_TMP/v4http.$run_no.out"; fi
else bad "IPv4 -> IPv6" "dpcopy exited $?"; tail -8 "$RIG_TMP/v4http.$run_no.out"; fi

if ct=$(rig_conntrack_untouched copy); then ok "no conntrack entry for copied sessions (control flow tracked)"
else bad conntrack "$ct"; fi

echo "e2e-ipv6: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
