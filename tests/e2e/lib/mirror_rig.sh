# The rig shared by tests/e2e/mirror_copy.sh and mirror_relay.sh (sourced after rig.sh and
# live_checks.sh; uses the caller's ok/bad):
#   cli ── eth0 ── onl      "production": ab and curl against the online nginx 198.18.0.2
#                           (MTU 1400 on that link, so an encapsulated frame fits the underlay).
#   onl:und0 198.18.5.1 ── copy:rx0   the underlay: dpcopy's RX port (net_af_packet0), whose
#                           MAC is left in RX_MAC.
#   copy:tx0 ── tgt:dp0     dpcopy's TX port (--ip 198.18.1.9) and the target nginx 198.18.1.2,
#                           which routes the fake clients 198.19.0.0/16 back to dpcopy.
# mirror_rig_up NAME makes it (removed at exit by rig.sh) and sets ONL_LOG and TGT_LOG.
mirror_rig_up() {
  local r
  rig_init "$1"
  for r in cli onl copy tgt; do rig_add_ns $r || return 1; done
  rig_link cli eth0 onl eth0 && rig_link onl und0 copy rx0 && rig_link copy tx0 tgt dp0 || return 1
  for r in cli onl; do ip -n "$(rig_ns $r)" link set eth0 mtu 1400; done
  rig_addr cli eth0 198.18.0.1/24; rig_addr onl eth0 198.18.0.2/24
  rig_addr onl und0 198.18.5.1/24
  rig_addr tgt dp0 198.18.1.2/24
  ip -n "$(rig_ns tgt)" route replace 198.19.0.0/16 via 198.18.1.9
  RX_MAC=$(ip -n "$(rig_ns copy)" -o link show rx0 | sed -nE 's/.*link\/ether ([0-9a-f:]+).*/\1/p')
  rig_exec onl tc qdisc add dev eth0 clsact || return 1
  rig_nginx onl 198.18.0.2 80 || return 1
  ONL_LOG=$RIG_NGINX_LOG
  rig_nginx tgt 198.18.1.2 80 || return 1
  TGT_LOG=$RIG_NGINX_LOG
  [ -n "${E2E_KEEP:-}" ] && trap 'mkdir -p "$E2E_KEEP"; cp -r "$RIG_TMP"/. "$E2E_KEEP"/; rig_cleanup' EXIT
  return 0
}

# mirror_to DEV...: the online port's frames, both directions, mirrored into those devices
mirror_to() {
  local dir dev
  for dir in ingress egress; do
    rig_exec onl tc filter del dev eth0 "$dir" 2>/dev/null
    local actions=()
    for dev in "$@"; do actions+=(action mirred egress mirror dev "$dev"); done
    rig_exec onl tc filter add dev eth0 "$dir" protocol all u32 match u32 0 0 "${actions[@]}" || return 1
  done
}

COPY_PID=""; COPY_OUT=""; COPY_REPORT=""; run_no=0
start_copy() {  # NAME [dpcopy options]
  local name=$1; shift
  run_no=$((run_no + 1))
  COPY_OUT="$RIG_TMP/$name.out"; COPY_REPORT="$RIG_TMP/$name.json"; COPY_PREFIX="dpcmirr$$_$run_no"
  rig_bg copy "$DPCOPY" --no-huge -m 512 --no-pci --lcores '(0-2)@(0-1)' --file-prefix "$COPY_PREFIX" \
    --log-level 'lib.*:warning' --vdev net_af_packet0,iface=rx0 --vdev net_af_packet1,iface=tx0 -- \
    -x 80-198.18.1.2:80 -c 198.19.0.0/16 --ip 198.18.1.9/24 --rx-port 0 --tx-port 1 \
    --stats-interval 1 --report "$COPY_REPORT" "$@" >"$COPY_OUT" 2>&1
  COPY_PID=$RIG_LAST_PID
  wait_copying "$name"
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
