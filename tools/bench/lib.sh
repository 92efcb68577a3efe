# shellcheck shell=bash
# Shared preamble of the namespace benchmarks (tools/bench/*.sh); sourced after they set
# $root (the checkout), not run. Sources the namespace rig (tests/e2e/lib/rig.sh) and sets
# REQS (the request counter of a capture).
# bench_preflight NAME BINARY PACKAGE...: must be root, BINARY built; installs the packages
# this benchmark needs that are missing (not in tools/lib/common.sh's list).
# load: the load average's three figures. keep_and_clean: the EXIT trap; KEEP=DIR keeps the
# captures, dpcopy outputs and reports for a post-mortem, then the rig is removed.
# shellcheck disable=SC2154,SC2034  # $root comes from the caller, REQS is for it
# shellcheck source=../../tests/e2e/lib/rig.sh
source "$root/tests/e2e/lib/rig.sh"
REQS="$root/tests/e2e/lib/requests_in_pcap.py"

bench_preflight() {
  local name=$1 binary=$2 p; shift 2
  if [ "$(id -u)" -ne 0 ]; then echo "$name: must run as root" >&2; exit 2; fi
  [ -x "$binary" ] || { echo "$name: $binary not built" >&2; exit 2; }
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  if [ ${#missing[@]} -gt 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null || exit 1
  fi
}
load() { cut -d' ' -f1-3 /proc/loadavg; }
keep_and_clean() { [ -n "${KEEP:-}" ] && { mkdir -p "$KEEP"; cp -r "$RIG_TMP"/. "$KEEP"/; }; rig_cleanup; }

# ---- shared by the nginx workloads (tcpcopy_workloads.sh, vs_tcpcopy.sh); they set TGT_LOG
# (the target nginx's access log) and ONL_LOG (the online nginx's) after rig_nginx.
wrk_rate() { sed -nE 's/^Requests\/sec: *([0-9.]+).*/\1/p' "$1"; }
served() { grep -cE '^198\.19\.' "$TGT_LOG"; }
online() { grep -cE '^198\.18\.0\.1 ' "$ONL_LOG"; }
# wait_stable: until the target's count has not moved for 2 s (at most 60 s)
wait_stable() {
  local prev=-1 n i
  for i in $(seq 120); do
    n=$(served); [ "$n" = "$prev" ] && [ $((i % 4)) -eq 0 ] && return 0
    [ $((i % 4)) -eq 0 ] && prev=$n
    sleep 0.5
  done
}
# cpu_text SECONDS SERVED: "cpu U+S s (per 1k requests)"
cpu_text() { awk -v c="$1" -v s="$2" 'BEGIN { printf "cpu %.2f s (%.3f s per 1k req)", c, (s > 0 ? 1000 * c / s : 0) }'; }
# pid_cpu PID: the CPU seconds (user + system) a running process has used so far
pid_cpu() { awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / hz }' "/proc/$1/stat" 2>/dev/null || echo 0; }
result() {  # CASE EXPECTED SERVED SECONDS EXTRA
  awk -v c="$1" -v e="$2" -v s="$3" -v t="$4" -v x="$5" -v l="$(load)" 'BEGIN {
    lost = e - s; pct = e > 0 ? 100 * lost / e : 0
    printf "%-34s expected %8d  served %8d  lost %7d (%5.2f %%)  %8.0f req/s served  %s  load %s\n", c, e, s, lost, pct, (t > 0 ? s / t : 0), x, l }'
}

# run_wrk WORKLOAD OUTFILE [ROLE URL]: the workload's wrk from ROLE's namespace (default: cli
# against the online nginx http://198.18.0.2/); bench_wrk_scripts first writes its Lua hooks
run_wrk() {
  local role=${3:-cli} url=${4:-http://198.18.0.2/}
  case $1 in
    keepalive) rig_exec "$role" wrk -t 2 -c 50 -d "${DURATION}s" "$url" >"$2" 2>&1 ;;
    close) rig_exec "$role" wrk -t 2 -c 50 -d "${DURATION}s" -H 'Connection: close' "$url" >"$2" 2>&1 ;;
    # throttled, as the reference's last live row: each connection waits DELAY ms
    # between requests (wrk's delay() hook): 50 x 1000/10 = at most 5k req/s, 50 x 1000/20
    # = at most 2.5k conn/s
    keepalive_throttled) rig_exec "$role" wrk -t 2 -c 50 -d "${DURATION}s" -s "$RIG_TMP/delay10.lua" "$url" >"$2" 2>&1 ;;
    close_throttled) rig_exec "$role" wrk -t 2 -c 50 -d "${DURATION}s" -s "$RIG_TMP/delay20.lua" -H 'Connection: close' \
                       "$url" >"$2" 2>&1 ;;
  esac
}
bench_wrk_scripts() {
  echo 'function delay() return 10 end' > "$RIG_TMP/delay10.lua"
  echo 'function delay() return 20 end' > "$RIG_TMP/delay20.lua"
}
# record_capture WORKLOAD PCAP: wrk's WORKLOAD against the online nginx, recorded with tcpdump
# on onl:eth0 (recorded again, up to 3 times, if tcpdump dropped packets); then prints the
# "== offline" header line and sets CAP_REQS (the complete requests the capture holds).
record_capture() {
  local w=$1 cap=$2 try pid conns
  for try in 1 2 3; do
    : > "$ONL_LOG"
    rig_tcpdump onl eth0 "$cap" "tcp port 80"
    pid=$RIG_LAST_PID
    run_wrk "$w" "$RIG_TMP/$w.rec.wrk"
    rig_tcpdump_stop "$pid"
    [ "$(rig_tcpdump_drops "$cap")" = 0 ] && break
    echo "  record $w: tcpdump dropped $(rig_tcpdump_drops "$cap") packets (try $try)"
  done
  CAP_REQS=$(python3 "$REQS" "$cap" 80 | wc -l)
  conns=$(tcpdump -r "$cap" 'tcp[tcpflags] & tcp-syn != 0 and tcp[tcpflags] & tcp-ack == 0' 2>/dev/null | wc -l)
  echo "== offline $w: capture of wrk at $(wrk_rate "$RIG_TMP/$w.rec.wrk") req/s: $CAP_REQS complete requests, $conns connections, online nginx logged $(online); tcpdump drops $(rig_tcpdump_drops "$cap")"
}
# served_rate: the target's req/s from the fake clients, first to last logged request (needs
# RIG_NGINX_LOG_MSEC=1 before rig_nginx); 0 when fewer than 2 requests
served_rate() {
  awk '/^198\.19\./ { t = $NF + 0; n++; if (n == 1 || t < a) a = t; if (t > b) b = t }
       END { printf "%.0f", (n > 1 && b > a) ? (n - 1) / (b - a) : 0 }' "$TGT_LOG"
}
