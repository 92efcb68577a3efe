#!/usr/bin/env bash
# End-to-end: offline replay with the REMOTE response path (the seed's three servers).
#
#   tests/e2e/intercept_replay.sh DPCOPY_BINARY DPINTERCEPT_BINARY
#
# copy, target and assistant share one L2 segment (a bridge; tests/e2e/intercept_rig.sh).
# The target routes the fake clients 198.19.0.0/16 to the assistant 198.18.1.7, whose
# veth has no kernel address: dpintercept owns it (net_af_packet), answers ARP, captures
# the target's responses and returns their headers to dpcopy (-s) over the control ring.
# The same captures and exact-count assertions as the local-mode suite (local_replay.sh):
# the target must serve exactly the requests each capture holds (nginx access log, redis
# INFO commandstats). Then two dpcopy instances (-f 0, -f 1) share the one dpintercept,
# each must get exactly its own capture's requests (told apart by the fake client ports
# of its -f slice). Faults (loss, an intercept restart, hostile datagrams):
# intercept_faults.sh.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
DPCOPY=$(realpath "$1"); DPINTERCEPT=$(realpath "$2")
source "$here/lib/rig.sh"
source "$here/intercept_rig.sh"
pass=0; fail=0
ok()  { echo "PASS $1"; pass=$((pass + 1)); }
bad() { echo "FAIL $1: $2"; fail=$((fail + 1)); }
finish() { echo "e2e-intercept: $pass passed, $fail failed"; [ "$fail" -eq 0 ]; exit; }

ice_rig ice || { bad rig "could not build the rig"; finish; }
# E2E_KEEP=DIR keeps the captures, outputs and reports for a post-mortem.
[ -n "${E2E_KEEP:-}" ] && trap 'mkdir -p "$E2E_KEEP"; cp -r "$RIG_TMP"/. "$E2E_KEEP"/; rig_cleanup' EXIT
ice_intercept intercept --report "$RIG_TMP/intercept.json" || { bad dpintercept "exited at start"; finish; }
ICE1_PID=$ICE_PID ICE1_PREFIX=$ICE_PREFIX

# ---- captures from real clients (as in local_replay.sh) -------------------------
ice_record keepalive "tcp port 80" -- ab -q -k -n 200 -c 4 http://198.18.0.2/ || bad "record keepalive" "tcpdump kept dropping"
ice_record short "tcp port 80" -- ab -q -n 100 -c 2 http://198.18.0.2/short || bad "record short" "tcpdump kept dropping"
ice_record large "tcp port 80" -- ab -q -n 20 -c 2 http://198.18.0.2/large || bad "record large" "tcpdump kept dropping"
ice_record redis "tcp port 6379" -- redis-benchmark -h 198.18.0.2 -n 300 -c 3 -t set,get,incr,lpush -q ||
  bad "record redis" "tcpdump kept dropping"
ice_record close "tcp port 80" -- wrk -t 1 -c 8 -d 2s -H 'Connection: close' http://198.18.0.2/w ||
  bad "record close" "tcpdump kept dropping"

# check_http CASE NAME OUT [MULTIPLY]
check_http() {
  local case=$1 name=$2 out=$3 mult=${4:-1} exp got n_exp n_got
  exp=$(ice_http_expected "$name" | awk -v m="$mult" '{for (i = 0; i < m; i++) print}' | sort)
  got=$(ice_http_got)
  n_exp=$(printf '%s' "$exp" | grep -c .); n_got=$(printf '%s' "$got" | grep -c .)
  if [ "$n_exp" -eq 0 ]; then bad "$case" "capture holds no request"; return; fi
  if [ "$exp" == "$got" ]; then ok "$case ($n_got of $n_exp requests)"; else
    bad "$case" "target served $n_got requests, capture holds $n_exp (x$mult)"
    diff <(echo "$exp" | uniq -c) <(echo "$got" | uniq -c) | head -10
    tail -12 "$RIG_TMP/$out.out"
  fi
}

# ---- one dpcopy, the local suite's captures -------------------------------------
for name in keepalive short large close; do
  if ice_replay "$name" "$name" 80 --speed 0; then check_http "intercept: $name --speed 0" "$name" "$name"
  else bad "intercept: $name" "dpcopy exited $?"; tail -5 "$RIG_TMP/$name.out"; fi
done
if ice_replay short-n2 short 80 --speed 0 -n 2; then check_http "intercept: short -n 2" short short-n2 2
else bad "intercept: short -n 2" "dpcopy exited $?"; fi
if ice_replay redis redis 6379 --speed 0; then
  exp=$(ice_redis_expected redis); got=$(ice_redis_got)
  if [ -n "$exp" ] && [ "$exp" == "$got" ]; then ok "intercept: redis ($(echo $got))"
  else bad "intercept: redis" "expected [$(echo $exp)] got [$(echo $got)]"; tail -5 "$RIG_TMP/redis.out"; fi
else bad "intercept: redis" "dpcopy exited $?"; fi

# Every replay above went through the intercept: dpcopy counted records and nothing it rejected.
for out in keepalive close redis; do
  ctl=$(ice_control "$RIG_TMP/$out.out")
  recs=$(echo "$ctl" | sed -n 's/^records=//p'); rej=$(echo "$ctl" | sed -n 's/^rejected=//p')
  if [ -n "$recs" ] && [ "$recs" -gt 0 ] && [ "$rej" = 0 ]; then ok "intercept: $out: $recs records through the control ring, none rejected"
  else bad "intercept: $out control counters" "[$(echo $ctl)]"; fi
done

# ---- two dpcopy instances (-f 0 and -f 1) share the one dpintercept -------------
# -f 0 owns the fake client ports 1024-33279, -f 1 33280-33791 (docs/cli.md): the
# target's log tells whose each request was.
: > "$ICE_TGT_LOG"
ice_copy_cmd copy 198.18.1.9 two-f0 keepalive 80 --speed 0 -f 0
timeout 300 "${ICE_CMD[@]}" >"$RIG_TMP/two-f0.out" 2>&1 &
p0=$!; pre0=$ICE_COPY_PREFIX
ice_copy_cmd copy2 198.18.1.10 two-f1 short 80 --speed 0 -f 1
timeout 300 "${ICE_CMD[@]}" >"$RIG_TMP/two-f1.out" 2>&1 &
p1=$!; pre1=$ICE_COPY_PREFIX
wait "$p0"; rc0=$?; wait "$p1"; rc1=$?
rm -rf "/var/run/dpdk/$pre0" "/var/run/dpdk/$pre1"
sleep 0.5
grep -q "fake client ports 1024-33279" "$RIG_TMP/two-f0.out" && grep -q "fake client ports 33280-33791" "$RIG_TMP/two-f1.out" ||
  bad "two instances" "unexpected port slices: $(grep -h 'fake client ports' "$RIG_TMP"/two-f*.out | tr '\n' ' ')"
for k in 0 1; do
  if [ $k = 0 ]; then name=keepalive rc=$rc0 lo=1024 hi=33279; else name=short rc=$rc1 lo=33280 hi=33791; fi
  exp=$(ice_http_expected $name); got=$(ice_http_got $lo $hi)
  n_exp=$(printf '%s' "$exp" | grep -c .); n_got=$(printf '%s' "$got" | grep -c .)
  if [ "$rc" = 0 ] && [ "$n_exp" -gt 0 ] && [ "$exp" == "$got" ]; then ok "two instances: -f $k got all $n_got requests of its capture ($name)"
  else bad "two instances: -f $k" "exit $rc, served $n_got from ports $lo-$hi, capture holds $n_exp"; tail -8 "$RIG_TMP/two-f$k.out"; fi
done
total=$(grep -cE '^198\.19\.' "$ICE_TGT_LOG")
n_both=$(( $(ice_http_expected keepalive | wc -l) + $(ice_http_expected short | wc -l) ))
[ "$total" -eq "$n_both" ] && ok "two instances: the target served $total requests in all, none twice or lost" ||
  bad "two instances" "target served $total requests in all, expected $n_both"

# ---- dpintercept's own counters: telemetry while it runs, the report at SIGINT ----
tel=$(ice_telemetry "$ICE1_PREFIX" /dpintercept/stats 2>&1)
python3 - "$tel" <<'PY' && ok "dpintercept: /dpintercept/stats telemetry (records, datagrams, rejects by reason)" || bad "dpintercept telemetry" "$tel"
import json, sys
t = json.loads(sys.argv[1])["/dpintercept/stats"]
ok = t["records"] > 0 and t["datagrams"] > 0 and t["subscriptions_new"] >= 8 and t["rejected"] == 0 and "reject_bad_mac" in t
sys.exit(0 if ok else 1)
PY
ice_intercept_stop "$ICE1_PID" "$ICE1_PREFIX" INT
python3 - "$RIG_TMP/intercept.json" <<'PY' && ok "dpintercept: report at SIGINT: two subscribers served, records batched, nothing rejected" || bad dpintercept "report: see above"
import json, sys
r = json.load(open(sys.argv[1]))
i, rej = r["intercept"], r["control_rejects"]
print("dpintercept:", {k: i[k] for k in ("subscriptions_new", "unsubscribes", "responses", "no_subscriber", "records", "datagrams")},
      "filter", r["filter"])
ok = (r["end"] == "interrupted" and i["subscriptions_new"] >= 8 and i["unsubscribes"] == i["subscriptions_new"]
      and i["records"] > 0 and i["datagrams"] > 0 and i["records"] >= i["datagrams"] and i["drop_build"] == 0
      and sum(rej.values()) == 0 and i["control_not_allowed"] == 0)
sys.exit(0 if ok else 1)
PY
grep -q "dpintercept: summary:" "$RIG_TMP/intercept.out" && ok "dpintercept printed its summary" || bad dpintercept "no summary line"
finish
