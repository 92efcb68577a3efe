#!/usr/bin/env bash
# TCPCOPY_SRC=DIR tools/bench/vs_tcpcopy.sh [BUILD_DIR] — issue #16, item 3: dpcopy +
# dpintercept beside tcpcopy + intercept and beside wrk alone, on one namespace rig, on the
# same captures, the rows interleaved (tcpcopy, then dpcopy) so that both see the same load.
# (tools/bench/tcpcopy_workloads.sh runs this script when TCPCOPY_SRC is set.)
#
# TCPCOPY_SRC: a tcpcopy source tree (github session-replay-tools/tcpcopy, 1.x);
# INTERCEPT_SRC (default: DIR/../intercept): intercept's (session-replay-tools/intercept).
# Both are copied into the rig's temporary directory and built there, never installed:
# tcpcopy twice, `./configure --offline` for the offline rows and `--pcap-capture` for the
# live ones (its default build takes packets addressed to its own host with a raw socket; a
# mirror port needs the data-link capture), intercept with its defaults; all with
# `--with-cc-opt=-O2`. BUILD_DIR (default build/) holds apps/copy/dpcopy and
# apps/intercept/dpintercept.
#
# Rig (network namespaces made here, all removed at exit; tests/e2e/lib/rig.sh), the seed's
# three hosts (copier, target, assistant) on one bridge (namespace sw):
#   cli ── eth0 ── onl    wrk against the online nginx 198.18.0.2 (recorded with tcpdump for
#                         the offline captures; mirrored onto onl:mir0 ── copy:rx0 for live)
#   copy:tx0              the copier: dpcopy's TX port (net_af_packet, --ip 198.18.1.9), or
#                         tcpcopy's raw socket (kernel address 198.18.1.3, only while it runs)
#   tgt:dp0               the target nginx 198.18.1.2, 1 worker; routes the fake clients
#                         198.19.0.0/16 to the assistant 198.18.1.7
#   asst:dp0              the assistant: dpintercept (net_af_packet, --ip 198.18.1.7) or
#                         intercept (kernel address 198.18.1.7, only while it runs)
#   wcl:eth0              198.18.1.5: wrk alone against the target (the ceiling)
# Per row and side: expected requests (offline: the capture's complete requests x n; live:
# what the online nginx logged x n), requests the target served to the fake clients, lost,
# the target's req/s (first to last logged request, nginx's $msec), and CPU seconds (user +
# system) of the copier and of the assistant over the row, per 1,000 served requests. The
# assistant is started for each row (its start-up CPU is not counted). tcpcopy offline waits
# 120 s after the file's end: it is stopped once the target's count has been still for 3 s.
#
# OFFLINE_SPECS (default "1 1,2 1,0 1,1 2": "SPEED N", 0 = fastest: dpcopy --speed 0,
# tcpcopy -a TCPCOPY_FASTEST, default 100); LIVE_WORKLOADS (default "keepalive close
# keepalive_throttled close_throttled"), LIVE_N (default 1); DPCOPY_LCORES (default "-l 0"),
# DPINTERCEPT_LCORES (default "-l 1"); DURATION (default 10 s of wrk); ONLY=REGEX (rows).
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
DPCOPY=$(realpath "${DPCOPY:-$build/apps/copy/dpcopy}")
DPINTERCEPT=$(realpath "${DPINTERCEPT:-$build/apps/intercept/dpintercept}")
DURATION=${DURATION:-10}
LCORES=${DPCOPY_LCORES:--l 0}
ILCORES=${DPINTERCEPT_LCORES:--l 1}
ONLY=${ONLY:-.}
OFFLINE_SPECS=${OFFLINE_SPECS:-1 1,2 1,0 1,1 2}
LIVE_WORKLOADS=${LIVE_WORKLOADS:-keepalive close keepalive_throttled close_throttled}
LIVE_N=${LIVE_N:-1}
FASTEST=${TCPCOPY_FASTEST:-100}
TCPCOPY_SRC=${TCPCOPY_SRC:?"set TCPCOPY_SRC to a tcpcopy source tree"}
INTERCEPT_SRC=${INTERCEPT_SRC:-$(dirname "$(realpath "$TCPCOPY_SRC")")/intercept}

# shellcheck source=lib.sh
source "$root/tools/bench/lib.sh"
bench_preflight vs_tcpcopy.sh "$DPCOPY" wrk nginx-light tcpdump ethtool iproute2 libpcap-dev make gcc
[ -x "$DPINTERCEPT" ] || { echo "vs_tcpcopy.sh: $DPINTERCEPT not built" >&2; exit 2; }
for d in "$TCPCOPY_SRC" "$INTERCEPT_SRC"; do
  [ -x "$d/configure" ] || { echo "vs_tcpcopy.sh: $d: no configure script (a tcpcopy / intercept source tree?)" >&2; exit 2; }
done

rig_init vst
trap keep_and_clean EXIT

# build_c NAME SRC CONFIGURE_OPTIONS...: a copy of SRC built in $RIG_TMP/NAME (nice, 2 jobs)
build_c() {
  local name=$1 src=$2 dir="$RIG_TMP/$1"; shift 2
  cp -r "$src" "$dir" || return 1
  (cd "$dir" && ./configure --with-cc-opt=-O2 "$@" >configure.log 2>&1 && nice make -j2 >make.log 2>&1) ||
    { echo "vs_tcpcopy.sh: building $name failed ($dir/*.log):" >&2; tail -5 "$dir/configure.log" "$dir/make.log" >&2; return 1; }
}
build_c tcpcopy-offline "$TCPCOPY_SRC" --offline || exit 1
build_c tcpcopy-live "$TCPCOPY_SRC" --pcap-capture || exit 1
build_c intercept "$INTERCEPT_SRC" || exit 1
TC_OFF="$RIG_TMP/tcpcopy-offline/objs/tcpcopy"
TC_LIVE="$RIG_TMP/tcpcopy-live/objs/tcpcopy"
ICEPT="$RIG_TMP/intercept/objs/intercept"

for r in cli onl sw copy tgt asst wcl; do rig_add_ns $r || exit 1; done
rig_link cli eth0 onl eth0 && rig_link onl mir0 copy rx0 || exit 1
ip -n "$(rig_ns sw)" link add br0 type bridge && ip -n "$(rig_ns sw)" link set br0 up || exit 1
rig_link copy tx0 sw pcopy && rig_link tgt dp0 sw ptgt && rig_link asst dp0 sw passt && rig_link wcl eth0 sw pwcl || exit 1
for p in pcopy ptgt passt pwcl; do ip -n "$(rig_ns sw)" link set "$p" master br0; done
rig_addr cli eth0 198.18.0.1/24
rig_addr onl eth0 198.18.0.2/24
rig_addr tgt dp0 198.18.1.2/24
rig_addr wcl eth0 198.18.1.5/24
ip -n "$(rig_ns tgt)" route add 198.19.0.0/16 via 198.18.1.7
rig_exec onl tc qdisc add dev eth0 clsact || exit 1
export RIG_NGINX_LOG_MSEC=1
rig_nginx onl 198.18.0.2 80 || exit 1
ONL_LOG=$RIG_NGINX_LOG
rig_nginx tgt 198.18.1.2 80 || exit 1
TGT_LOG=$RIG_NGINX_LOG
bench_wrk_scripts

mirror() {  # on|off: onl:eth0's frames (both ways) copied onto mir0, for the live rows
  local dir
  for dir in ingress egress; do
    if [ "$1" = on ]; then
      rig_exec onl tc filter add dev eth0 "$dir" protocol all u32 match u32 0 0 action mirred egress mirror dev mir0
    else rig_exec onl tc filter del dev eth0 "$dir"; fi
  done
}

# ---- the assistants: start_assistant tcpcopy|dpcopy -> ASST_PID, ASST_CPU0; stop_assistant
# prints the CPU seconds it used since it was ready.
run_no=0
start_assistant() {
  run_no=$((run_no + 1))
  ASST_PREFIX="vsti$$_$run_no"
  if [ "$1" = tcpcopy ]; then
    ip -n "$(rig_ns asst)" addr add 198.18.1.7/24 dev dp0
    rig_bg asst "$ICEPT" -i dp0 -F 'tcp and src port 80' -l "$RIG_TMP/intercept.$run_no.log" >/dev/null 2>&1
    ASST_PID=$RIG_LAST_PID
    rig_wait_port asst 198.18.1.7 36524 || return 1
  else
    # shellcheck disable=SC2086
    rig_bg asst "$DPINTERCEPT" --no-huge -m 512 --no-pci $ILCORES --file-prefix "$ASST_PREFIX" \
      --log-level 'lib.*:warning' --vdev net_af_packet0,iface=dp0 -- \
      --ip 198.18.1.7/24 -F 'tcp and src host 198.18.1.2' --stats-interval 0 \
      --report "$RIG_TMP/dpintercept.$run_no.json" >"$RIG_TMP/dpintercept.$run_no.out" 2>&1
    ASST_PID=$RIG_LAST_PID
    sleep 3
  fi
  kill -0 "$ASST_PID" 2>/dev/null || { echo "the $1 assistant did not start"; return 1; }
  ASST_CPU0=$(pid_cpu "$ASST_PID")
}
stop_assistant() {
  local c; c=$(pid_cpu "$ASST_PID")
  kill -INT "$ASST_PID" 2>/dev/null
  for _ in $(seq 50); do kill -0 "$ASST_PID" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$ASST_PID" 2>/dev/null; wait "$ASST_PID" 2>/dev/null
  rm -rf "/var/run/dpdk/$ASST_PREFIX"
  ip -n "$(rig_ns asst)" addr flush dev dp0
  awk -v a="$ASST_CPU0" -v b="$c" 'BEGIN { printf "%.2f", b - a }'
}
# tcpcopy_addr on|off: the copier's kernel addresses, while tcpcopy runs only: tx0's for its raw
# socket and its connection to intercept; rx0 needs one for tcpcopy's pcap set-up (lookupnet)
tcpcopy_addr() {
  local ns; ns=$(rig_ns copy)
  if [ "$1" = on ]; then ip -n "$ns" addr add 198.18.1.3/24 dev tx0; ip -n "$ns" addr add 198.18.9.3/24 dev rx0
  else ip -n "$ns" addr flush dev tx0; ip -n "$ns" addr flush dev rx0; fi
}
# wait_done PID: until PID exits, or the target served something and its count has been
# still for 3 s (tcpcopy offline idles 120 s after the file); at most 900 s
wait_done() {
  local prev=-1 n i
  for i in $(seq 1800); do
    kill -0 "$1" 2>/dev/null || return 0
    if [ $((i % 6)) -eq 0 ]; then
      n=$(served); [ "$n" -gt 0 ] && [ "$n" = "$prev" ] && return 0; prev=$n
    fi
    sleep 0.5
  done
}
stop_pid() {  # PID: SIGINT, then SIGKILL after 30 s; returns its status
  kill -INT "$1" 2>/dev/null
  for _ in $(seq 300); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$1" 2>/dev/null; wait "$1"
}
# row CASE SIDE EXPECTED COPIER_CPU ASSISTANT_CPU EXTRA
row() {
  local s; s=$(served)
  awk -v c="$1" -v d="$2" -v e="$3" -v s="$s" -v r="$(served_rate)" -v cc="$4" -v ac="$5" -v x="$6" -v l="$(load)" 'BEGIN {
    lost = e - s; pct = e > 0 ? 100 * lost / e : 0
    printf "%-30s %-8s expected %7d served %7d lost %6d (%5.2f %%)  target %6d req/s  cpu %5.2f + %5.2f s = %.3f s per 1k req  %s load %s\n",
      c, d, e, s, lost, pct, r, cc, ac, (s > 0 ? 1000 * (cc + ac) / s : 0), x, l }'
}

echo "dpcopy vs tcpcopy, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, load $(load)"
echo "  dpcopy $DPCOPY ($LCORES), dpintercept ($ILCORES); $("$TC_OFF" -v 2>&1 | head -1) from $TCPCOPY_SRC, $("$ICEPT" -v 2>&1 | head -1) from $INTERCEPT_SRC"

# ---------------------------------------------------------------- offline
for w in keepalive close; do
  [[ "offline $w" =~ $ONLY ]] || continue
  cap="$RIG_TMP/$w.pcap"
  record_capture "$w" "$cap"
  exp=$CAP_REQS
  : > "$TGT_LOG"
  run_wrk "$w" "$RIG_TMP/$w.alone.wrk" wcl http://198.18.1.2/
  echo "   wrk alone against the target (from wcl, -t 2 -c 50, ${DURATION} s): $(wrk_rate "$RIG_TMP/$w.alone.wrk") req/s, load $(load)"
  IFS=, read -r -a specs <<<"$OFFLINE_SPECS"
  for spec in "${specs[@]}"; do
    # shellcheck disable=SC2086  # "SPEED N"
    set -- $spec; speed=$1; n=$2
    name="offline $w speed $speed -n $n"
    [[ "$name" =~ $ONLY ]] || continue
    # tcpcopy + intercept
    : > "$TGT_LOG"
    if start_assistant tcpcopy; then
      tcpcopy_addr on
      a=$speed; [ "$speed" = 0 ] && a=$FASTEST
      rig_bg copy "$TC_OFF" -x 80-198.18.1.2:80 -s 198.18.1.7 -c 198.19.0.x -i "$cap" -a "$a" -n "$n" \
        -l "$RIG_TMP/tcpcopy.$run_no.log" >/dev/null 2>&1
      pid=$RIG_LAST_PID
      wait_done "$pid"
      ccpu=$(pid_cpu "$pid")
      stop_pid "$pid"
      acpu=$(stop_assistant)
      tcpcopy_addr off
      row "$name" tcpcopy $((exp * n)) "$ccpu" "$acpu" "(-a $a)"
    fi
    # dpcopy + dpintercept
    : > "$TGT_LOG"
    if start_assistant dpcopy; then
      prefix="vstc$$_$run_no"
      # shellcheck disable=SC2086
      /usr/bin/time -f '%U %S' -o "$RIG_TMP/off.$run_no.cpu" \
      timeout 900 ip netns exec "$(rig_ns copy)" "$DPCOPY" --no-huge -m 768 --no-pci $LCORES --file-prefix "$prefix" \
        --log-level 'lib.*:warning' --vdev net_af_packet0,iface=tx0 -- \
        -i "$cap" -x 80-198.18.1.2:80 -c 198.19.0.0/16 --ip 198.18.1.9/24 -s 198.18.1.7 --speed "$speed" -n "$n" \
        --stats-interval 0 --report "$RIG_TMP/off.$run_no.json" >"$RIG_TMP/off.$run_no.out" 2>&1
      rc=$?
      rm -rf "/var/run/dpdk/$prefix"
      sleep 1
      acpu=$(stop_assistant)
      ccpu=$(tail -1 "$RIG_TMP/off.$run_no.cpu" | awk '{ print $1 + $2 }')
      drops=$(python3 -c 'import json,sys; r = json.load(open(sys.argv[1])); print(r["lost_total"], "lost, lag at most %.1f s" % r.get("replay", {}).get("max_lag_s", 0))' "$RIG_TMP/off.$run_no.json" 2>/dev/null || echo '?')
      row "$name" dpcopy $((exp * n)) "$ccpu" "$acpu" "(exit $rc, drops: $drops)"
    fi
  done
done

# ---------------------------------------------------------------- live
mirror on || exit 1
for w in $LIVE_WORKLOADS; do
  [[ "live $w" =~ $ONLY ]] || continue
  : > "$ONL_LOG"
  run_wrk "$w" "$RIG_TMP/$w.online.wrk"
  echo "== live $w: the online nginx alone (mirror on, no copier): $(wrk_rate "$RIG_TMP/$w.online.wrk") req/s, load $(load)"
  for n in $LIVE_N; do
    name="live $w -n $n"
    # tcpcopy + intercept: tcpcopy's data-link capture on the mirror port
    if start_assistant tcpcopy; then
      tcpcopy_addr on
      rig_bg copy "$TC_LIVE" -x 198.18.0.2:80-198.18.1.2:80 -s 198.18.1.7 -c 198.19.0.x -i rx0 -n "$n" \
        -l "$RIG_TMP/tcpcopy.$run_no.log" >/dev/null 2>&1
      pid=$RIG_LAST_PID
      sleep 2
      c0=$(pid_cpu "$pid")
      : > "$ONL_LOG"; : > "$TGT_LOG"
      run_wrk "$w" "$RIG_TMP/$w.tc.$n.wrk"
      wait_stable
      ccpu=$(awk -v a="$c0" -v b="$(pid_cpu "$pid")" 'BEGIN { printf "%.2f", b - a }')
      stop_pid "$pid"
      acpu=$(stop_assistant)
      tcpcopy_addr off
      row "$name" tcpcopy $(($(online) * n)) "$ccpu" "$acpu" "(online $(wrk_rate "$RIG_TMP/$w.tc.$n.wrk") req/s beside it)"
    fi
    # dpcopy + dpintercept
    if start_assistant dpcopy; then
      prefix="vstc$$_$run_no"; out="$RIG_TMP/live.$run_no.out"
      # shellcheck disable=SC2086
      rig_bg copy "$DPCOPY" --no-huge -m 768 --no-pci $LCORES --file-prefix "$prefix" --log-level 'lib.*:warning' \
        --vdev net_af_packet0,iface=rx0 --vdev net_af_packet1,iface=tx0 -- \
        -x 80-198.18.1.2:80 -c 198.19.0.0/16 --ip 198.18.1.9/24 -s 198.18.1.7 --rx-port 0 --tx-port 1 -n "$n" \
        --stats-interval 0 --report "$RIG_TMP/live.$run_no.json" >"$out" 2>&1
      pid=$RIG_LAST_PID
      for _ in $(seq 150); do grep -q "; copying" "$out" && break; kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      if grep -q "; copying" "$out"; then
        c0=$(pid_cpu "$pid")
        : > "$ONL_LOG"; : > "$TGT_LOG"
        run_wrk "$w" "$RIG_TMP/$w.dp.$n.wrk"
        wait_stable
        ccpu=$(awk -v a="$c0" -v b="$(pid_cpu "$pid")" 'BEGIN { printf "%.2f", b - a }')
        stop_pid "$pid"; rc=$?
        rm -rf "/var/run/dpdk/$prefix"
        acpu=$(stop_assistant)
        row "$name" dpcopy $(($(online) * n)) "$ccpu" "$acpu" "(online $(wrk_rate "$RIG_TMP/$w.dp.$n.wrk") req/s beside it; exit $rc)"
      else
        echo "$name: dpcopy did not start: $(tail -2 "$out" | tr '\n' ' ')"; stop_pid "$pid"; rm -rf "/var/run/dpdk/$prefix"; stop_assistant >/dev/null
      fi
    fi
  done
done
mirror off
echo "done, $(date -u '+%H:%M UTC'), load $(load)"
