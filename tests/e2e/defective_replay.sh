#!/usr/bin/env bash
# End-to-end: offline replay of defective captures (issue #12: "defective captures and
# mirrors lose no request whose bytes were captured"), local response path, in namespaces.
#
#   tests/e2e/defective_replay.sh DPCOPY_BINARY
#
# The rig of local_replay.sh (lib/rig.sh; all made here, all removed at exit):
#   cli  ── eth0 ── onl      "production": real clients against nginx, captured with tcpdump
#   copy ── dp0  ── tgt      dpcopy on net_af_packet over dp0 and the target nginx (198.18.1.2),
#                            which routes the fake clients 198.19.0.0/16 to dpcopy's 198.18.1.9
# Captures come from real clients; lib/pcap_mutate.py then damages them as a lossy mirror
# or capture would, seeded, and says exactly what it removed. Expected requests always come
# from the capture (lib/requests_in_pcap.py) minus what the mutator says can no longer be
# complete. Cases:
#   a. ab -k (100 requests, 4 connections) of an 88 KiB file with 1 % and 5 % of the server's
#      data segments dropped: the client's ACKs still say how much the online server sent,
#      so the target must serve all 100 requests;
#   b. single client data segments dropped (holes): in 4 keep-alive curl sessions of distinct
#      URLs (a first, middle, last and two adjacent requests), and in the 6,000-byte POST
#      upload capture (a head, a mid-body and a body-end segment): every request whose bytes
#      are all in the capture is served (also the one right before a hole, which the target
#      answers 200 ms late, and the one right after a hole whose online answer is missing
#      too), no other, the target sees no whole request broken, and the report counts the
#      holes;
#   c. 5 % of the segments duplicated and 5 % reordered (88 KiB and upload captures), and a
#      keep-alive capture whose last request comes after the client's FIN and two requests
#      swapped: all requests are served, lost_total 0.
# "Served" = a 200 line in the target's access log from a fake client. /upload is proxied
# by nginx to a backend that answers 200 ms later, so its 200 needs the whole body (request
# buffering): a POST with a hole in its body is not served, and shows up as a non-200 line.
# E2E_KEEP=DIR keeps captures, mutations (NAME.mut.json), outputs, reports and logs;
# E2E_SEED=N changes the mutator's seed (default 12).
# shellcheck disable=SC2046  # lists of segment numbers are split into options on purpose
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
DPCOPY=$(realpath "$1")
source "$here/lib/rig.sh"
source "$here/lib/replay_checks.sh"
MUTATE="$here/lib/pcap_mutate.py"
SEED=${E2E_SEED:-12}
started=$SECONDS

pass=0; fail=0
ok()  { echo "PASS $1"; pass=$((pass + 1)); }
bad() { echo "FAIL $1: $2"; fail=$((fail + 1)); }
finish() { echo "e2e-defective: $pass passed, $fail failed ($((SECONDS - started)) s, seed $SEED)"; [ "$fail" -eq 0 ]; exit; }

rig_init e2d
rig_add_ns cli && rig_add_ns onl && rig_add_ns copy && rig_add_ns tgt || { bad rig "namespaces"; finish; }
rig_link cli eth0 onl eth0 && rig_link copy dp0 tgt eth0 || { bad rig "veth"; finish; }
rig_addr cli eth0 198.18.0.1/24
rig_addr onl eth0 198.18.0.2/24
rig_addr tgt eth0 198.18.1.2/24
ip -n "$(rig_ns tgt)" route add 198.19.0.0/16 via 198.18.1.9
# /upload's backend (online and target): reads the whole body, answers "ok" 200 ms later
# (an application that takes its time: what was sent before a hole must still get its answer)
for role in onl tgt; do
  rig_bg "$role" python3 "$here/lib/slow_upstream.py" 127.0.0.1 8081 0.2 2>>"$RIG_TMP/slow_sink-$role.log"
  rig_wait_port "$role" 127.0.0.1 8081 || { bad rig "slow sink in $role"; finish; }
done
# /f88k: an 88 KiB file; /upload: buffered by nginx to the end of its body (so only a whole
# request gets a 200), then proxied to the slow sink
# shellcheck disable=SC2034  # read by rig_nginx
RIG_NGINX_EXTRA="location = /f88k { } location = /upload { proxy_pass http://127.0.0.1:8081; }"
rig_nginx onl 198.18.0.2 80 || { bad rig "online nginx"; finish; }
rig_nginx tgt 198.18.1.2 80 || { bad rig "target nginx"; finish; }
E2E_TGT_LOG=$RIG_NGINX_LOG
head -c 90112 /dev/urandom > "$RIG_TMP/nginx-onl-80/www/f88k"
cp "$RIG_TMP/nginx-onl-80/www/f88k" "$RIG_TMP/nginx-tgt-80/www/f88k"
chmod 644 "$RIG_TMP"/nginx-*-80/www/f88k
# e2e_reset_target also resets a redis; this suite has none
e2e_reset_target() { : > "$E2E_TGT_LOG"; }
[ -n "${E2E_KEEP:-}" ] && trap 'mkdir -p "$E2E_KEEP"; cp -r "$RIG_TMP"/. "$E2E_KEEP"/; rig_cleanup' EXIT

# replay PCAP OUT [dpcopy options...]: replays RIG_TMP/PCAP.pcap; output OUT.out, report OUT.json
run_no=0
replay() {
  local pcap=$1 out=$2; shift 2
  run_no=$((run_no + 1))
  local prefix="dpcd2e$$_$run_no"
  e2e_reset_target
  timeout 300 ip netns exec "$(rig_ns copy)" "$DPCOPY" --no-huge -m 512 --no-pci -l 0 \
    --file-prefix "$prefix" --log-level 'lib.*:warning' --vdev net_af_packet0,iface=dp0 -- \
    -i "$RIG_TMP/$pcap.pcap" -x 80-198.18.1.2:80 -c 198.19.0.0/16 --ip 198.18.1.9/24 \
    --stats-interval 0 --report "$RIG_TMP/$out.json" "$@" >"$RIG_TMP/$out.out" 2>&1
  local rc=$?
  rm -rf "/var/run/dpdk/$prefix"
  sleep 0.5  # nginx writes its log line after the response
  cp "$E2E_TGT_LOG" "$RIG_TMP/$out.access.log"
  return $rc
}

# ctr OUT NAME: a session counter (or top-level figure) of OUT.json; empty when absent
ctr() {
  python3 - "$RIG_TMP/$1.json" "$2" <<'PY'
import json, sys
try:
    r = json.load(open(sys.argv[1]))
except (OSError, ValueError):
    r = {}  # no report (dpcopy failed): the caller sees an empty figure
v = r.get(sys.argv[2], r.get("session", {}).get(sys.argv[2]))
print("" if v is None else v)
PY
}
# report_line OUT: the report's figures about loss, gaps, resyncs and pacing guesses (every
# nonzero session counter whose name says so, so counters added later show up here too)
report_line() {
  python3 - "$RIG_TMP/$1.json" <<'PY'
import json, re, sys
try:
    r = json.load(open(sys.argv[1]))
except (OSError, ValueError):
    sys.exit(print("  report: none"))
s = r.get("session", {})
keys = [k for k in s if re.search(r"gap|hole|resync|lost|reconnect|released|unanswered|detached|after_close|duplicate|overlap|rst|linger", k)]
print(f"  report: lost_total {r.get('lost_total')} | " + " ".join(f"{k} {s[k]}" for k in keys if s[k]))
PY
}
# mut OUT KEY: a figure of the mutator's summary OUT.mut.json
mut() { python3 -c 'import json,sys; v=json.load(open(sys.argv[1]))[sys.argv[2]]; print("\n".join(map(str, v)) if isinstance(v, list) else v)' "$RIG_TMP/$1.mut.json" "$2"; }

# served: request lines the target answered 200 to fake clients, sorted; broken: its other
# lines from fake clients (requests that reached it incomplete or reset)
served() { grep -E '^198\.19\.[0-9.]+ ' "$E2E_TGT_LOG" | awk '$NF ~ /^[0-9]+$/ && $(NF-1) == 200' | sed -E 's/^[^"]*"([^"]*)".*/\1/' | sort; }
broken() { grep -E '^198\.19\.[0-9.]+ ' "$E2E_TGT_LOG" | awk '$(NF-1) != 200' | sed -E 's/^[^"]*"([^"]*)" ([0-9]+).*/\2 \1/' | sort; }

# check_served CASE OUT EXPECTED: the target served exactly EXPECTED (sorted lines)
check_served() {
  local case=$1 out=$2 exp=$3 got n_exp n_got
  got=$(served)
  n_exp=$(printf '%s' "$exp" | grep -c .); n_got=$(printf '%s' "$got" | grep -c .)
  if [ "$n_exp" -eq 0 ]; then bad "$case" "no request expected: the capture is empty"; return 1; fi
  if [ "$exp" == "$got" ]; then ok "$case: served $n_got of $n_exp expected requests"; report_line "$out"; return 0; fi
  bad "$case" "target served $n_got, expected $n_exp"
  diff <(echo "$exp" | uniq -c) <(echo "$got" | uniq -c) | head -8
  report_line "$out"
  grep -E 'lost|summary' "$RIG_TMP/$out.out" | head -4
  return 1
}

# ---- captures from real clients ---------------------------------------------------
e2e_record f88k "tcp port 80" -- ab -q -k -n 100 -c 4 http://198.18.0.2/f88k || bad "record f88k" "tcpdump kept dropping"
# 4 keep-alive connections, 12 distinct URLs each (a lost request is known by its line)
e2e_record distinct "tcp port 80" -- bash -c 'for s in 1 2 3 4; do
    args=(); for r in $(seq 12); do args+=(-o /dev/null "http://198.18.0.2/s$s-r$r"); done
    curl -s "${args[@]}" & done; wait' || bad "record distinct" "tcpdump kept dropping"
e2e_capture upload || bad "record upload" "tcpdump kept dropping"
for name in f88k distinct upload; do
  if [ "$(e2e_http_expected "$name" | grep -c .)" -eq 0 ]; then bad "record $name" "the capture holds no request"; fi
done

# mutate NAME OUT [pcap_mutate options...]: RIG_TMP/OUT.pcap from NAME.pcap, summary OUT.mut.json
mutate() {
  local name=$1 out=$2; shift 2
  python3 "$MUTATE" "$RIG_TMP/$name.pcap" "$RIG_TMP/$out.pcap" --port 80 --seed "$SEED" --json "$RIG_TMP/$out.mut.json" "$@"
}

# ---- a. server data segments missing ------------------------------------------------
# Control first: the same capture undamaged must pass, or the cases below prove nothing.
exp_f88k=$(e2e_http_expected f88k)
if replay f88k f88k-whole --speed 0; then check_served "a0 88 KiB keep-alive, capture whole" f88k-whole "$exp_f88k"
else bad "a0" "dpcopy exited $?"; tail -5 "$RIG_TMP/f88k-whole.out"; fi
for pct in 1 5; do
  out=f88k-srv$pct
  if ! mutate f88k "$out" --drop-server-pct "$pct"; then bad "a $pct %" "pcap_mutate failed"; continue; fi
  # the mutation must leave every client byte in place (else the expectation would be wrong)
  if [ "$(mut "$out" hole_bytes)" != 0 ] || [ "$(python3 "$E2E_REQS" "$RIG_TMP/$out.pcap" 80 | sort)" != "$exp_f88k" ]; then
    bad "a $pct %" "the mutated capture lost client bytes"; continue
  fi
  echo "  mutation: $(mut "$out" server_data_segments) server data segments, $(mut "$out" dropped_server | grep -c .) dropped ($(mut "$out" dropped_server_bytes) bytes)"
  if replay "$out" "$out" --speed 0; then
    if check_served "a $pct % of server segments dropped" "$out" "$exp_f88k"; then
      r=$(ctr "$out" drop_resync_segments)
      [ "${r:-0}" = 0 ] && ok "a $pct %: drop_resync_segments 0" || bad "a $pct %" "drop_resync_segments $r"
    fi
  else bad "a $pct %" "dpcopy exited $?"; tail -5 "$RIG_TMP/$out.out"; fi
done

# ---- b. client data segments missing (holes) --------------------------------------------
# pick_segments NAME AWK: the numbers (pcap_mutate --list-client) of the client data segments
# AWK picks; AWK sees $1 number, $2 flow, $3 stream offset, $4 length, $5.. the requests.
pick_segments() { python3 "$MUTATE" "$RIG_TMP/$1.pcap" --port 80 --list-client | awk -F'\t' "$2" | paste -sd' '; }

# check_holes CASE OUT NAME: after a replay of OUT (NAME's capture with holes), the target
# served the capture's requests minus the ones the mutator says have a hole, the only
# requests it saw broken are among those, and the report counts the holes.
check_holes() {
  local case=$1 out=$2 name=$3 exp lost
  lost=$(mut "$out" lost_request_lines)
  # the capture's requests minus the lost ones (a multiset difference: lines may repeat)
  exp=$(comm -23 <(e2e_http_expected "$name") <(printf '%s\n' "$lost" | grep . | sort))
  echo "  mutation: $(mut "$out" holes) holes ($(mut "$out" hole_bytes) bytes), $(printf '%s' "$lost" | grep -c .) requests incomplete: $(echo $lost | cut -c1-200)"
  check_served "$case: whole requests served, incomplete ones not" "$out" "$exp"
  # the target may see (non-200) only incomplete requests whose request line went out before
  # their hole: any other broken line is a whole request the copy broke (a multiset difference)
  local stray
  stray=$(comm -23 <(broken | cut -d' ' -f2- | sort) <(mut "$out" lost_lines_sent | grep . | sort))
  if [ -z "$stray" ]; then ok "$case: the target saw broken only incomplete requests ($(broken | grep -c .) non-200: $(broken | cut -d' ' -f1 | sort | uniq -c | xargs))"
  else bad "$case" "requests whole in the capture reached the target broken: $(broken | xargs | cut -c1-200)"; fi
  # ---- "counted loss equals what was removed": capture_gaps, reconnect_capture_gap and
  # drop_resync_bytes per hole; capture_hole_bytes == the mutator's hole_bytes; the sum of
  # requests_lost_* against the capture's requests the target did not serve.
  local holes gaps filled rec rbytes skip hbytes nlost why=""
  holes=$(mut "$out" holes)
  skip=$(python3 -c 'import json,sys; print(sum(q["bytes_after_hole"] for q in json.load(open(sys.argv[1]))["lost_requests"]))' "$RIG_TMP/$out.mut.json")
  gaps=$(ctr "$out" capture_gaps); filled=$(ctr "$out" capture_gaps_filled)
  rec=$(ctr "$out" reconnect_capture_gap); rbytes=$(ctr "$out" drop_resync_bytes)
  [ "$gaps" = "$holes" ] || why+=" capture_gaps $gaps"
  [ "$filled" = 0 ] || why+=" capture_gaps_filled $filled"
  [ "$rec" = "$holes" ] || why+=" reconnect_capture_gap $rec"
  [ "$rbytes" = "$skip" ] || why+=" drop_resync_bytes $rbytes (bytes of incomplete requests after their hole: $skip)"
  if [ -z "$why" ]; then ok "$case: report counts the $holes holes (capture_gaps, reconnect_capture_gap $holes; drop_resync_bytes $rbytes = bytes of incomplete requests after their hole)"
  else bad "$case report" "$holes holes, but$why"; fi
  hbytes=$(ctr "$out" capture_hole_bytes)
  nlost=$(python3 - "$RIG_TMP/$out.json" <<'PY'
import json, sys
try:
    s = json.load(open(sys.argv[1])).get("session", {})
except (OSError, ValueError):
    s = {}
k = [v for n, v in s.items() if n.startswith("requests_lost_")]
print(sum(k) if k else "")
PY
)
  if [ -n "$hbytes" ] || [ -n "$nlost" ]; then
    # bytes: what the mutator removed; requests: what the target did not serve (every loss,
    # the incomplete requests and any whole one lost with them, must be counted)
    local want_h want_n
    want_h=$(mut "$out" hole_bytes)
    want_n=$(comm -23 <(e2e_http_expected "$name") <(served) | grep -c .)
    # The engine counts a hole as one lost request (docs/operations.md): a hole that swallows
    # several whole requests (adjacent segments) is counted once, since nothing in the capture
    # says how many requests it held. So: exact when every hole cut one request, else at
    # least one per hole and at most what the target missed.
    local n_holes n_incomplete ok_n=0
    n_holes=$(mut "$out" holes); n_incomplete=$(mut "$out" lost_request_lines | grep -c .)
    if [ -n "$nlost" ]; then
      if [ "$n_incomplete" = "$n_holes" ]; then [ "$nlost" = "$want_n" ] && ok_n=1
      else [ "$nlost" -ge "$n_holes" ] && [ "$nlost" -le "$want_n" ] && ok_n=1; fi
    else ok_n=1; fi
    if [ "${hbytes:-$want_h}" = "$want_h" ] && [ $ok_n -eq 1 ]; then
      ok "$case: loss counters equal the loss (capture_hole_bytes ${hbytes:-absent}, requests_lost_* ${nlost:-absent} for $n_holes holes, $want_n requests not served)"
    else bad "$case loss counters" "capture_hole_bytes ${hbytes:-absent} (removed $want_h), requests_lost_* ${nlost:-absent} (requests of the capture not served: $want_n, of which $(mut "$out" lost_request_lines | grep -c .) incomplete)"; fi
  fi
}

# distinct: per connection (in order of appearance) drop its 1st request; its 6th; its last;
# its 4th and 5th (adjacent)
segs=$(pick_segments distinct '{ n[$2]++; if (!($2 in c)) { c[$2] = ++k }
  if ((c[$2] == 1 && n[$2] == 1) || (c[$2] == 2 && n[$2] == 6) || (c[$2] == 4 && (n[$2] == 4 || n[$2] == 5))) print $1
  if (c[$2] == 3) last = $1 } END { if (last) print last }')
if [ "$(echo "$segs" | wc -w)" -ne 5 ]; then bad "b distinct" "could not choose 5 segments in the capture (got '$segs')"
elif mutate distinct distinct-holes $(printf -- '--drop-client-segment %s ' $segs); then
  if replay distinct-holes distinct-holes --speed 0; then check_holes "b keep-alive holes (segments $segs)" distinct-holes distinct
  else bad "b distinct" "dpcopy exited $?"; tail -5 "$RIG_TMP/distinct-holes.out"; fi
else bad "b distinct" "pcap_mutate failed"; fi

# distinct, a hole and its answer: the 8th request of the 2nd connection and the server
# data that answered it are both missing (a mirror losing both directions for a moment).
# The next request is whole in the capture, and must still be served.
read -r cseg cflow cend < <(python3 "$MUTATE" "$RIG_TMP/distinct.pcap" --port 80 --list-client |
  awk -F'\t' '{ n[$2]++; if (!($2 in c)) c[$2] = ++k } c[$2] == 2 && n[$2] == 8 { print $1, $2, $3 + $4 }')
ssegs=$(python3 "$MUTATE" "$RIG_TMP/distinct.pcap" --port 80 --list-server |
  awk -F'\t' -v f="${cflow:-none}" -v a="ack ${cend:-0}" '$2 == f && $5 == a { print $1 }')
if [ -z "${cseg:-}" ] || [ -z "$ssegs" ]; then bad "b distinct, hole and answer" "could not find the request and its answer in the capture"
elif mutate distinct distinct-hole-answer --drop-client-segment "$cseg" $(printf -- '--drop-server-segment %s ' $ssegs); then
  if replay distinct-hole-answer distinct-hole-answer --speed 0; then
    check_holes "b keep-alive hole and its answer (client segment $cseg, server $(echo $ssegs))" distinct-hole-answer distinct
  else bad "b distinct, hole and answer" "dpcopy exited $?"; tail -5 "$RIG_TMP/distinct-hole-answer.out"; fi
else bad "b distinct, hole and answer" "pcap_mutate failed"; fi

# upload: a segment with a request's head (its body stays), one inside a body, one ending a
# body; in three different connections, past their 8th segment (their 2nd or 3rd request)
segs=$(pick_segments upload '{ n[$2]++; if (!($2 in c)) c[$2] = ++k }
  n[$2] > 8 && c[$2] == 1 && !a && $5 ~ /^start\/more/ { a = $1; print $1 }
  n[$2] > 8 && c[$2] == 2 && !b && $5 ~ /^body\/more/ { b = $1; print $1 }
  n[$2] > 8 && c[$2] == 3 && !e && $5 ~ /^body\/end/ { e = $1; print $1 }')
if [ "$(echo "$segs" | wc -w)" -ne 3 ]; then bad "b upload" "could not choose 3 segments in the capture (got '$segs')"
elif mutate upload upload-holes $(printf -- '--drop-client-segment %s ' $segs); then
  if replay upload-holes upload-holes --speed 0; then check_holes "b upload holes (segments $segs)" upload-holes upload
  else bad "b upload" "dpcopy exited $?"; tail -5 "$RIG_TMP/upload-holes.out"; fi
else bad "b upload" "pcap_mutate failed"; fi

# ---- c. duplicated and reordered segments -------------------------------------------------
for name in f88k upload; do
  out=$name-dupre
  if ! mutate "$name" "$out" --duplicate-pct 5 --reorder-pct 5; then bad "c $name" "pcap_mutate failed"; continue; fi
  echo "  mutation: $(mut "$out" duplicated | grep -c .) segments duplicated, $(mut "$out" reordered | grep -c .) swapped ($(mut "$out" reordered | grep -c "'with_fin': True") with a FIN)"
  if replay "$out" "$out" --speed 0; then
    if check_served "c $name, 5 % duplicated + 5 % reordered" "$out" "$(e2e_http_expected "$name")"; then
      l=$(ctr "$out" lost_total)
      [ "$l" = 0 ] && ok "c $name: lost_total 0" || bad "c $name" "lost_total $l"
    fi
  else bad "c $name" "dpcopy exited $?"; tail -5 "$RIG_TMP/$out.out"; fi
done

# distinct, reordered on purpose: the last request of the 1st connection captured after the
# client's FIN (segments of two mirror queues), the 3rd request of the 2nd connection after
# its 4th. Every byte is in the capture: every request must be served.
segs=$(pick_segments distinct '{ n[$2]++; if (!($2 in c)) c[$2] = ++k }
  c[$2] == 1 { last = $1 } c[$2] == 2 && n[$2] == 3 { print $1 } END { if (last) print last }')
if [ "$(echo "$segs" | wc -w)" -ne 2 ]; then bad "c distinct" "could not choose 2 segments in the capture (got '$segs')"
elif mutate distinct distinct-swapped $(printf -- '--reorder-client-segment %s ' $segs); then
  echo "  mutation: $(mut distinct-swapped reordered | grep -c "'with_fin': True") request(s) after the FIN, $(mut distinct-swapped reordered | grep -c "'with_fin': False") pair(s) of requests swapped"
  if replay distinct-swapped distinct-swapped --speed 0; then
    if check_served "c keep-alive, a request after the client's FIN and two requests swapped (segments $segs)" distinct-swapped "$(e2e_http_expected distinct)"; then
      l=$(ctr distinct-swapped lost_total)
      [ "$l" = 0 ] && ok "c distinct: lost_total 0" || bad "c distinct" "lost_total $l"
    fi
  else bad "c distinct" "dpcopy exited $?"; tail -5 "$RIG_TMP/distinct-swapped.out"; fi
else bad "c distinct" "pcap_mutate failed"; fi

finish
