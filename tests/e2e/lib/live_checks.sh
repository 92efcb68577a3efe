# Live-copy checks shared by tests/e2e/live_copy.sh and mirror_copy.sh (sourced after
# rig.sh). They use the caller's ok/bad, COPY_PID/COPY_OUT/COPY_PREFIX (its start_copy),
# ONL_LOG and TGT_LOG (the online and target nginx access logs) and RIG_TMP.

# lines LOG CLIENT-RE: the request lines LOG served to clients matching CLIENT-RE, sorted
lines() { grep -E "^$2 " "$1" | sed -E 's/^[^"]*"([^"]*)".*/\1/' | sort; }
count() { grep -c . <<<"$1"; }

stop_copy() {  # SIGINT, as an operator would; returns dpcopy's exit status
  local rc
  kill -INT "$COPY_PID" 2>/dev/null
  for _ in $(seq 300); do kill -0 "$COPY_PID" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$COPY_PID" 2>/dev/null && { kill -9 "$COPY_PID"; echo "dpcopy did not stop" >>"$COPY_OUT"; }
  wait "$COPY_PID"; rc=$?
  rm -rf "/var/run/dpdk/$COPY_PREFIX"
  return $rc
}

# load CASE MULT CMD...: clears both logs, runs the client, waits (at most 30 s) until
# the target has served MULT times what the online server served, then compares.
load() {
  local case=$1 mult=$2 exp got i prev=-1 n; shift 2
  : > "$ONL_LOG"; : > "$TGT_LOG"
  rig_exec cli "$@" >"$RIG_TMP/client.log" 2>&1 || echo "$case: client exited $?" >&2
  sleep 0.3
  exp=$(lines "$ONL_LOG" '198\.18\.0\.1' | awk -v m="$mult" '{for (i = 0; i < m; i++) print}' | sort)
  for i in $(seq 60); do
    n=$(grep -cE '^198\.19\.' "$TGT_LOG")
    [ "$n" -ge "$(count "$exp")" ] && [ "$n" = "$prev" ] && break
    prev=$n; sleep 0.5
  done
  got=$(lines "$TGT_LOG" '198\.19\.[0-9.]+')
  if [ "$(count "$exp")" -eq 0 ]; then bad "$case" "the online server served nothing"; return; fi
  if [ "$exp" == "$got" ]; then ok "$case ($(count "$got") requests, online $(( $(count "$exp") / mult )) x$mult)"
  else
    bad "$case" "target served $(count "$got"), online server $(count "$exp") (x$mult)"
    diff <(echo "$exp" | uniq -c) <(echo "$got" | uniq -c) | head -6
    tail -3 "$COPY_OUT"
  fi
}

# wait_copying NAME: until dpcopy ($COPY_PID, its output in $COPY_OUT) says "; copying" (60 s at
# most); else FAIL NAME, show its last lines and stop it.
wait_copying() {
  local i
  for i in $(seq 600); do
    grep -q "; copying" "$COPY_OUT" && return 0
    kill -0 "$COPY_PID" 2>/dev/null || break
    sleep 0.1
  done
  bad "$1" "dpcopy did not start copying"; tail -5 "$COPY_OUT"; stop_copy; return 1
}
