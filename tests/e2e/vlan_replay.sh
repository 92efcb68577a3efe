#!/usr/bin/env bash
# End-to-end: --vlan (issue #19), offline replay with the local response path, the target
# behind a VLAN sub-interface.
#
#   tests/e2e/vlan_replay.sh DPCOPY_BINARY
#
# Rig (all made here, all removed at exit):
#   cli  ── eth0 ── onl      "production": real clients against nginx, captured with tcpdump
#   copy ── dp0  ── tgt      dpcopy on net_af_packet over dp0; the target's eth0 has no address:
#                            198.18.1.2 (nginx) lives on a VLAN sub-interface of it, which routes
#                            the fake clients 198.19.0.0/16 to dpcopy's --ip 198.18.1.9.
# The sub-interface is the kernel's (`ip link add link eth0 name eth0.100 type vlan id 100`;
# QinQ: `type vlan protocol 802.1ad id 10`, then `type vlan id 20` on it) or, on a kernel
# without 802.1Q, a tap device fed by lib/vlanrelay.py, which takes only frames carrying
# exactly its tags. So the target can only answer what dpcopy sent tagged, and dpcopy only
# hears the target if it accepts tagged frames; the target must serve exactly the captured
# requests. Frames untagged and with another VLAN are sent to dpcopy meanwhile: they must
# be counted (drop_rx_vlan), not answered.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
DPCOPY=$(realpath "$1")
source "$here/lib/rig.sh"
source "$here/lib/replay_checks.sh"

pass=0; fail=0
ok()  { echo "PASS $1"; pass=$((pass + 1)); }
bad() { echo "FAIL $1: $2"; fail=$((fail + 1)); }

rig_init e2ev
rig_add_ns cli && rig_add_ns onl && rig_add_ns copy && rig_add_ns tgt || exit 1
rig_link cli eth0 onl eth0 && rig_link copy dp0 tgt eth0 || exit 1
rig_addr cli eth0 198.18.0.1/24
rig_addr onl eth0 198.18.0.2/24
# room for two tags on full-size frames (a veth takes MTU + 14 + one tag)
ip -n "$(rig_ns copy)" link set dp0 mtu 1600
ip -n "$(rig_ns tgt)" link set eth0 mtu 1600
rig_exec tgt sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
rig_nginx onl 198.18.0.2 80 || exit 1
[ -n "${E2E_KEEP:-}" ] && trap 'mkdir -p "$E2E_KEEP"; cp -r "$RIG_TMP"/. "$E2E_KEEP"/; rig_cleanup' EXIT

# vlan_up NAME TAG...: the target's sub-interface with 198.18.1.2/24 (TAG = TPID:VID, outer
# first); the kernel's when it can, else a relay. Sets VLAN_IF (the interface) and
# VLAN_RELAY (the relay's PID, empty for the kernel's).
VLAN_IF=""; VLAN_RELAY=""
vlan_up() {
  local name=$1; shift
  local ns; ns=$(rig_ns tgt)
  VLAN_RELAY=""
  if [ $# -eq 1 ] && ip -n "$ns" link add link eth0 name "eth0.${1#*:}" type vlan id "${1#*:}" 2>/dev/null; then
    VLAN_IF="eth0.${1#*:}"
  elif [ $# -eq 2 ] && ip -n "$ns" link add link eth0 name "eth0.${1#*:}" type vlan protocol 802.1ad id "${1#*:}" 2>/dev/null &&
       ip -n "$ns" link add link "eth0.${1#*:}" name "eth0.${1#*:}.${2#*:}" type vlan id "${2#*:}" 2>/dev/null; then
    ip -n "$ns" link set "eth0.${1#*:}" up
    VLAN_IF="eth0.${1#*:}.${2#*:}"
  else
    VLAN_IF=$name
    rig_bg tgt python3 "$here/lib/vlanrelay.py" "$name" eth0 "$@"
    VLAN_RELAY=$RIG_LAST_PID
    for _ in $(seq 50); do ip -n "$ns" link show "$name" >/dev/null 2>&1 && break; sleep 0.1; done
    ip -n "$ns" link set "$name" mtu 1400
  fi
  echo "sub-interface $VLAN_IF (${VLAN_RELAY:+relay, }tags $*)"
  ip -n "$ns" link set "$VLAN_IF" up || return 1
  ip -n "$ns" addr add 198.18.1.2/24 dev "$VLAN_IF" || return 1
  ip -n "$ns" route add 198.19.0.0/16 via 198.18.1.9
}
vlan_down() {
  local ns; ns=$(rig_ns tgt)
  if [ -n "$VLAN_RELAY" ]; then
    kill "$VLAN_RELAY" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$VLAN_RELAY" 2>/dev/null || break; sleep 0.1; done
  else
    ip -n "$ns" link del "$VLAN_IF" 2>/dev/null
    ip -n "$ns" link del eth0.10 2>/dev/null
  fi
  for _ in $(seq 50); do ip -n "$ns" link show "$VLAN_IF" >/dev/null 2>&1 || break; sleep 0.1; done
}

# strangers: what dpcopy must refuse on its --vlan port while it runs: ARP requests for its
# --ip, untagged and in VLAN 101, from the target's eth0 every 100 ms (PID in RIG_LAST_PID).
strangers() {
  [ -f "$RIG_TMP/strangers.py" ] || cat >"$RIG_TMP/strangers.py" <<'PY'
import socket, struct, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("eth0", 0))
mac = bytes.fromhex("02aabbccdd01")
arp = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, mac, bytes([198, 18, 1, 77]), b"\0" * 6, bytes([198, 18, 1, 9]))
bcast = b"\xff" * 6 + mac
while True:
    s.send(bcast + b"\x08\x06" + arp)                      # untagged
    s.send(bcast + b"\x81\x00\x00\x65" + b"\x08\x06" + arp)  # VLAN 101
    time.sleep(0.1)
PY
  rig_bg tgt python3 "$RIG_TMP/strangers.py"
}

# replay NAME VLAN [dpcopy options...]: replays NAME.pcap with --vlan VLAN; output in
# NAME.out, report in NAME.json
run_no=0
replay() {
  local name=$1 vlan=$2; shift 2
  run_no=$((run_no + 1))
  local prefix="dpce2ev$$_$run_no" junk
  : > "$E2E_TGT_LOG"
  strangers; junk=$RIG_LAST_PID
  timeout 300 ip netns exec "$(rig_ns copy)" "$DPCOPY" --no-huge -m 512 --no-pci -l 0 \
    --file-prefix "$prefix" --log-level 'lib.*:warning' --vdev net_af_packet0,iface=dp0 -- \
    -i "$RIG_TMP/$name.pcap" -x "80-198.18.1.2:80" -c 198.19.0.0/16 --ip 198.18.1.9/24 --vlan "$vlan" \
    --stats-interval 0 --report "$RIG_TMP/$name.json" "$@" >"$RIG_TMP/$name.out" 2>&1
  local rc=$?
  kill "$junk" 2>/dev/null
  rm -rf "/var/run/dpdk/$prefix"
  sleep 0.5  # nginx writes its log line after the response
  return $rc
}
report_ctr() { sed -nE "s/.*\"$2\": ([0-9]+).*/\1/p" "$RIG_TMP/$1.json" | head -1; }

# check NAME CASE: every captured request served, nothing lost, strangers counted
check() {
  local name=$1 case=$2 lost strays resolved
  e2e_check_http "$case" "$name" "$name"
  lost=$(report_ctr "$name" lost_total); strays=$(report_ctr "$name" drop_rx_vlan)
  resolved=$(report_ctr "$name" arp_resolved)
  if [ "$lost" = 0 ] && [ "${strays:-0}" -gt 0 ] && [ "${resolved:-0}" -ge 1 ]; then
    ok "$case: lost_total 0, $strays untagged or VLAN 101 frames counted drop_rx_vlan, next hop resolved by tagged ARP ($resolved)"
  else bad "$case report" "lost_total=$lost drop_rx_vlan=$strays arp_resolved=$resolved"; tail -5 "$RIG_TMP/$name.out"; fi
}

# ---- captures from real clients (lib/replay_checks.sh: e2e_capture) ---------------
for name in short curl; do
  e2e_capture "$name" || bad "record $name" "tcpdump kept dropping packets"
done

# ---- 802.1Q: --vlan 100 ---------------------------------------------------------
vlan_up vlan100 8100:100 || { bad "vlan 100" "no sub-interface"; exit 1; }
rig_nginx tgt 198.18.1.2 80 || exit 1
E2E_TGT_LOG=$RIG_NGINX_LOG
if replay short 100 --speed 0; then check short "--vlan 100: short"; else bad "--vlan 100" "dpcopy exited $?"; tail -5 "$RIG_TMP/short.out"; fi
vlan_down

# ---- QinQ: --vlan 10,20 (outer 802.1ad 10, inner 802.1Q 20) ---------------------------
# nginx keeps listening on 198.18.1.2, which comes back on the new sub-interface
vlan_up qinq 88a8:10 8100:20 || { bad "qinq" "no sub-interface"; exit 1; }
if replay curl 10,20 --speed 0; then check curl "--vlan 10,20: curl"; else bad "--vlan 10,20" "dpcopy exited $?"; tail -5 "$RIG_TMP/curl.out"; fi
vlan_down

echo "e2e-vlan: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
