#!/usr/bin/env bash
# End-to-end: LIVE copying from a mirror port, in namespaces.
#
#   tests/e2e/live_copy.sh DPCOPY_BINARY DPINTERCEPT_BINARY
#
# Rig (all made here, all removed at exit):
#   cli ── eth0 ── onl            "production": ab against the online nginx 198.18.0.2.
#                  onl:eth0 is mirrored (tc clsact + u32 + mirred, ingress and egress)
#                  onl:mir0 ── copy:rx0   onto dpcopy's RX port (net_af_packet0).
#   copy:tx0, tgt:dp0, asst:dp0 on one bridge (namespace sw): dpcopy's TX port
#                  (net_af_packet1, no kernel address, --ip 198.18.1.9), the target nginx
#                  198.18.1.2, the assistant 198.18.1.7 (dpintercept owns its veth).
# The target routes the fake clients 198.19.0.0/16 to dpcopy (local responses) or to
# the assistant (responses through dpintercept, -s). For each load the target must
# serve exactly the online server's requests: the same request lines, the same count
# (times -n). dpcopy runs until SIGINT, as in production, and must exit 0.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
DPCOPY=$(realpath "$1"); DPINTERCEPT=$(realpath "$2")
source "$here/lib/rig.sh"
source "$here/lib/live_checks.sh"
pass=0; fail=0
ok()  { echo "PASS $1"; pass=$((pass + 1)); }
bad() { echo "FAIL $1: $2"; fail=$((fail + 1)); }

rig_init live
for r in cli onl sw copy tgt asst; do rig_add_ns $r || exit 1; done
rig_link cli eth0 onl eth0 && rig_link onl mir0 copy rx0 || exit 1
rig_addr cli eth0 198.18.0.1/24; rig_addr onl eth0 198.18.0.2/24
# The "production" link keeps the kernel's defaults (TSO, GSO, GRO, checksum offload), as
# an unprepared host has them: the mirror then carries super-segments and unfilled
# checksums, which dpcopy must handle. (rig_link turned them off.)
for r in cli onl; do rig_exec $r ethtool -K eth0 tso on gso on gro on tx on >/dev/null 2>&1; done
rig_exec onl ethtool -K mir0 tso on gso on tx on >/dev/null 2>&1
ip -n "$(rig_ns sw)" link add br0 type bridge && ip -n "$(rig_ns sw)" link set br0 up || exit 1
rig_link copy tx0 sw pcopy && rig_link tgt dp0 sw ptgt && rig_link asst dp0 sw passt || exit 1
for p in pcopy ptgt passt; do ip -n "$(rig_ns sw)" link set "$p" master br0; done
rig_addr tgt dp0 198.18.1.2/24
# The mirror: every frame in and out of the online server's port, copied onto mir0.
rig_exec onl tc qdisc add dev eth0 clsact || exit 1
for dir in ingress egress; do
  rig_exec onl tc filter add dev eth0 "$dir" protocol all u32 match u32 0 0 \
    action mirred egress mirror dev mir0 || exit 1
done
rig_conntrack_arm copy || exit 1
rig_nginx onl 198.18.0.2 80 || exit 1
ONL_LOG=$RIG_NGINX_LOG
rig_nginx tgt 198.18.1.2 80 || exit 1
TGT_LOG=$RIG_NGINX_LOG
[ -n "${E2E_KEEP:-}" ] && trap 'mkdir -p "$E2E_KEEP"; cp -r "$RIG_TMP"/. "$E2E_KEEP"/; rig_cleanup' EXIT


# start_copy NAME LCORES QPAIRS [dpcopy options]: dpcopy in the background until stop_copy.
COPY_PID=""; COPY_OUT=""; run_no=0
start_copy() {
  local name=$1 lcores=$2 qp=$3; shift 3
  run_no=$((run_no + 1))
  COPY_OUT="$RIG_TMP/$name.out"; COPY_PREFIX="dpclive$$_$run_no"
  # default: the acceptance command line: EAL's lcores (every CPU), no memory or PCI
  # options (dpcopy adds --no-huge -m 1024 when the machine has no hugepages)
  local eal=(--no-huge -m 768 --no-pci --lcores "$lcores"); [ "$lcores" = default ] && eal=()
  rig_bg copy "$DPCOPY" "${eal[@]}" --file-prefix "$COPY_PREFIX" \
    --log-level 'lib.*:warning' --vdev "${MIRROR_VDEV:-net_af_packet0,iface=rx0,qpairs=$qp}" \
    --vdev "net_af_packet1,iface=tx0,qpairs=$qp" -- \
    -x 80-198.18.1.2:80 -c 198.19.0.0/16 --ip 198.18.1.9/24 --rx-port 0 --tx-port 1 \
    --stats-interval 1 --report "$RIG_TMP/$name.json" "$@" >"$COPY_OUT" 2>&1
  COPY_PID=$RIG_LAST_PID
  wait_copying "$name"
}
# run_config NAME LCORES QPAIRS MULT [dpcopy options]: the three loads under one dpcopy run.
# LIVE_ONLY=REGEX runs only the configurations whose name matches (debugging).
run_config() {
  local name=$1 lcores=$2 qp=$3 mult=$4; shift 4
  [[ "$name" =~ ${LIVE_ONLY:-.} ]] || return 0
  start_copy "$name" "$lcores" "$qp" -n "$mult" "$@" || return
  if [ -n "${MIRROR_HOOK:-}" ]; then $MIRROR_HOOK || { bad "$name" "mirror hook failed"; stop_copy; return; }; fi
  load "$name: ab -k" "$mult" ab -q -k -n 200 -c 4 http://198.18.0.2/
  load "$name: ab short connections" "$mult" ab -q -n 100 -c 2 http://198.18.0.2/short
  load "$name: large responses" "$mult" ab -q -n 20 -c 2 http://198.18.0.2/large
  # /dpcopy/stats while it runs: mirrored frames taken; with -s, records through the ring
  local tel; tel=$(rig_telemetry "$COPY_PREFIX" /dpcopy/stats 2>&1)
  if python3 - "$tel" "$*" <<'PY'; then ok "$name: /dpcopy/stats telemetry"; else bad "$name" "telemetry: $tel"; fi
import json, sys
st = json.loads(sys.argv[1])["/dpcopy/stats"]
ok = st["rx_captured"] > 0 and st["sessions_ended"] > 0
if "-s " in sys.argv[2] + " ":
    ok = ok and st["control_records"] > 0 and st["control_rejected"] == 0
else:
    ok = ok and "control_records" not in st
sys.exit(0 if ok else 1)
PY
  [ -n "${LIVE_DEBUG:-}" ] && { rig_exec copy ip -s link show rx0; cat /proc/net/softnet_stat; } >>"$RIG_TMP/$name.debug"
  if stop_copy; then ok "$name: dpcopy stopped by SIGINT, status 0"
  else bad "$name" "dpcopy exited $? after SIGINT"; tail -5 "$COPY_OUT"; fi
  grep -q "summary after" "$COPY_OUT" || bad "$name" "no summary"
}

# ---- local responses: the target routes the fake clients to dpcopy -------------------
ip -n "$(rig_ns tgt)" route replace 198.19.0.0/16 via 198.18.1.9
# EAL's default lcores (one per CPU: the main lcore and 1 worker here), as in
# `dpcopy --vdev net_af_packet0,iface=MIRROR --vdev net_af_packet1,iface=TESTNET -- ...`
run_config "live 1 worker" default 1 1
run_config "live 1 worker -n 2" default 1 2
run_config "live 4 workers" '(0-4)@(0-1)' 4 1
# Multi-queue RSS: the mirror reaches a net_tap port (rx0's frames redirected onto its
# tap, mtap0); the kernel's tun picks the queue by a symmetric flow hash, the port says
# it does RSS, so worker k reads queue k itself (no software sharding). A plain SPAN port:
# --mirror-encap none (with auto, the default, worker 0 reads every queue, decapsulates and
# shards by the inner 4-tuple, since a NIC hashes a tunnel's outer header: docs/mirrors.md).
tap_mirror() {  # (a tap queues at most txqueuelen frames for its reader: give bursts room)
  rig_exec copy ip link set mtap0 txqueuelen 20000 &&
  rig_exec copy tc qdisc add dev rx0 clsact &&
  rig_exec copy tc filter add dev rx0 ingress protocol all u32 match u32 0 0 action mirred egress redirect dev mtap0
}
MIRROR_VDEV="net_tap0,iface=mtap0" MIRROR_HOOK=tap_mirror run_config "live 2 workers RSS" '(0-2)@(0-1)' 2 1 \
  --mirror-encap none
rig_exec copy tc qdisc del dev rx0 clsact 2>/dev/null
if [[ "live 2 workers RSS" =~ ${LIVE_ONLY:-.} ]]; then
  grep -q "RSS queue k -> worker k (2 queues)" "$RIG_TMP/live 2 workers RSS.out" &&
    ok "live 2 workers RSS: each worker read its own queue" || bad "live 2 workers RSS" "not in RSS mode"
fi

# ---- -F: a capture filter keeps one of two online services -----------------------------
# The online host serves port 80 and 8081, both -x services; -F names the 8081 one, so the
# target must serve exactly the 8081 requests (none of port 80's, which run at the same
# time), and the report counts the other service's frames as drop_capture_filter (filtered).
filter_case() {
  local name="live -F one of two services" onl80=$ONL_LOG
  [[ "$name" =~ ${LIVE_ONLY:-.} ]] || return 0
  rig_nginx onl 198.18.0.2 8081 || { bad "$name" "second online server did not start"; return; }
  local onl8081=$RIG_NGINX_LOG
  start_copy "$name" default 1 -x 8081-198.18.1.2:80 -F 'host 198.18.0.2 and tcp port 8081' || return
  : > "$onl80"
  ONL_LOG=$onl8081 load "$name: 8081 copied while port 80 runs too" 1 bash -c \
    'ab -q -k -n 150 -c 3 http://198.18.0.2/p80 & ab -q -n 60 -c 2 http://198.18.0.2:8081/p8081; wait'
  stop_copy || bad "$name" "dpcopy exited $? after SIGINT"
  python3 - "$RIG_TMP/$name.json" "$(grep -c . "$onl80")" <<'PY'
import json, sys
rep = json.load(open(sys.argv[1]))
n80 = int(sys.argv[2])
f = rep["filtered"].get("drop_capture_filter", 0)
print(f"online port 80 requests {n80}, drop_capture_filter {f}, lost {rep['lost']}")
sys.exit(0 if n80 >= 150 and f > n80 and "drop_capture_filter" not in rep["lost"] else 1)
PY
  if [ $? -eq 0 ]; then ok "$name: the other service counted as drop_capture_filter (filtered)"
  else bad "$name" "filtered counts (above)"; fi
}
filter_case

# ---- accounting under load: two clients at once, -n 2 --------------------------------
# What the target did not get must be counted: target requests = online x 2 when dpcopy
# counted no loss; otherwise the run names a lost reason (dpcopy's, the port's, or the
# kernel's drops on the af_packet mirror's sockets, read with PACKET_STATISTICS).
# RING=tiny: a 16-frame AF_PACKET ring polled every 1 ms when idle, so bursts overflow it
# in the kernel, which DPDK 22.11's af_packet PMD does not report (#12).
accounted_load() {  # NAME RING
  local name=$1 ring=$2 vdev="net_af_packet0,iface=rx0" extra=() p1 p2 i prev=-1 n exp got
  [[ "$name" =~ ${LIVE_ONLY:-.} ]] || return 0
  [ "$ring" = tiny ] && { vdev+=",blocksz=4096,framesz=2048,framecnt=16"; extra=(--idle-sleep 1000); }
  MIRROR_VDEV=$vdev start_copy "$name" default 1 -n 2 "${extra[@]}" || return
  : > "$ONL_LOG"; : > "$TGT_LOG"
  rig_exec cli ab -q -k -n 300 -c 4 http://198.18.0.2/ >"$RIG_TMP/ab1.log" 2>&1 & p1=$!
  rig_exec cli ab -q -n 120 -c 3 http://198.18.0.2/short >"$RIG_TMP/ab2.log" 2>&1 & p2=$!
  wait "$p1"; wait "$p2"
  sleep 0.3
  exp=$(( $(grep -cE '^198\.18\.0\.1 ' "$ONL_LOG") * 2 ))
  for i in $(seq 40); do  # until the target's count settles
    n=$(grep -cE '^198\.19\.' "$TGT_LOG")
    [ "$n" -ge "$exp" ] && break
    [ "$n" = "$prev" ] && [ "$i" -gt 6 ] && break
    prev=$n; sleep 0.5
  done
  stop_copy || bad "$name" "dpcopy exited $? after SIGINT"
  got=$(grep -cE '^198\.19\.' "$TGT_LOG")
  python3 - "$RIG_TMP/$name.json" "$exp" "$got" "$ring" "$COPY_OUT" <<'PY'
import json, re, sys
rep = json.load(open(sys.argv[1]))
exp, got, ring = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
lost = rep["lost"]
mirror = [p for p in rep["ports"] if p["mirror"]]
kernel = lost.get("port_rx_kernel_drops", 0)
summary = open(sys.argv[5]).read()
print(f"online x2 {exp}, target {got}, lost_total {rep['lost_total']} {lost}")
problems = []
if exp == 0: problems.append("the online server served nothing")
if got > exp: problems.append(f"target served {got} > {exp}")
if got < exp and rep["lost_total"] == 0: problems.append(f"{exp - got} requests missing, none counted lost")
if not mirror or mirror[0]["kernel_sockets"] < 1: problems.append("the af_packet mirror's sockets were not found")
if not re.search(r"port 0 \(mirror\): .* kernel_drops \d+ ", summary): problems.append("no kernel_drops in the port line")
if ring == "tiny" and kernel == 0 and got < exp: problems.append("tiny ring: loss without kernel drops")
print("; ".join(problems) if problems else f"ok (kernel drops {kernel})")
sys.exit(1 if problems else 0)
PY
  if [ $? -eq 0 ]; then ok "$name: target + counted loss account for online x2"
  else bad "$name" "unaccounted loss (above)"; tail -12 "$COPY_OUT"; fi
}
accounted_load "live under load -n 2" default
accounted_load "live under load -n 2, tiny AF_PACKET ring" tiny

# ---- Prometheus: a real server scrapes --metrics ----------------------------------------
# Prometheus (Debian's) runs in the copy namespace and scrapes dpcopy's --metrics every
# second; once the load is over, what its HTTP API holds must be what the report says at
# the end (counters that the shutdown does not move).
prometheus_scrape() {
  local name="live --metrics scraped by Prometheus" i ready=0
  [[ "$name" =~ ${LIVE_ONLY:-.} ]] || return 0
  command -v prometheus >/dev/null || { bad "$name" "prometheus is not installed"; return; }
  cat >"$RIG_TMP/prometheus.yml" <<'YML'
global: {scrape_interval: 1s, scrape_timeout: 900ms}
scrape_configs:
  - job_name: dpcopy
    static_configs: [{targets: ['127.0.0.1:9464']}]
YML
  rig_bg copy prometheus --config.file="$RIG_TMP/prometheus.yml" --storage.tsdb.path="$RIG_TMP/tsdb" \
    --web.listen-address=127.0.0.1:9090 --log.level=warn >"$RIG_TMP/prometheus.log" 2>&1
  local prom=$RIG_LAST_PID
  for i in $(seq 100); do
    rig_exec copy curl -sf http://127.0.0.1:9090/-/ready >/dev/null 2>&1 && { ready=1; break; }
    sleep 0.2
  done
  [ $ready = 1 ] || { bad "$name" "prometheus not ready: $(tail -3 "$RIG_TMP/prometheus.log")"; kill "$prom"; return; }
  start_copy "$name" default 1 --metrics 127.0.0.1:9464 || { kill "$prom"; return; }
  load "$name: ab -k" 1 ab -q -k -n 100 -c 2 http://198.18.0.2/
  sleep 3  # a few scrapes after the last request
  local q='{__name__=~"dpcopy_(sessions_created|data_segments_sent|data_bytes_sent|handshakes|captured_client_frames)_total"}'
  local got; got=$(rig_exec copy curl -s -G http://127.0.0.1:9090/api/v1/query --data-urlencode "query=$q")
  # every metric config/grafana-dashboard.json plots exists (the control ring's only with -s)
  local names; names=$(rig_exec copy curl -s http://127.0.0.1:9090/api/v1/label/__name__/values)
  if python3 - "$names" "$here/../../config/grafana-dashboard.json" <<'PY'; then ok "$name: every metric of the Grafana dashboard exists"; else bad "$name" "dashboard metrics missing (above)"; fi
import json, re, sys
have = set(json.loads(sys.argv[1])["data"])
exprs = [t["expr"] for p in json.load(open(sys.argv[2]))["panels"] for t in p["targets"]]
want = {m for e in exprs for m in re.findall(r"dpcopy_[a-z0-9_]+", e) if not m.startswith("dpcopy_control_")}
missing = sorted(want - have)
print("missing:", missing) if missing else None
sys.exit(1 if missing or not want else 0)
PY
  stop_copy || bad "$name" "dpcopy exited $? after SIGINT"
  kill "$prom"; wait "$prom" 2>/dev/null
  python3 - "$got" "$RIG_TMP/$name.json" <<'PY'
import json, sys
res = json.loads(sys.argv[1])["data"]["result"]
prom = {r["metric"]["__name__"][len("dpcopy_"):-len("_total")]: float(r["value"][1]) for r in res}
rep = json.load(open(sys.argv[2]))
flat = {}
def walk(o):
    for k, v in o.items():
        if isinstance(v, dict): walk(v)
        elif isinstance(v, (int, float)) and not isinstance(v, bool): flat.setdefault(k, v)
walk(rep)
names = ["sessions_created", "data_segments_sent", "data_bytes_sent", "handshakes", "captured_client_frames"]
bad = [f"{n}: prometheus {prom.get(n)} report {flat.get(n)}" for n in names if prom.get(n) is None or prom.get(n) != flat.get(n)]
print("; ".join(bad) if bad else "ok " + ", ".join(f"{n} {int(prom[n])}" for n in names))
sys.exit(1 if bad or prom["data_segments_sent"] == 0 else 0)
PY
  if [ $? -eq 0 ]; then ok "$name: Prometheus holds the report's values"; else bad "$name" "values differ (above)"; fi
}
prometheus_scrape

# ---- two instances on one mirror: -f 0 and -f 1, each sampling -r 50 -----------------
# Both copy the same mirrored sessions to one target (instance 0 uses fake ports
# 1024-33279, instance 1 33280-33791); -r hashes the original 4-tuple, so both must
# choose the same sessions: the same set of distinct URLs, neither empty nor all.
if [[ "two instances" =~ ${LIVE_ONLY:-.} ]]; then
  start_copy "two instances f0" '(0-1)@(0-1)' 1 -f 0 -r 50 && P0=$COPY_PID O0=$COPY_OUT X0=$COPY_PREFIX &&
  start_copy "two instances f1" '(0-1)@(0-1)' 1 -f 1 -r 50 && P1=$COPY_PID O1=$COPY_OUT X1=$COPY_PREFIX
  if [ -n "${P1:-}" ]; then
    : > "$ONL_LOG"; : > "$TGT_LOG"
    rig_exec cli bash -c 'for i in $(seq 80); do curl -s -o /dev/null http://198.18.0.2/r$i; done'
    # done when neither instance has a session left (a retransmitted SYN takes 1 s)
    active() { rig_telemetry "$1" /dpcopy/stats 2>/dev/null |
      python3 -c 'import json,sys; print(json.load(sys.stdin)["/dpcopy/stats"]["sessions_active"])' 2>/dev/null || echo x; }
    for _ in $(seq 60); do
      [ "$(active "$X0")" = 0 ] && [ "$(active "$X1")" = 0 ] && break
      sleep 0.5
    done
    sleep 0.5  # nginx logs after the response
    online=$(lines "$ONL_LOG" '198\.18\.0\.1' | sort -u)
    f0=$(awk '$1 ~ /^198\.19\./ && $2 < 33280' "$TGT_LOG" | sed -E 's/^[^"]*"([^"]*)".*/\1/' | sort)
    f1=$(awk '$1 ~ /^198\.19\./ && $2 >= 33280' "$TGT_LOG" | sed -E 's/^[^"]*"([^"]*)".*/\1/' | sort)
    n0=$(count "$f0"); n1=$(count "$f1"); nonline=$(count "$online")
    extra=$( { echo "$f0"; echo "$f1"; } | sort -u | comm -23 - <(echo "$online") | grep -c .)
    if [ "$nonline" -eq 80 ] && [ "$f0" == "$f1" ] && [ "$n0" -gt 0 ] && [ "$n0" -lt 80 ] && [ "$extra" -eq 0 ] &&
       [ "$(uniq -d <<<"$f0" | grep -c .)" -eq 0 ]; then
      ok "two instances -f 0/-f 1 with -r 50 chose the same $n0 of $nonline live sessions"
    else
      bad "two instances" "online $nonline, -f 0 served $n0, -f 1 served $n1, not online $extra"
    fi
    for v in 0 1; do
      eval "COPY_PID=\$P$v COPY_OUT=\$O$v COPY_PREFIX=\$X$v"
      stop_copy || bad "two instances" "instance -f $v exited $?"
    done
  else
    [ -n "${P0:-}" ] && { COPY_PID=$P0 COPY_OUT=$O0 COPY_PREFIX=$X0; stop_copy; }
  fi
fi

# ---- responses through dpintercept on the assistant ------------------------------------
# A second Prometheus, in the assistant's namespace, scrapes dpintercept's --metrics; at the
# end its HTTP API must hold the values of dpintercept's --report.
start_prometheus() {  # ns port target -> PROM_PID (empty when it did not become ready)
  local ns=$1 port=$2 target=$3 i
  PROM_PID=""
  cat >"$RIG_TMP/prometheus-$ns.yml" <<YML
global: {scrape_interval: 1s, scrape_timeout: 900ms}
scrape_configs:
  - job_name: $ns
    static_configs: [{targets: ['$target']}]
YML
  rig_bg "$ns" prometheus --config.file="$RIG_TMP/prometheus-$ns.yml" --storage.tsdb.path="$RIG_TMP/tsdb-$ns" \
    --web.listen-address="127.0.0.1:$port" --log.level=warn >"$RIG_TMP/prometheus-$ns.log" 2>&1
  local pid=$RIG_LAST_PID
  for i in $(seq 100); do
    rig_exec "$ns" curl -sf "http://127.0.0.1:$port/-/ready" >/dev/null 2>&1 && { PROM_PID=$pid; return 0; }
    sleep 0.2
  done
  kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
  return 1
}
ICE_PROM_Q=""
if [[ "live intercept" =~ ${LIVE_ONLY:-.} ]] && command -v prometheus >/dev/null; then
  start_prometheus asst 9091 127.0.0.1:9465 || bad "dpintercept scraped by Prometheus" "prometheus not ready: $(tail -3 "$RIG_TMP/prometheus-asst.log")"
fi
ip -n "$(rig_ns tgt)" route replace 198.19.0.0/16 via 198.18.1.7
rig_bg asst "$DPINTERCEPT" --no-huge -m 512 --no-pci --lcores '0@(0-1)' --file-prefix "dpclivei$$" \
  --log-level 'lib.*:warning' --vdev net_af_packet0,iface=dp0 -- \
  --ip 198.18.1.7/24 -F 'tcp and src host 198.18.1.2' --stats-interval 0 --metrics 127.0.0.1:9465 \
  --report "$RIG_TMP/intercept.json" >"$RIG_TMP/intercept.out" 2>&1
ICE_PID=$RIG_LAST_PID
sleep 2
if kill -0 "$ICE_PID" 2>/dev/null; then
  run_config "live intercept 1 worker" '(0-1)@(0-1)' 1 1 -s 198.18.1.7
  run_config "live intercept 4 workers -n 2" '(0-4)@(0-1)' 4 2 -s 198.18.1.7
  # dpintercept's --metrics: its records went out, as its counters say
  if [[ "live intercept" =~ ${LIVE_ONLY:-.} ]]; then
    m=$(rig_exec asst curl -s http://127.0.0.1:9465/metrics)
    rec=$(sed -nE 's/^dpintercept_records_total ([0-9.e+]+)$/\1/p' <<<"$m")
    if grep -q '^# TYPE dpintercept_io_rx_frames_total counter' <<<"$m" && [ -n "$rec" ] &&
       python3 -c "import sys; sys.exit(0 if float('$rec') > 0 else 1)"; then
      ok "dpintercept --metrics: records $rec"
    else bad "dpintercept --metrics" "$(head -c 300 <<<"$m")"; fi
    if [ -n "${PROM_PID:-}" ]; then
      sleep 3  # a few scrapes after the last response
      ICE_PROM_Q=$(rig_exec asst curl -s -G http://127.0.0.1:9091/api/v1/query \
        --data-urlencode 'query={__name__=~"dpintercept_(responses|records|subscriptions_new|io_filtered_out)_total"}')
    fi
  fi
else
  bad dpintercept "exited at start"; tail -5 "$RIG_TMP/intercept.out"
fi
kill -INT "$ICE_PID" 2>/dev/null; for _ in $(seq 50); do kill -0 "$ICE_PID" 2>/dev/null || break; sleep 0.1; done
rm -rf "/var/run/dpdk/dpclivei$$"
if [ -n "${PROM_PID:-}" ]; then
  kill "$PROM_PID" 2>/dev/null; wait "$PROM_PID" 2>/dev/null
  if [ -n "$ICE_PROM_Q" ]; then
    python3 - "$ICE_PROM_Q" "$RIG_TMP/intercept.json" <<'PY'
import json, sys
res = json.loads(sys.argv[1])["data"]["result"]
prom = {r["metric"]["__name__"][len("dpintercept_"):-len("_total")]: float(r["value"][1]) for r in res}
rep = json.load(open(sys.argv[2]))
want = {"responses": rep["intercept"]["responses"], "records": rep["intercept"]["records"],
        "subscriptions_new": rep["intercept"]["subscriptions_new"],
        "io_filtered_out": rep["io"]["filtered_out"]}
bad = [f"{n}: prometheus {prom.get(n)} report {v}" for n, v in want.items() if prom.get(n) != v]
print("; ".join(bad) if bad else "ok " + ", ".join(f"{n} {int(v)}" for n, v in want.items()))
sys.exit(1 if bad or want["records"] == 0 else 0)
PY
    if [ $? -eq 0 ]; then ok "dpintercept scraped by Prometheus: it holds the report's values"
    else bad "dpintercept scraped by Prometheus" "values differ (above)"; fi
  else
    bad "dpintercept scraped by Prometheus" "no query made (dpintercept did not run its cases)"
  fi
fi

# The copy namespace's kernel never saw the copied sessions.
if ct=$(rig_conntrack_untouched copy); then ok "no conntrack entry in the copy namespace (control flow tracked)"
else bad conntrack "$ct"; fi

echo "e2e-live: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
