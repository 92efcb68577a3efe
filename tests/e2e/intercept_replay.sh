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
# apart by the fake client ports of its -f slice); and one dpcopy uses two intercepts
# (-s A,B: two assistants, each getting half of the fake clients), each of which must carry
# records, with dpintercept's status line checked against its report. Faults (loss, an
# intercept restart, hostile datagrams): intercept_faults.sh.
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

# The idle policy (--idle-sleep, default 20 us): dpcopy at --speed 1 (-l 0: the main lcore
# feeds and runs the worker) slept in the capture's gaps, and lost nothing (checked above).
for out in keepalive-s1 curlkl-s1; do
  sleeps=$(sed -nE 's/.*"idle_sleeps": ([0-9]+).*/\1/p' "$RIG_TMP/$out.json" | head -1)
  lost=$(sed -nE 's/.*"lost_total": ([0-9]+).*/\1/p' "$RIG_TMP/$out.json" | head -1)
  if [ -n "$sleeps" ] && [ "$sleeps" -gt 0 ] && [ "$lost" = 0 ]; then ok "idle policy: dpcopy $out slept $sleeps times, lost nothing"
  else bad "idle policy: dpcopy $out" "idle_sleeps=$sleeps lost_total=$lost"; fi
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
python3 - "$RIG_TMP/intercept.json" "$here/../../docs/report.schema.json" <<'PY' && ok "dpintercept: report at SIGINT: two subscribers served, records batched, nothing rejected, idle sleeps, valid against docs/report.schema.json" || bad dpintercept "report: see above"
import json, sys, jsonschema
r = json.load(open(sys.argv[1]))
errors = [e.message for e in jsonschema.Draft202012Validator(json.load(open(sys.argv[2]))).iter_errors(r)]
print("dpintercept report schema errors:", errors)
i, rej = r["intercept"], r["control_rejects"]
print("dpintercept:", {k: i[k] for k in ("subscriptions_new", "unsubscribes", "responses", "no_subscriber", "records", "datagrams")},
      "filter", r["filter"])
print("dpintercept idle_sleeps:", r["io"]["idle_sleeps"])
print("dpintercept report header:", {k: r[k] for k in ("program", "start_time", "end_time", "host", "end_reason")})
ok = (not errors and r["end"] == "interrupted" and r["end_reason"] == "signal" and r["program"] == "dpintercept"
      and r["options"][0].endswith("dpintercept") and r["duration_s"] > 0
      and i["subscriptions_new"] >= 8 and i["unsubscribes"] == i["subscriptions_new"]
      and i["records"] > 0 and i["datagrams"] > 0 and i["records"] >= i["datagrams"] and i["drop_build"] == 0
      and sum(rej.values()) == 0 and i["control_not_allowed"] == 0
      and r["io"]["idle_sleeps"] > 0)  # the idle policy: it slept between the replays
sys.exit(0 if ok else 1)
PY
grep -q "dpintercept: summary:" "$RIG_TMP/intercept.out" && ok "dpintercept printed its summary" || bad dpintercept "no summary line"

# ---- one dpcopy, two intercepts: -s 198.18.1.7,198.18.1.8 -----------------------
# The -c pool is two addresses; the allocator takes them in turn (address-major), so the
# sessions are split between them. The target routes 198.19.255.0/24 to the second
# assistant (asst2, 198.18.1.8) and the rest of 198.19/16 to the first (asst, 198.18.1.7),
# and each dpintercept's -F keeps only its own fake client: a session can only complete
# if the records of the intercept its responses are routed to reach dpcopy. Both run
# with --stats-interval 1, whose status lines are checked against their reports.
ip -n "$(rig_ns tgt)" route add 198.19.255.0/24 via 198.18.1.8
ICE_FILTER="$ICE_FILTER and dst host 198.19.254.1" ICE_ISTATS=1 ICE_WAIT=0 \
  ice_intercept multi-a --report "$RIG_TMP/multi-a.json"
pa=$ICE_PID xa=$ICE_PREFIX
ICE_ASST=asst2 ICE_IP=198.18.1.8 ICE_FILTER="$ICE_FILTER and dst host 198.19.255.1" ICE_ISTATS=1 ICE_WAIT=0 \
  ice_intercept multi-b --report "$RIG_TMP/multi-b.json"
pb=$ICE_PID xb=$ICE_PREFIX
sleep 2
if ice_intercept_alive "$pa" multi-a && ice_intercept_alive "$pb" multi-b; then
  if ICE_CLIENTS=198.19.254.1,198.19.255.1 ICE_INTERCEPTS=198.18.1.7,198.18.1.8 ice_replay multi short 80 --speed 0; then
    e2e_check_http "two intercepts: short" short multi
    na=$(e2e_http_got 0 65535 '198\.19\.254\.1' | grep -c .); nb=$(e2e_http_got 0 65535 '198\.19\.255\.1' | grep -c .)
    n_exp=$(e2e_http_expected short | grep -c .)
    if [ "$na" -gt 0 ] && [ "$nb" -gt 0 ] && [ $((na + nb)) -eq "$n_exp" ]; then
      ok "two intercepts: $na requests through 198.18.1.7, $nb through 198.18.1.8, $n_exp in all"
    else bad "two intercepts" "served $na through 198.18.1.7 and $nb through 198.18.1.8, capture holds $n_exp"; fi
  else bad "two intercepts" "dpcopy exited $?"; tail -5 "$RIG_TMP/multi.out"; fi
  sleep 1.5  # a status line after dpcopy's UNSUBSCRIBE
else bad "two intercepts" "a dpintercept exited at start"; fi
ice_intercept_stop "$pa" "$xa" INT
ice_intercept_stop "$pb" "$xb" INT
ip -n "$(rig_ns tgt)" route del 198.19.255.0/24 via 198.18.1.8
# Each intercept created exactly one subscription (dpcopy subscribes to every -s) and
# ended it (UNSUBSCRIBE), carried records, rejected nothing; dpcopy received exactly the
# records the two sent, none lost.
python3 - "$RIG_TMP/multi-a.json" "$RIG_TMP/multi-b.json" "$RIG_TMP/multi.json" <<'PY' &&
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
c = json.load(open(sys.argv[3]))["control"]
for name, r in (("198.18.1.7", a), ("198.18.1.8", b)):
    i = r["intercept"]
    print(name, {k: i[k] for k in ("subscriptions_new", "unsubscribes", "responses", "no_subscriber", "records", "datagrams")})
print("dpcopy", {k: c[k] for k in ("subscribes_sent", "datagrams_rx", "accepted", "records", "datagrams_lost", "rejected")})
ok = all(r["intercept"]["subscriptions_new"] == 1 and r["intercept"]["unsubscribes"] == 1 and
         r["intercept"]["records"] > 0 and sum(r["control_rejects"].values()) == 0 for r in (a, b))
ok = ok and a["intercept"]["records"] + b["intercept"]["records"] == c["records"]
ok = ok and a["intercept"]["datagrams"] + b["intercept"]["datagrams"] == c["accepted"] == c["datagrams_rx"]
ok = ok and c["datagrams_lost"] == 0 and c["rejected"] == 0
sys.exit(0 if ok else 1)
PY
  ok "two intercepts: one subscription each, records through both, dpcopy got every record they sent" ||
  bad "two intercepts" "reports: see above"

# dpintercept's periodic status line (--stats-interval 1): every line has the documented
# format, the times increase, and the last one (after dpcopy's UNSUBSCRIBE) shows no
# subscription and the records and datagrams of the final report.
for k in a b; do
  python3 - "$RIG_TMP/multi-$k.out" "$RIG_TMP/multi-$k.json" <<'PY' && ok "dpintercept status line (multi-$k): $(grep -c '^dpintercept: [0-9.]*s ' "$RIG_TMP/multi-$k.out") lines, the last one as the report" || bad "dpintercept status line (multi-$k)" "see above"
import json, re, sys
fmt = re.compile(r"dpintercept: (\d+\.\d)s subscriptions (\d+) \| responses (\d+) \(no subscriber (\d+), "
                 r"filtered out (\d+)\) \| records (\d+) in (\d+) datagrams \| control (\d+) \(rejected (\d+)[^)]*\) "
                 r"\| rx (\d+) tx (\d+) drops (\d+)")
lines = [l.rstrip("\n") for l in open(sys.argv[1], errors="replace") if re.match(r"dpintercept: \d+\.\ds ", l)]
parsed = [fmt.fullmatch(l) for l in lines]
r = json.load(open(sys.argv[2]))["intercept"]
bad = [l for l, m in zip(lines, parsed) if not m]
if len(lines) < 3 or bad:
    print(f"{len(lines)} status lines; not in the format: {bad[:2]}"); sys.exit(1)
times = [float(m[1]) for m in parsed]
last = parsed[-1]
print("last:", lines[-1])
ok = all(t1 > t0 for t0, t1 in zip(times, times[1:]))
ok = ok and int(last[2]) == 0 and int(last[6]) == r["records"] and int(last[7]) == r["datagrams"]
ok = ok and int(last[9]) == 0
sys.exit(0 if ok else 1)
PY
done

# ---- the kernels of the copy and assistant namespaces never saw the copied sessions --
# (conntrack armed in each by the rig, a control flow on its loopback tracked)
for r in copy copy2 asst asst2; do
  if ct=$(rig_conntrack_untouched $r); then ok "$r: no conntrack entry for the copied sessions ($ct)"
  else bad "conntrack in $r" "$ct"; fi
done
finish
