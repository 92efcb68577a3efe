#!/usr/bin/env bash
# End-to-end: LIVE copying from a remote mirror in VXLAN (issue #19), in namespaces.
#
#   tests/e2e/mirror_copy.sh DPCOPY_BINARY
#
# Rig (all made here, all removed at exit):
#   cli ── eth0 ── onl      "production": ab and curl against the online nginx 198.18.0.2
#                           (MTU 1400 on that link, so an encapsulated frame fits the underlay).
#            onl:eth0 is mirrored (tc clsact + u32 + mirred, ingress and egress) into the
#            kernel's vxlan devices vx42 (VNI 42) and, in the second case, vx43 (VNI 43),
#            both UDP 4789 over the underlay onl:und0 198.18.5.1 ── copy:rx0, dpcopy's RX
#            port (net_af_packet0, no address: a static neighbour entry points the tunnels
#            at it).
#   copy:tx0 ── tgt:dp0     dpcopy's TX port (--ip 198.18.1.9) and the target nginx 198.18.1.2,
#                           which routes the fake clients 198.19.0.0/16 back to dpcopy.
# dpcopy runs two workers: worker 0 reads the mirror, decapsulates and shards by the inner
# 4-tuple. Every frame dpcopy reads is a VXLAN datagram made by the kernel (the last case,
# --mirror-ip, removes the static neighbour entry: the kernel must learn dpcopy's RX port by ARP). For each load the target
# must serve exactly the online server's requests (times -n); the report must count the
# decapsulated frames and, with two mirror sessions and vni=43, the other session's frames
# as not selected (filtered), nothing lost to decapsulation.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
DPCOPY=$(realpath "$1")
source "$here/lib/rig.sh"
source "$here/lib/live_checks.sh"
source "$here/lib/mirror_rig.sh"
pass=0; fail=0
ok()  { echo "PASS $1"; pass=$((pass + 1)); }
bad() { echo "FAIL $1: $2"; fail=$((fail + 1)); }

mirror_rig_up mirr || exit 1
ip -n "$(rig_ns onl)" neigh replace 198.18.5.2 lladdr "$RX_MAC" dev und0 nud permanent || exit 1
for vni in 42 43; do
  ip -n "$(rig_ns onl)" link add vx$vni type vxlan id $vni local 198.18.5.1 remote 198.18.5.2 dstport 4789 dev und0 || exit 1
  rig_exec onl ethtool -K vx$vni tso off gso off tx off >/dev/null 2>&1
  ip -n "$(rig_ns onl)" link set vx$vni up
done

run_case() {  # NAME MULT [dpcopy options]
  local name=$1 mult=$2; shift 2
  start_copy "$name" -n "$mult" "$@" || return 1
  [ -n "${BEFORE_LOADS:-}" ] && "$BEFORE_LOADS" "$name"
  load "$name: ab -k" "$mult" ab -q -k -n 200 -c 4 http://198.18.0.2/
  load "$name: ab short connections" "$mult" ab -q -n 100 -c 2 http://198.18.0.2/short
  load "$name: curl, large responses" "$mult" bash -c 'for i in 1 2 3 4 5; do curl -s -o /dev/null http://198.18.0.2/large; done'
  local tel; tel=$(rig_telemetry "$COPY_PREFIX" /dpcopy/stats 2>&1)
  if python3 -c 'import json,sys; st=json.loads(sys.argv[1])["/dpcopy/stats"]; sys.exit(0 if st["mirror_decap_vxlan"] > 0 and st["rx_captured"] > 0 else 1)' "$tel"
  then ok "$name: /dpcopy/stats counts decapsulated frames"; else bad "$name" "telemetry: ${tel:0:300}"; fi
  if stop_copy; then ok "$name: dpcopy stopped by SIGINT, status 0"
  else bad "$name" "dpcopy exited $? after SIGINT"; tail -5 "$COPY_OUT"; fi
}

# ---- one VXLAN mirror session, --mirror-encap left at auto ----------------------------
mirror_to vx42 || exit 1
if run_case vxlan_auto 1; then
  check_report "vxlan_auto: report counts VXLAN frames, no reject, nothing lost" \
    'm["decap_vxlan"] > 600 and all(v == 0 for k, v in m.items() if k.startswith("reject_")) and not any(k.startswith("mirror_") for k in r["lost"])'
fi

# ---- two sessions (VNI 42 and 43 carry the same frames), vni=43 keeps one, -n 2 ---------
mirror_to vx42 vx43 || exit 1
if run_case vxlan_two_sessions 2 --mirror-encap vxlan,vni=43; then
  check_report "vxlan_two_sessions: VNI 42 not selected (filtered), as many as VNI 43 taken" \
    'm["reject_not_selected"] > 600 and abs(m["reject_not_selected"] - m["decap_vxlan"]) <= m["decap_vxlan"] // 20 and r["filtered"].get("mirror_reject_not_selected") == m["reject_not_selected"]'
fi

# ---- --mirror-ip: no static neighbour entry, the kernel resolves 198.18.5.2 by ARP -------
mirror_to vx42 || exit 1
ip -n "$(rig_ns onl)" neigh del 198.18.5.2 dev und0 || exit 1
if [ -z "$(ip -n "$(rig_ns onl)" neigh show 198.18.5.2 dev und0)" ]; then ok "mirror_ip: no neighbour entry for the tunnel's remote before"
else bad mirror_ip "a neighbour entry is left: $(ip -n "$(rig_ns onl)" neigh show 198.18.5.2 dev und0)"; fi
# The kernel holds a few frames while it resolves the tunnel's remote and drops the oldest
# beyond that: a burst of ab -k mirrored before dpcopy's ARP reply would lose its SYNs. A
# real mirror source resolves once, long before; so does this one, with a ping mirrored
# into the tunnel before the loads.
resolve_tunnel_remote() {
  local neigh=""
  for _ in $(seq 50); do
    rig_exec cli ping -c 1 -W 0.2 198.18.0.2 >/dev/null 2>&1
    neigh=$(ip -n "$(rig_ns onl)" neigh show 198.18.5.2 dev und0)
    grep -q "lladdr $RX_MAC" <<<"$neigh" && { ok "$1: ARP resolved the tunnel's remote to dpcopy's mirror port before the loads"; return; }
    sleep 0.1
  done
  bad "$1" "the tunnel's remote is not resolved: '$neigh'"
}
BEFORE_LOADS=resolve_tunnel_remote
if run_case mirror_ip 1 --mirror-ip 198.18.5.2/24; then
  neigh=$(ip -n "$(rig_ns onl)" neigh show 198.18.5.2 dev und0)
  if grep -q "lladdr $RX_MAC" <<<"$neigh" && ! grep -q PERMANENT <<<"$neigh"; then ok "mirror_ip: the kernel learnt dpcopy's mirror port by ARP ($neigh)"
  else bad mirror_ip "neighbour entry: '$neigh', RX port $RX_MAC"; fi
  check_report "mirror_ip: ARP answered on the mirror port, VXLAN frames taken, no reject" \
    'r["io"]["mirror_arp_replies"] >= 1 and m["decap_vxlan"] > 600 and all(v == 0 for k, v in m.items() if k.startswith("reject_"))'
fi

echo "e2e-mirror: $pass passed, $fail failed"
[ $fail -eq 0 ]
