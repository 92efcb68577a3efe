# Captures and exact-count checks shared by the offline replay suites (local_replay.sh,
# intercept_replay.sh, intercept_faults.sh). Source it after lib/rig.sh; do not run it.
#
# The suite defines ok NAME and bad NAME WHY (its pass/fail counters) and sets
# E2E_TGT_LOG to the target nginx's access log (rig_nginx's RIG_NGINX_LOG). Both rigs
# have the same roles and addresses for what is checked here: real clients in `cli`
# against the online servers 198.18.0.2 (captured in `onl`), the target 198.18.1.2 in
# `tgt` (nginx :80, redis :6379), fake clients in 198.19.0.0/16. Captures and outputs
# live in RIG_TMP: NAME.pcap, OUT.out.
# shellcheck shell=bash

E2E_REQS="$(dirname "${BASH_SOURCE[0]}")/requests_in_pcap.py"
E2E_TGT_LOG=${E2E_TGT_LOG:-}

# e2e_record NAME FILTER -- CMD...: runs CMD in cli while capturing on onl's side into
# NAME.pcap. A capture tcpdump dropped packets from is recorded again (at most 3 tries):
# the expected request list is read from the capture, so it must be whole. Fails after 3.
e2e_record() {
  local name=$1 filter=$2 try drops cap; shift 3
  for try in 1 2 3; do
    rig_tcpdump onl eth0 "$RIG_TMP/$name.pcap" "$filter"
    cap=$RIG_LAST_PID
    rig_exec cli "$@" >"$RIG_TMP/$name.client.log" 2>&1 || echo "record $name: client exited $?" >&2
    rig_tcpdump_stop "$cap"
    drops=$(rig_tcpdump_drops "$RIG_TMP/$name.pcap")
    [ "$drops" = 0 ] && return 0
    echo "record $name: tcpdump dropped $drops packets (try $try)" >&2
  done
  return 1
}

# e2e_capture NAME: records the replay suites' capture NAME from its real client (the same
# captures for every response path): keepalive (ab -k), short (ab, one request per
# connection), large (256 KiB responses), upload (6,000-byte POST bodies), curl (one keep-alive connection, four requests),
# curlkl (45 overlapping curl keep-alive connections: small, large, small, then FIN right
# after the last response), redis (redis-benchmark), close (wrk, Connection: close).
e2e_capture() {
  case $1 in
    keepalive) e2e_record keepalive "tcp port 80" -- ab -q -k -n 200 -c 4 http://198.18.0.2/ ;;
    short) e2e_record short "tcp port 80" -- ab -q -n 100 -c 2 http://198.18.0.2/short ;;
    large) e2e_record large "tcp port 80" -- ab -q -n 20 -c 2 http://198.18.0.2/large ;;
    curl) e2e_record curl "tcp port 80" -- curl -s -o /dev/null -o /dev/null -o /dev/null -o /dev/null \
      http://198.18.0.2/c1 http://198.18.0.2/c2 http://198.18.0.2/large http://198.18.0.2/c4 ;;
    # EB-6: the FIN must wait for the target's whole response
    curlkl) e2e_record curlkl "tcp port 80" -- bash -c 'for i in $(seq 45); do curl -s -o /dev/null -o /dev/null \
      -o /dev/null http://198.18.0.2/f$i-a http://198.18.0.2/large http://198.18.0.2/f$i-b & sleep 0.1; done; wait' ;;
    redis) e2e_record redis "tcp port 6379" -- redis-benchmark -h 198.18.0.2 -n 300 -c 3 -t set,get,incr,lpush -q ;;
    close) e2e_record close "tcp port 80" -- wrk -t 1 -c 8 -d 2s -H 'Connection: close' http://198.18.0.2/w ;;
    # 6,000-byte POST bodies (several segments each): what -n chains without copying
    upload) head -c 6000 /dev/urandom >"$RIG_TMP/upload.body"
      e2e_record upload "tcp port 80" -- ab -q -k -n 60 -c 3 -p "$RIG_TMP/upload.body" -T application/octet-stream \
        http://198.18.0.2/upload ;;
    *) echo "e2e_capture: no capture named '$1'" >&2; return 2 ;;
  esac
}

# e2e_reset_target: empties the access log and redis's commandstats before a replay.
e2e_reset_target() {
  : > "$E2E_TGT_LOG"
  rig_exec tgt redis-cli -h 198.18.1.2 CONFIG RESETSTAT >/dev/null
}

# e2e_http_expected NAME: the HTTP request lines NAME.pcap holds (port 80), sorted.
e2e_http_expected() { python3 "$E2E_REQS" "$RIG_TMP/$1.pcap" 80 | sort; }
# e2e_http_got [PORT_LO PORT_HI [ADDR_REGEX]]: the request lines the target served to fake
# clients (198.19/16; optionally only from those ports, or those addresses), sorted.
e2e_http_got() {
  grep -E "^${3:-198\.19\.[0-9.]+} " "$E2E_TGT_LOG" |
    awk -v lo="${1:-0}" -v hi="${2:-65535}" '$2 >= lo && $2 <= hi' | sed -E 's/^[^"]*"([^"]*)".*/\1/' | sort
}

# e2e_check_http CASE NAME OUT [MULTIPLY]: the target served exactly NAME.pcap's request
# lines, each MULTIPLY times (-n), to fake clients; OUT.out is shown on a failure.
e2e_check_http() {
  local case=$1 name=$2 out=$3 mult=${4:-1} exp got n_exp n_got
  exp=$(e2e_http_expected "$name" | awk -v m="$mult" '{for (i = 0; i < m; i++) print}' | sort)
  got=$(e2e_http_got)
  n_exp=$(printf '%s' "$exp" | grep -c .); n_got=$(printf '%s' "$got" | grep -c .)
  if [ "$n_exp" -eq 0 ]; then bad "$case" "capture holds no request"; return; fi
  if [ "$exp" == "$got" ]; then ok "$case ($n_got of $n_exp requests)"; else
    bad "$case" "target served $n_got requests, capture holds $n_exp (x$mult)"
    diff <(echo "$exp" | uniq -c) <(echo "$got" | uniq -c) | head -10
    tail -12 "$RIG_TMP/$out.out"
  fi
}

# e2e_redis_expected NAME: "command=count" lines of NAME.pcap's redis commands (port 6379).
e2e_redis_expected() {
  python3 "$E2E_REQS" "$RIG_TMP/$1.pcap" 6379 --proto redis | grep -vE '^(CONFIG|INFO)$' | tr 'A-Z' 'a-z' |
    sort | uniq -c | awk '{print $2"="$1}'
}
# e2e_redis_got: the same, from the target redis's INFO commandstats.
e2e_redis_got() {
  rig_exec tgt redis-cli -h 198.18.1.2 INFO commandstats | tr -d '\r' |
    sed -nE 's/^cmdstat_([a-z|]+):calls=([0-9]+).*/\1=\2/p' | grep -vE '^(config|info)' | sort
}
# e2e_check_redis CASE NAME OUT: the target redis executed exactly NAME.pcap's commands.
e2e_check_redis() {
  local exp got
  exp=$(e2e_redis_expected "$2"); got=$(e2e_redis_got)
  if [ -n "$exp" ] && [ "$exp" == "$got" ]; then ok "$1 ($(echo $got))"
  else bad "$1" "expected [$(echo $exp)] got [$(echo $got)]"; tail -5 "$RIG_TMP/$3.out"; fi
}

# e2e_check_same_subset CASE NAME GOT1 GOT2: two -r runs over NAME.pcap (GOT1, GOT2: what
# e2e_http_got said after each) served the same request lines, a non-empty proper subset of
# the capture's. (For a capture whose requests are all alike this compares the counts.)
e2e_check_same_subset() {
  local case=$1 name=$2 got1=$3 got2=$4 total n1 n2 extra
  total=$(e2e_http_expected "$name" | grep -c .)
  n1=$(printf '%s' "$got1" | grep -c .); n2=$(printf '%s' "$got2" | grep -c .)
  extra=$(comm -23 <(printf '%s\n' "$got1" | grep .) <(e2e_http_expected "$name") | grep -c .)
  if [ "$got1" == "$got2" ] && [ "$n1" -gt 0 ] && [ "$n1" -lt "$total" ] && [ "$extra" -eq 0 ]; then
    ok "$case chose the same $n1 of $total sessions twice"
  else bad "$case" "runs served $n1 and $n2 of $total requests ($extra not in the capture)"; fi
}
