#!/usr/bin/env bash
# End-to-end: dpcopy compares the target's answers with production's (issue #15,
# docs/compare.md), with real servers and real clients, in namespaces.
#
#   tests/e2e/compare_replay.sh DPCOPY_BINARY DPINTERCEPT_BINARY [HTML_CHECK_SCRIPT]
#
# The rig is intercept_rig.sh's. The online nginx answers every path with 200; the target
# nginx answers /missing with 404, /broken with 500 and /slow through an upstream that waits
# 200 ms (tests/e2e/lib/slow_upstream.py); the online redis has the key k1, the target's has
# not. Captures from curl, ab and redis-cli are replayed in local mode (dpcopy takes the
# target's answers on its own port, as the assistant's address) and through dpintercept; the
# report, the diff log and the stats file must name exactly the exchanges that differ
# (tests/e2e/lib/compare_checks.py), and the HTML report must render in Chromium.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
DPCOPY=$(realpath "$1"); DPINTERCEPT=$(realpath "$2"); HTML_CHECK=${3:-}
source "$here/lib/rig.sh"
source "$here/lib/replay_checks.sh"
source "$here/intercept_rig.sh"
pass=0; fail=0
ok()  { echo "PASS $1"; pass=$((pass + 1)); }
bad() { echo "FAIL $1: $2"; fail=$((fail + 1)); }
finish() { echo "e2e-compare: $pass passed, $fail failed"; [ "$fail" -eq 0 ]; exit; }
CHECKS="$here/lib/compare_checks.py"

# shellcheck disable=SC2034  # read by ice_rig
ICE_TGT_NGINX_EXTRA='location = /missing { return 404 "gone\n"; } location = /broken { return 500 "oops\n"; } location = /slow { proxy_pass http://127.0.0.1:8081; }'
ice_rig cmp || { bad rig "could not build the rig"; finish; }
[ -n "${E2E_KEEP:-}" ] && trap 'mkdir -p "$E2E_KEEP"; cp -r "$RIG_TMP"/. "$E2E_KEEP"/; rig_cleanup' EXIT
rig_bg tgt python3 "$here/lib/slow_upstream.py" 127.0.0.1 8081 0.2 2>>"$RIG_TMP/slow_upstream.log"
rig_wait_port tgt 127.0.0.1 8081 || { bad rig "slow upstream"; finish; }
rig_exec cli redis-cli -h 198.18.0.2 SET k1 hello >/dev/null || { bad rig "online redis"; finish; }

# ---- captures from real clients --------------------------------------------------
base=http://198.18.0.2
e2e_record cmphttp "tcp port 80" -- bash -c "
  curl -s -o /dev/null -o /dev/null -o /dev/null -o /dev/null -o /dev/null -o /dev/null -o /dev/null \
    $base/users/17 $base/missing $base/users/42?tab=1 $base/broken $base/slow $base/ $base/orders/9/items
  curl -s -o /dev/null -o /dev/null -o /dev/null $base/missing $base/slow $base/users/8
  ab -q -k -n 40 -c 2 $base/users/5 && ab -q -n 6 -c 1 $base/broken && ab -q -n 5 -c 1 $base/slow" ||
  bad "record cmphttp" "tcpdump kept dropping packets"
python3 "$E2E_REQS" "$RIG_TMP/cmphttp.pcap" 80 >"$RIG_TMP/cmphttp.requests"
e2e_record cmpredis "tcp port 6379" -- bash -c "printf 'SET k3 v\nGET k1\nGET k2\nINCR c\nGET k1\nHSET h f v\nLRANGE nolist 0 -1\nGET k1\n' |
  redis-cli -h 198.18.0.2" || bad "record cmpredis" "tcpdump kept dropping packets"
python3 "$E2E_REQS" "$RIG_TMP/cmpredis.pcap" 6379 --proto redis >"$RIG_TMP/cmpredis.commands"

reset_redis() { rig_exec tgt redis-cli -h 198.18.1.2 FLUSHALL >/dev/null; }

# compare_http CASE OUT MULTIPLY: checks OUT's report, diff log and stats file for cmphttp.
compare_http() {
  if python3 "$CHECKS" http "$RIG_TMP/$2.json" "$RIG_TMP/$2.diff" "$RIG_TMP/$2.stats" "$RIG_TMP/cmphttp.requests" "$3" \
      >"$RIG_TMP/$2.check" 2>&1; then
    ok "$1"
  else
    bad "$1" "$(head -5 "$RIG_TMP/$2.check" | tr '\n' ';')"
  fi
  if grep -qE "compared [0-9,]+ exchanges: [0-9.]+ % same status" "$RIG_TMP/$2.out"; then ok "$1: summary line"
  else bad "$1: summary line" "no 'compared N exchanges' line in the output"; fi
}
outputs() { echo --diff-log "$RIG_TMP/$1.diff" --stats-file "$RIG_TMP/$1.stats" --html-report "$RIG_TMP/$1.html"; }

# shellcheck disable=SC2046  # outputs' words are file names without spaces
# ---- local mode: dpcopy takes the answers itself, as 198.18.1.7 --------------------
local_replay() {  # local_replay OUT PCAP PORT [options...]
  local out=$1 name=$2 port=$3; shift 3
  e2e_reset_target; reset_redis
  ICE_RUN=$((ICE_RUN + 1))
  local prefix="${RIG_PREFIX}l$ICE_RUN"
  timeout 300 ip netns exec "$(rig_ns copy)" "$DPCOPY" --no-huge -m 512 --no-pci -l 0 --file-prefix "$prefix" \
    --log-level 'lib.*:warning' --vdev net_af_packet0,iface=dp0 -- -i "$RIG_TMP/$name.pcap" \
    -x "$port-198.18.1.2:$port" -c 198.19.0.0/16 --ip 198.18.1.7/24 --report "$RIG_TMP/$out.json" \
    --stats-interval 1 $([ -n "${NO_OUTPUTS:-}" ] || outputs "$out") "$@" >"$RIG_TMP/$out.out" 2>&1
  local rc=$?
  rm -rf "/var/run/dpdk/$prefix"
  return $rc
}
if local_replay local-http cmphttp 80 --speed 1; then compare_http "local: http" local-http 1
else bad "local: http" "dpcopy exited $?"; tail -5 "$RIG_TMP/local-http.out"; fi
if local_replay local-http-n2 cmphttp 80 --speed 0 -n 2; then compare_http "local: http -n 2" local-http-n2 2
else bad "local: http -n 2" "dpcopy exited $?"; tail -5 "$RIG_TMP/local-http-n2.out"; fi
if local_replay local-redis cmpredis 6379 --speed 0; then
  if python3 "$CHECKS" redis "$RIG_TMP/local-redis.json" "$RIG_TMP/local-redis.diff" "$RIG_TMP/local-redis.stats" \
      "$RIG_TMP/cmpredis.commands" >"$RIG_TMP/local-redis.check" 2>&1; then ok "local: redis"
  else bad "local: redis" "$(head -5 "$RIG_TMP/local-redis.check" | tr '\n' ';')"; fi
else bad "local: redis" "dpcopy exited $?"; tail -5 "$RIG_TMP/local-redis.out"; fi
# --no-compare: no compare object, no summary line
if NO_OUTPUTS=1 local_replay local-off cmphttp 80 --speed 0 --no-compare; then
  if grep -q '"compare"' "$RIG_TMP/local-off.json" || grep -q "compared .* exchanges" "$RIG_TMP/local-off.out"; then
    bad "local: --no-compare" "the report or the summary still compares"
  else ok "local: --no-compare"; fi
else bad "local: --no-compare" "dpcopy exited $?"; fi

# ---- through dpintercept (its default --payload-bytes carries the statuses) ----------
if ice_intercept intercept; then
  e2e_reset_target; reset_redis
  ICE_STATS=1 ice_copy_cmd copy 198.18.1.9 ice-http cmphttp 80 --speed 1
  if timeout 300 "${ICE_CMD[@]}" $(outputs ice-http) >"$RIG_TMP/ice-http.out" 2>&1; then
    compare_http "intercept: http" ice-http 1
  else bad "intercept: http" "dpcopy exited $?"; tail -5 "$RIG_TMP/ice-http.out"; fi
  rm -rf "/var/run/dpdk/$ICE_COPY_PREFIX"
  ice_intercept_stop "$ICE_PID" "$ICE_PREFIX" INT
else
  bad "intercept" "dpintercept exited at start"
fi

# ---- the HTML report in headless Chromium ------------------------------------------
if [ -n "$HTML_CHECK" ]; then
  shot="${MESON_BUILD_ROOT:-$RIG_TMP}/artifacts/compare-report.png"
  mkdir -p "$(dirname "$shot")"
  if bash "$HTML_CHECK" "$RIG_TMP/local-http.html" "$shot" >"$RIG_TMP/html.check" 2>&1; then ok "html report renders ($shot)"
  else bad "html report" "$(tail -3 "$RIG_TMP/html.check" | tr '\n' ';')"; fi
fi
finish
