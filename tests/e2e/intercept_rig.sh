# The three-server rig of the remote response path, shared by tests/e2e/intercept_*.sh.
# Source it after lib/rig.sh and lib/replay_checks.sh (captures and counts); do not run it.
#
#   cli ── eth0 ── onl        "production": real clients against nginx/redis (198.18.0.2), captured
#   sw: bridge br0 with the ports pcopy, pcopy2, ptgt, passt, passt2 (one L2 segment)
#     copy  dp0  dpcopy -f 0, --ip 198.18.1.9 (net_af_packet, no kernel address)
#     copy2 dp0  dpcopy -f 1, --ip 198.18.1.10 (the two-instance case)
#     tgt   dp0  198.18.1.2: nginx :80 and redis :6379; routes the fake clients 198.19.0.0/16
#                to the assistant 198.18.1.7
#     asst  dp0  dpintercept --ip 198.18.1.7 (no kernel address)
#     asst2 dp0  a second assistant, dpintercept --ip 198.18.1.8 (the several-intercepts case)
# conntrack is armed in copy, copy2, asst and asst2 (rig_conntrack_arm) for rig_conntrack_untouched.
# Every name carries the rig's unique prefix; rig_cleanup removes it all.
# ICE_TGT_NGINX_EXTRA (optional): more nginx directives for the target only (RIG_NGINX_EXTRA).
# shellcheck shell=bash

ICE_FILTER='tcp and src host 198.18.1.2'

ice_rig() {  # ice_rig NAME
  rig_init "$1"
  local r
  for r in cli onl sw copy copy2 tgt asst asst2; do rig_add_ns $r || return 1; done
  rig_link cli eth0 onl eth0 || return 1
  rig_addr cli eth0 198.18.0.1/24; rig_addr onl eth0 198.18.0.2/24
  ip -n "$(rig_ns sw)" link add br0 type bridge && ip -n "$(rig_ns sw)" link set br0 up || return 1
  for r in copy copy2 tgt asst asst2; do
    rig_link "$r" dp0 sw "p$r" || return 1
    ip -n "$(rig_ns sw)" link set "p$r" master br0 || return 1
  done
  rig_addr tgt dp0 198.18.1.2/24
  ip -n "$(rig_ns tgt)" route add 198.19.0.0/16 via 198.18.1.7 || return 1
  for r in copy copy2 asst asst2; do rig_conntrack_arm $r || return 1; done
  rig_nginx onl 198.18.0.2 80 || return 1
  rig_redis onl 198.18.0.2 6379 >"$RIG_TMP/redis-onl.log" 2>&1 || return 1
  RIG_NGINX_EXTRA="${ICE_TGT_NGINX_EXTRA:-}" rig_nginx tgt 198.18.1.2 80 || return 1
  E2E_TGT_LOG=$RIG_NGINX_LOG
  rig_redis tgt 198.18.1.2 6379 >"$RIG_TMP/redis-tgt.log" 2>&1 || return 1
  ICE_RUN=0
}

# ice_intercept NAME [dpintercept options...]: starts dpintercept; PID in ICE_PID, output
# in NAME.out, EAL prefix in ICE_PREFIX. Fails if it is not running 2 s later (ICE_WAIT=0:
# do not wait; check with ice_intercept_alive). In the environment: ICE_ASST (role, asst),
# ICE_IP (its --ip, 198.18.1.7), ICE_FILTER (-F), ICE_ISTATS (--stats-interval, 0).
ice_intercept() {
  local name=$1; shift
  ICE_RUN=$((ICE_RUN + 1))
  ICE_PREFIX="${RIG_PREFIX}i$ICE_RUN"
  rig_bg "${ICE_ASST:-asst}" "$DPINTERCEPT" --no-huge -m 512 --no-pci -l 0 --file-prefix "$ICE_PREFIX" \
    --log-level 'lib.*:warning' --vdev net_af_packet0,iface=dp0 -- \
    --ip "${ICE_IP:-198.18.1.7}/24" -F "$ICE_FILTER" --stats-interval "${ICE_ISTATS:-0}" "$@" >"$RIG_TMP/$name.out" 2>&1
  ICE_PID=$RIG_LAST_PID
  [ "${ICE_WAIT:-2}" = 0 ] && return 0
  sleep "${ICE_WAIT:-2}"
  ice_intercept_alive "$ICE_PID" "$name"
}
# ice_intercept_alive PID NAME: fails (and shows NAME.out) when that dpintercept has exited.
ice_intercept_alive() { kill -0 "$1" 2>/dev/null || { cat "$RIG_TMP/$2.out" >&2; return 1; }; }

# ice_intercept_stop PID PREFIX SIGNAL: stops it (INT: summary and report) and waits.
ice_intercept_stop() {
  kill "-$3" "$1" 2>/dev/null
  for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  wait "$1" 2>/dev/null
  rm -rf "/var/run/dpdk/$2"
}

# ice_copy_cmd ROLE IP OUT NAME PORT [dpcopy options...]: prints nothing; sets ICE_CMD (array)
# to the dpcopy command replaying NAME.pcap from ROLE with --ip IP through the intercept.
# In the environment: ICE_STATS=S, a status line every S seconds (for a post-mortem);
# ICE_CLIENTS, the -c pool (198.19.0.0/16); ICE_INTERCEPTS, the -s list (198.18.1.7).
ice_copy_cmd() {
  local role=$1 ip=$2 out=$3 name=$4 port=$5; shift 5
  ICE_RUN=$((ICE_RUN + 1))
  ICE_COPY_PREFIX="${RIG_PREFIX}c$ICE_RUN"
  ICE_CMD=(ip netns exec "$(rig_ns "$role")" "$DPCOPY" --no-huge -m 512 --no-pci -l 0
    --file-prefix "$ICE_COPY_PREFIX" --log-level 'lib.*:warning' --vdev net_af_packet0,iface=dp0 --
    -i "$RIG_TMP/$name.pcap" -x "$port-198.18.1.2:$port" -c "${ICE_CLIENTS:-198.19.0.0/16}" --ip "$ip/24"
    -s "${ICE_INTERCEPTS:-198.18.1.7}" --stats-interval "${ICE_STATS:-0}" --report "$RIG_TMP/$out.json" "$@")
}

# ice_replay OUT NAME PORT [dpcopy options...]: replays NAME.pcap from copy (-f 0 unless
# given); output OUT.out, report OUT.json. Returns dpcopy's status.
ice_replay() {
  local out=$1; shift
  e2e_reset_target
  ice_copy_cmd copy 198.18.1.9 "$out" "$@"
  timeout 300 "${ICE_CMD[@]}" >"$RIG_TMP/$out.out" 2>&1
  local rc=$?
  rm -rf "/var/run/dpdk/$ICE_COPY_PREFIX"
  sleep 0.5  # nginx writes its log line after the response
  return $rc
}

# ice_control FILE: dpcopy's control counters as "key=value" lines, from the last
# "control: ..." line of its output (the summary), e.g. lost=0 restarts=1 strangers=2
# rejected=5 bad_mac=3 replayed=2 records=300.
ice_control() {
  python3 - "$1" <<'PY'
import re, sys
line = None
for l in open(sys.argv[1], errors="replace"):
    if re.search(r"\bcontrol: \d+ subscribes sent", l):
        line = l
if line is None:
    sys.exit(1)
m = re.search(r"(\d+) records, (\d+) datagrams lost, (\d+) intercept restarts, (?:\d+ resubscribed, )?"
              r"(\d+) rejected(?: \(([^)]*)\))?, "
              r"(\d+) from strangers", line)
if not m:
    sys.exit(1)
print(f"records={m[1]}\nlost={m[2]}\nrestarts={m[3]}\nrejected={m[4]}\nstrangers={m[6]}")
for item in (m[5] or "").split(", "):
    if item:
        k, v = item.rsplit(" ", 1)
        print(f"{k}={v}")
PY
}

# ice_telemetry PREFIX COMMAND: the JSON answer of a DPDK app's telemetry socket
# (/var/run/dpdk/PREFIX/dpdk_telemetry.v2; a Unix socket: no namespace needed).
ice_telemetry() { rig_telemetry "$@"; }
