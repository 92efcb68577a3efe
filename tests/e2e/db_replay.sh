#!/usr/bin/env bash
# End-to-end: every captured database statement reaches the target (issue #12).
#
#   tests/e2e/db_replay.sh DPCOPY_BINARY
#
# Rig (all made here, all removed at exit), the same roles and addresses as local_replay.sh:
#   cli  ── eth0 ── onl      "production": real clients (pgbench, mysqlslap) against
#                            PostgreSQL 15 and MariaDB on 198.18.0.2, captured with tcpdump
#   copy ── dp0  ── tgt      dpcopy on net_af_packet over dp0 and the target servers on
#                            198.18.1.2, which route the fake clients 198.19.0.0/16 to
#                            dpcopy's --ip 198.18.1.9
# Online and target servers are initialised the same way (lib/db_rig.sh). Captures:
#   pg-prefer   pgbench -S, libpq's default sslmode=prefer: every connection opens with an
#               8-byte SSLRequest, the server (ssl=off) answers one byte 'N', then the
#               StartupMessage follows
#   pg-disable  the same with sslmode=disable (StartupMessage first)
#   pg-prepared the same as pg-prefer with -M prepared: the extended protocol
#   mysql       mysqlslap (MariaDB: the server speaks first, a passwordless login)
# Each (pg-prepared only at --speed 0) is replayed offline at --speed 0 and --speed 1, on a
# busy host (a busy loop pinned to each CPU) and against a target whose frames arrive 40 ms
# late (tc netem on the target's eth0; where the kernel has no sch_netem, a relay in the
# copy namespace delays them instead: lib/db_rig.sh db_delay_relay). pg-prefer is also
# replayed against a stalling postmaster (stopped 250 ms, running 25 ms: db_stall): the
# target's kernel acknowledges the SSLRequest at once but the backend that reads it starts
# late, and a StartupMessage sent before the target's 'N' is then read together with the
# SSLRequest: "FATAL: received unencrypted data after SSL request". (A slow network alone
# does not show this: the backend reads the SSLRequest long before an early StartupMessage
# arrives.) Every run must have the target execute exactly the statements the capture holds
# (lib/requests_in_pcap.py --proto pgsql|mysql): the target's statement log for the fake
# clients, compared as sorted lists of statement texts, and no error for a fake client
# (PostgreSQL: no ERROR/FATAL logged; MariaDB: no failed login, Aborted_connects).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
DPCOPY=$(realpath "$1")
source "$here/lib/rig.sh"
source "$here/lib/replay_checks.sh"
source "$here/lib/db_rig.sh"

pass=0; fail=0
ok()  { echo "PASS $1"; pass=$((pass + 1)); }
bad() { echo "FAIL $1: $2"; fail=$((fail + 1)); }
started=$SECONDS

rig_init e2edb
trap db_cleanup EXIT
rig_add_ns cli && rig_add_ns onl && rig_add_ns copy && rig_add_ns tgt || exit 1
rig_link cli eth0 onl eth0 && rig_link copy dp0 tgt eth0 || exit 1
rig_addr cli eth0 198.18.0.1/24
rig_addr onl eth0 198.18.0.2/24
rig_addr tgt eth0 198.18.1.2/24
ip -n "$(rig_ns tgt)" route add 198.19.0.0/16 via 198.18.1.9
# DB_CASES=REGEX runs only the matching cases; DB_DPCOPY_OPTS adds options to every replay.
# E2E_KEEP=DIR keeps the captures, outputs and logs for a post-mortem.
[ -n "${E2E_KEEP:-}" ] && trap 'db_stop_servers; mkdir -p "$E2E_KEEP"; cp -r "$RIG_TMP"/. "$E2E_KEEP"/; rig_cleanup' EXIT

# Late answers: netem on tgt's eth0 if the kernel has it, else the relay (lib/db_rig.sh)
# between a second port of dpcopy, dpd (veth to dpr), and the wire dp0, all in the copy
# namespace. dpd has dp0's MAC, so the target's neighbour entry for dpcopy stays right
# whichever port dpcopy uses.
if rig_exec tgt tc qdisc add dev eth0 root netem delay 40ms 2>/dev/null; then
  rig_exec tgt tc qdisc del dev eth0 root
  DELAY_HOW=netem
else
  DELAY_HOW=relay
  rig_link copy dpd copy dpr || exit 1
  ip -n "$(rig_ns copy)" link set dpd address "$(rig_exec copy cat /sys/class/net/dp0/address)"
fi

db_pg onl 198.18.0.2 || exit 1
db_pg tgt 198.18.1.2 || exit 1
db_my onl 198.18.0.2 || exit 1
db_my tgt 198.18.1.2 || exit 1
echo "servers up after $((SECONDS - started)) s (delayed target: $DELAY_HOW)"

# ---- captures from real clients -------------------------------------------------------
# pg_ssl_requests NAME: how many client segments of NAME.pcap are exactly an SSLRequest.
pg_ssl_requests() {
  tcpdump -nn -r "$RIG_TMP/$1.pcap" 'tcp dst port 5432 and (ip[2:2] - ((ip[0] & 0xf) << 2) - ((tcp[12] & 0xf0) >> 2)) = 8
    and tcp[((tcp[12] & 0xf0) >> 2):4] = 8 and tcp[((tcp[12] & 0xf0) >> 2) + 4:4] = 0x04d2162f' 2>/dev/null | wc -l
}
syns() { tcpdump -nn -r "$RIG_TMP/$1.pcap" "tcp dst port $2 and tcp[tcpflags] & (tcp-syn|tcp-ack) = tcp-syn" 2>/dev/null | wc -l; }

pgbench_cmd=(pgbench -h 198.18.0.2 -U postgres -n -S -c 4 -t 50 postgres)
e2e_record pg-prefer "tcp port 5432" -- env PGSSLMODE=prefer PGGSSENCMODE=disable "${pgbench_cmd[@]}" ||
  bad "record pg-prefer" "tcpdump kept dropping packets"
e2e_record pg-disable "tcp port 5432" -- env PGSSLMODE=disable PGGSSENCMODE=disable "${pgbench_cmd[@]}" ||
  bad "record pg-disable" "tcpdump kept dropping packets"
# the extended protocol (Parse once per connection, then Bind/Execute): requests_in_pcap.py
# must name each Execute's statement as log_statement does
e2e_record pg-prepared "tcp port 5432" -- env PGSSLMODE=prefer PGGSSENCMODE=disable "${pgbench_cmd[@]}" -M prepared ||
  bad "record pg-prepared" "tcpdump kept dropping packets"
e2e_record mysql "tcp port 3306" -- mysqlslap --no-defaults -h 198.18.0.2 -P 3306 -u "$DB_MY_USER" --skip-ssl \
  --create-schema=slapdb --no-drop --concurrency=4 --iterations=2 --number-of-queries=100 --delimiter=';' \
  --query="SELECT v FROM t WHERE id = 1;SELECT v FROM t WHERE id = 2;SELECT COUNT(*) FROM t;SELECT v FROM t WHERE id = 3" ||
  bad "record mysql" "tcpdump kept dropping packets"
# the same with a password: every connection's login carries a scramble-bound auth response
e2e_record mysql-pw "tcp port 3306" -- mysqlslap --no-defaults -h 198.18.0.2 -P 3306 -u "$DB_MY_PW_USER" \
  --password="$DB_MY_PW" --skip-ssl --create-schema=slapdb --no-drop --concurrency=4 --iterations=2 \
  --number-of-queries=100 --delimiter=';' --query="SELECT v FROM t WHERE id = 1;SELECT COUNT(*) FROM t" ||
  bad "record mysql-pw" "tcpdump kept dropping packets"

# The captures are what the cases say: the prefer capture opens every connection with an
# SSLRequest, the disable capture never does.
for name in pg-prefer pg-disable pg-prepared; do
  n_syn=$(syns "$name" 5432); n_ssl=$(pg_ssl_requests "$name")
  want=$n_syn; [ "$name" = pg-disable ] && want=0
  if [ "$n_syn" -gt 0 ] && [ "$n_ssl" -eq "$want" ]; then ok "capture $name: $n_syn connections, $n_ssl SSLRequests"
  else bad "capture $name" "$n_syn connections, $n_ssl SSLRequests (want $want)"; fi
done

# ---- replays --------------------------------------------------------------------------
# replay NAME PORT IFACE [dpcopy options...]: replays NAME.pcap with dpcopy inside the copy
# namespace on net_af_packet over IFACE; output in NAME.RUN.out, report in NAME.RUN.json
# (RUN: run_no after the call).
run_no=0
replay() {
  local name=$1 port=$2 iface=$3; shift 3
  run_no=$((run_no + 1))
  local prefix="dpce2edb$$_$run_no"
  timeout 300 ip netns exec "$(rig_ns copy)" "$DPCOPY" --no-huge -m 512 --no-pci -l 0 \
    --file-prefix "$prefix" --log-level 'lib.*:warning' --vdev "net_af_packet0,iface=$iface" -- \
    -i "$RIG_TMP/$name.pcap" -x "$port-198.18.1.2:$port" -c 198.19.0.0/16 --ip 198.18.1.9/24 \
    --stats-interval 0 --report "$RIG_TMP/$name.$run_no.json" ${DB_DPCOPY_OPTS:-} "$@" >"$RIG_TMP/$name.$run_no.out" 2>&1
  local rc=$?
  rm -rf "/var/run/dpdk/$prefix"
  return $rc
}

# report_ctr FILE COUNTER: a counter of dpcopy's --report FILE
report_ctr() { sed -nE "s/.*\"$2\": ([0-9]+).*/\1/p" "$1" | head -1; }
# counters NAME: the connection and pacing counters of NAME's last replay (those the
# binary has): how each held request was let go tells why a statement went early
counters() {
  local f="$RIG_TMP/$1.$run_no.json" c v out=""
  for c in handshakes reconnects requests_held requests_released_bytes requests_released_quiet \
           requests_released_unanswered; do
    v=$(report_ctr "$f" "$c"); [ -n "$v" ] && out+=" $c=$v"
  done
  echo "${out# }"
}

# expected NAME PROTO PORT: the statements NAME.pcap holds, sorted
expected() { python3 "$E2E_REQS" "$RIG_TMP/$1.pcap" "$3" --proto "$2" | sort; }

# compare CASE NAME EXP GOT [ERRFILE]: the target executed exactly the capture's statements
compare() {
  local case=$1 name=$2 exp=$3 got=$4 errs=${5:-} n_exp n_got
  n_exp=$(printf '%s' "$exp" | grep -c .); n_got=$(printf '%s' "$got" | grep -c .)
  if [ "$n_exp" -eq 0 ]; then bad "$case" "capture holds no statement"; return; fi
  if [ "$exp" == "$got" ] && { [ -z "$errs" ] || [ ! -s "$errs" ]; }; then
    ok "$case ($n_got of $n_exp statements; $(counters "$name"))"
  else
    bad "$case" "target executed $n_got statements, capture holds $n_exp; $(counters "$name")"
    [ -n "$errs" ] && [ -s "$errs" ] && { echo "  target errors for fake clients:"; head -5 "$errs" | sed 's/^/    /'; }
    diff <(echo "$exp" | uniq -c) <(echo "$got" | uniq -c) | head -8 | sed 's/^/  /'
    grep -E '^ *(sessions|outcomes|requests|retransmissions|lost):' "$RIG_TMP/$name.$run_no.out" | sed 's/^/  /'
  fi
}

# run_case CASE NAME HOW [dpcopy options...]: one replay of NAME (pg-* or mysql) and its
# check. HOW: plain, busy (a busy loop pinned to each CPU during the replay), delay (every
# frame of the target 40 ms late) or stall (the target's postmaster stalling, PostgreSQL only).
run_case() {
  local case=$1 name=$2 how=$3 proto port role=tgt iface=dp0 offset=0 aborted="" rc procs=() pid cpu stall=""
  shift 3
  # DB_CASES=REGEX runs only the cases whose name matches (a post-mortem aid)
  [ -n "${DB_CASES:-}" ] && ! [[ $case =~ $DB_CASES ]] && return
  case $name in pg-*) proto=pgsql; port=5432 ;; *) proto=mysql; port=3306 ;; esac
  if [ $proto = pgsql ]; then offset=$(db_pg_log_size $role); else db_my_reset $role; aborted=$(db_my_aborted $role); fi
  case $how in
    busy)
      for cpu in $(seq 0 $(($(nproc) - 1))); do
        rig_bg copy taskset -c "$cpu" nice -n 0 sh -c 'while :; do :; done'
        procs+=("$RIG_LAST_PID")
      done ;;
    delay)
      if [ $DELAY_HOW = netem ]; then
        rig_exec tgt tc qdisc add dev eth0 root netem delay 40ms || { bad "$case" "tc netem failed"; return; }
      else db_delay_relay copy dpr dp0 40 || { bad "$case" "delay relay did not start"; return; }
        procs+=("$RIG_LAST_PID"); iface=dpd
      fi ;;
    stall)
      db_stall tgt "${DB_PG_PID[tgt]}" 250 25; stall=$RIG_LAST_PID ;;
  esac
  replay "$name" "$port" "$iface" "$@"; rc=$?
  for pid in "${procs[@]}"; do db_kill "$pid"; done
  [ -n "$stall" ] && db_unstall "$stall" "${DB_PG_PID[tgt]}"
  [ "$how" = delay ] && [ $DELAY_HOW = netem ] && rig_exec tgt tc qdisc del dev eth0 root
  if [ $rc -ne 0 ]; then
    bad "$case" "dpcopy exited $rc"; tail -5 "$RIG_TMP/$name.$run_no.out" | sed 's/^/  /'
    return
  fi
  if [ $proto = pgsql ]; then
    db_pg_settle $role || echo "  ($case: fake-client backends still open after 10 s)"
    compare "$case" "$name" "$(expected "$name" pgsql 5432)" \
      "$(db_pg_got $role "$offset" "$RIG_TMP/$name.$run_no.errors" | sort)" "$RIG_TMP/$name.$run_no.errors"
  else
    db_my_settle $role || echo "  ($case: fake-client connections still open after 10 s)"
    db_my_aborted_since $role "$aborted" >"$RIG_TMP/$name.$run_no.errors"
    compare "$case" "$name" "$(expected "$name" mysql 3306)" "$(db_my_got $role | sort)" "$RIG_TMP/$name.$run_no.errors"
  fi
}

# compared NAME: the comparison of NAME's last replay (the target is a copy of the online
# server): no status differs, and every exchange's status was read but the session's last
# (Terminate / COM_QUIT: no answer), one per handshake
compared() {
  local case="$1 compared" f="$RIG_TMP/$1.$run_no.json" got
  got=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); c=r["compare"]
print(c["exchanges"], c["different_status"], c["unknown_status"], r["session"]["handshakes"])' "$f" 2>&1)
  read -r ex diff unknown hs <<<"$got"
  if [ "${ex:-0}" -gt 0 ] && [ "$diff" = 0 ] && [ "$unknown" -le "$hs" ]; then
    ok "$case ($ex exchanges, $unknown statuses unread for $hs sessions)"
  else bad "$case" "exchanges different_status unknown_status handshakes: $got"; fi
}

for name in pg-prefer pg-disable mysql; do
  run_case "$name --speed 0" "$name" plain --speed 0
  [ -z "${DB_CASES:-}" ] && compared "$name"
  run_case "$name --speed 1" "$name" plain --speed 1
  run_case "$name busy host --speed 1" "$name" busy --speed 1
  run_case "$name target +40ms ($DELAY_HOW) --speed 1" "$name" delay --speed 1
done
run_case "pg-prefer stalling postmaster --speed 1" pg-prefer stall --speed 1
# Logins with a password: rewritten for the target's scramble with --mysql-user (the
# password holds ',' and ':'), every statement executed; without it every login is refused
# (counted as mysql_logins_failed) and nothing runs.
run_case "mysql-pw --mysql-user --speed 0" mysql-pw plain --speed 0 --mysql-user "$DB_MY_PW_USER:$DB_MY_PW"
run_case "mysql-pw --mysql-user busy host --speed 1" mysql-pw busy --speed 1 --mysql-user "$DB_MY_PW_USER:$DB_MY_PW"
# (the checks below need the runs above: not with DB_CASES)
[ -n "${DB_CASES:-}" ] && { echo "e2e-db: $pass passed, $fail failed"; [ "$fail" -eq 0 ]; exit; }
logins=$(syns mysql-pw 3306)
for c in rewritten ok; do
  v=$(report_ctr "$RIG_TMP/mysql-pw.$run_no.json" "mysql_logins_$c")
  if [ "${v:-0}" -eq "$logins" ]; then ok "mysql-pw: mysql_logins_$c $v of $logins logins"
  else bad "mysql-pw mysql_logins_$c" "${v:-absent}, $logins logins in the capture"; fi
done
db_my_reset tgt
replay mysql-pw 3306 dp0 --speed 0
db_my_settle tgt || true
failed=$(report_ctr "$RIG_TMP/mysql-pw.$run_no.json" mysql_logins_failed)
okn=$(report_ctr "$RIG_TMP/mysql-pw.$run_no.json" mysql_logins_ok)
ran=$(db_my_got tgt | grep -c .)
if [ "${failed:-0}" -ge "$logins" ] && [ "${okn:-1}" = 0 ] && [ "$ran" = 0 ]; then
  ok "mysql-pw without --mysql-user: $failed logins refused and counted, no statement ran"
else bad "mysql-pw without --mysql-user" "mysql_logins_failed=${failed:-absent} mysql_logins_ok=${okn:-absent} statements=$ran ($logins logins)"; fi
run_case "pg-prepared --speed 0" pg-prepared plain --speed 0

echo "db replay suite took $((SECONDS - started)) s"
echo "e2e-db: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
