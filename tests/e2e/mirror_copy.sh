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
# 4-tuple. Every frame dpcopy reads is a VXLAN datagram made by the kernel. For each load the target
# must serve exactly the online server's requests (times -n); the report must count the
# decapsulated frames and, with two mirror sessions and vni=43, the other session's frames
# as not selected (filtered), nothing lost to decapsulation.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
DPCOPY=$(realpath "$1")
source "$here/lib/rig.sh"
source "$here/lib/live_checks.sh"
pass=0; fail=0
ok()  { echo "PASS $1"; pass=$((pass + 1)); }
bad() { echo "FAIL $1: $2"; fail=$((fail + 1)); }

rig_init mirr
for r in cli onl copy tgt; do rig_add_ns $r || exit 1; done
rig_link cli eth0 onl eth0 && rig_link onl und0 copy rx0 && rig_link copy tx0 tgt dp0 || exit 1
for r in cli onl; do ip -n "$(rig_ns $r)" link set eth0 mtu 1400; done
rig_addr cli eth0 198.18.0.1/24; rig_addr onl eth0 198.18.0.2/24
rig_addr onl und0 198.18.5.1/24
rig_addr tgt dp0 198.18.1.2/24
ip -n "$(rig_ns tgt)" route replace 198.19.0.0/16 via 198.18.1.9
RX_MAC=$(ip -n "$(rig_ns copy)" -o link show rx0 | sed -nE 's/.*link\/ether ([0-9a-f:]+).*/\1/p')
ip -n "$(rig_ns onl)" neigh replace 198.18.5.2 lladdr "$RX_MAC" dev und0 nud permanent || exit 1
for vni in 42 43; do
  ip -n "$(rig_ns onl)" link add vx$vni type vxlan id $vni local 198.18.5.1 remote 198.18.5.2 dstport 4789 dev und0 || exit 1
  rig_exec onl ethtool -K vx$vni tso off gso off tx off >/dev/null 2>&1
  ip -n "$(rig_ns onl)" link set vx$vni up
done
rig_exec onl tc qdisc add dev eth0 clsact || exit 1
# mirror_to VNI...: the online port's frames, both directions, into those vxlan devices
mirror_to() {
  local dir vni
  for dir in ingress egress; do
    rig_exec onl tc filter del dev eth0 "$dir" 2>/dev/null
    local actions=()
    for vni in "$@"; do actions+=(action mirred egress mirror dev "vx$vni"); done
    rig_exec onl tc filter add dev eth0 "$dir" protocol all u32 match u32 0 0 "${actions[@]}" || return 1
  done
}
rig_nginx onl 198.18.0.2 80 || exit 1
ONL_LOG=$RIG_NGINX_LOG
rig_nginx tgt 198.18.1.2 80 || exit 1
TGT_LOG=$RIG_NGINX_LOG
[ -n "${E2E_KEEP:-}" ] && trap 'mkdir -p "$E2E_KEEP"; cp -r "$RIG_TMP"/. "$E2E_KEEP"/; rig_cleanup' EXIT


COPY_PID=""; COPY_OUT=""; COPY_REPORT=""; run_no=0
start_copy() {  # NAME [dpcopy options]
  local name=$1 i; shift
  run_no=$((run_no + 1))
  COPY_OUT="$RIG_TMP/$name.out"; COPY_REPORT="$RIG_TMP/$name.json"; COPY_PREFIX="dpcmirr$$_$run_no"
  rig_bg copy "$DPCOPY" --no-huge -m 512 --no-pci --lcores '(0-2)@(0-1)' --file-prefix "$COPY_PREFIX" \
    --log-level 'lib.*:warning' --vdev net_af_packet0,iface=rx0 --vdev net_af_packet1,iface=tx0 -- \
    -x 80-198.18.1.2:80 -c 198.19.0.0/16 --ip 198.18.1.9/24 --rx-port 0 --tx-port 1 \
    --stats-interval 1 --report "$COPY_REPORT" "$@" >"$COPY_OUT" 2>&1
  COPY_PID=$RIG_LAST_PID
  for i in $(seq 600); do
    grep -q "; copying" "$COPY_OUT" && return 0
    kill -0 "$COPY_PID" 2>/dev/null || break
    sleep 0.1
  done
  bad "$name" "dpcopy did not start copying"; tail -5 "$COPY_OUT"; stop_copy; return 1
}

# check_report CASE PYTHON-EXPR: the expression over `m` (report["mirror"]), `r` (the report)
check_report() {
  if python3 - "$COPY_REPORT" "$2" <<'PY'; then ok "$1"; else bad "$1" "report: $(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r.get("mirror"), r.get("lost"), r.get("filtered"))' "$COPY_REPORT" 2>&1)"; fi
import json, sys
r = json.load(open(sys.argv[1]))
m = r["mirror"]
sys.exit(0 if eval(sys.argv[2]) else 1)
PY
}

run_case() {  # NAME MULT [dpcopy options]
  local name=$1 mult=$2; shift 2
  start_copy "$name" -n "$mult" "$@" || return 1
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
mirror_to 42 || exit 1
if run_case vxlan_auto 1; then
  check_report "vxlan_auto: report counts VXLAN frames, no reject, nothing lost" \
    'm["decap_vxlan"] > 600 and all(v == 0 for k, v in m.items() if k.startswith("reject_")) and not any(k.startswith("mirror_") for k in r["lost"])'
fi

# ---- two sessions (VNI 42 and 43 carry the same frames), vni=43 keeps one, -n 2 ---------
mirror_to 42 43 || exit 1
if run_case vxlan_two_sessions 2 --mirror-encap vxlan,vni=43; then
  check_report "vxlan_two_sessions: VNI 42 not selected (filtered), as many as VNI 43 taken" \
    'm["reject_not_selected"] > 600 and abs(m["reject_not_selected"] - m["decap_vxlan"]) <= m["decap_vxlan"] // 20 and r["filtered"].get("mirror_reject_not_selected") == m["reject_not_selected"]'
fi

echo "e2e-mirror: $pass passed, $fail failed"
[ $fail -eq 0 ]
