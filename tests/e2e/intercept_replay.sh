#!/usr/bin/env bash
# End-to-end: offline replay with the REMOTE response path (the seed's three servers).
#
#   tests/e2e/intercept_replay.sh DPCOPY_BINARY DPINTERCEPT_BINARY
#
# copy, target and assistant share one L2 segment (a bridge; tests/e2e/intercept_rig.sh).
# The target routes the fake clients 198.19.0.0/16 to the assistant 198.18.1.7, whose
# veth has no kernel address: dpintercept owns it (net_af_packet), answers ARP, captures
# the target's responses and returns their headers to dpcopy (-s) over the control ring.
# The same captures and exact-count assertions as the local-mode suite (local_replay.sh;
# both take them from lib/replay_checks.sh): the target must serve exactly the requests
# each capture holds (nginx access log, redis INFO commandstats), at --speed 0 and 1,
# with -n 2, and -r 50 must choose the same sessions twice; the kernels of the copy and
# assistant namespaces must track none of it (conntrack). Then two dpcopy instances (-f 0,
# -f 1) share the one dpintercept, each must get exactly its own capture's requests (told
# apart by the fake client ports of its -f slice). Faults (loss, an intercept restart,
# hostile datagrams): intercept_faults.sh.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
DPCOPY=$(realpath "$1"); DPINTERCEPT=$(realpath "$2")
source "$here/lib/rig.sh"
source "$here/lib/replay_checks.sh"
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

# ---- captures from real clients (the local suite's: lib/replay_checks.sh) -------
for name in keepalive short large curl curlkl redis close; do
  e2e_capture "$name" || bad "record $name" "tcpdump kept dropping packets"
done

# ---- one dpcopy, the local suite's captures -------------------------------------
# replay_http CASE OUT NAME [MULTIPLY [dpcopy options...]]: replays NAME.pcap (port 80) and
# requires the target to serve exactly its requests (times MULTIPLY).
replay_http() {
  local case=$1 out=$2 name=$3 mult=${4:-1}; shift 4
  if ice_replay "$out" "$name" 80 "$@"; then e2e_check_http "$case" "$name" "$out" "$mult"
  else bad "$case" "dpcopy exited $?"; tail -5 "$RIG_TMP/$out.out"; fi
}
for name in keepalive short large curl curlkl close; do
  replay_http "intercept: $name --speed 0" "$name" "$name" 1 --speed 0
done
if ice_replay redis redis 6379 --speed 0; then e2e_check_redis "intercept: redis" redis redis
else bad "intercept: redis" "dpcopy exited $?"; tail -5 "$RIG_TMP/redis.out"; fi
replay_http "intercept: keepalive --speed 1" keepalive-s1 keepalive 1 --speed 1
replay_http "intercept: curlkl --speed 1" curlkl-s1 curlkl 1 --speed 1
# -n 2 (the local suite multiplies by 3: the same amplification path, one run is enough)
replay_http "intercept: short -n 2" short-n2 short 2 --speed 0 -n 2

# -r 50: the same subset, twice
sub1=""; sub2=""
if ice_replay short-r50a short 80 --speed 0 -r 50; then sub1=$(e2e_http_got); else bad "intercept: -r 50" "dpcopy exited $?"; fi
if ice_replay short-r50b short 80 --speed 0 -r 50; then sub2=$(e2e_http_got); else bad "intercept: -r 50" "dpcopy exited $?"; fi
e2e_check_same_subset "intercept: -r 50" short "$sub1" "$sub2"

# Every replay above went through the intercept: dpcopy counted records and nothing it rejected.
for out in keepalive curl close redis curlkl-s1; do
  ctl=$(ice_control "$RIG_TMP/$out.out")
  recs=$(echo "$ctl" | sed -n 's/^records=//p'); rej=$(echo "$ctl" | sed -n 's/^rejected=//p')
  if [ -n "$recs" ] && [ "$recs" -gt 0 ] && [ "$rej" = 0 ]; then ok "intercept: $out: $recs records through the control ring, none rejected"
  else bad "intercept: $out control counters" "[$(echo $ctl)]"; fi
done

# ---- two dpcopy instances (-f 0 and -f 1) share the one dpintercept -------------
# -f 0 owns the fake client ports 1024-33279, -f 1 33280-33791 (docs/cli.md): the
# target's log tells whose each request was.
: > "$E2E_TGT_LOG"
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
  exp=$(e2e_http_expected $name); got=$(e2e_http_got $lo $hi)
  n_exp=$(printf '%s' "$exp" | grep -c .); n_got=$(printf '%s' "$got" | grep -c .)
  if [ "$rc" = 0 ] && [ "$n_exp" -gt 0 ] && [ "$exp" == "$got" ]; then ok "two instances: -f $k got all $n_got requests of its capture ($name)"
  else bad "two instances: -f $k" "exit $rc, served $n_got from ports $lo-$hi, capture holds $n_exp"; tail -8 "$RIG_TMP/two-f$k.out"; fi
done
total=$(grep -cE '^198\.19\.' "$E2E_TGT_LOG")
n_both=$(( $(e2e_http_expected keepalive | wc -l) + $(e2e_http_expected short | wc -l) ))
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

# ---- the kernels of the copy and assistant namespaces never saw the copied sessions --
# (conntrack armed in each by the rig, a control flow on its loopback tracked)
for r in copy copy2 asst; do
  if ct=$(rig_conntrack_untouched $r); then ok "$r: no conntrack entry for the copied sessions ($ct)"
  else bad "conntrack in $r" "$ct"; fi
done
finish
