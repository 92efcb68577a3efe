# Database servers for the end-to-end rig (tests/e2e/db_replay.sh): PostgreSQL 15 and
# MariaDB, each a real server in a rig namespace with its data, sockets and logs in
# RIG_TMP, and readers of what a target executed. Source it after lib/rig.sh; do not run it.
#
# Servers are started with rig_bg (killed by PID) and stopped cleanly by db_stop_servers,
# which db_cleanup (the suite's EXIT trap: it then calls rig_cleanup) runs first.
# Statements are compared as requests_in_pcap.py prints them: one a line, escaped by
# its escape_statement (DB_ESCAPE below imports it).
# shellcheck shell=bash

DB_PGBIN=${DB_PGBIN:-/usr/lib/postgresql/15/bin}
declare -A DB_PG_DIR=() DB_PG_PID=() DB_MY_DIR=() DB_MY_PID=()

# db_stop_servers: fast shutdown of every server started here (postmaster: SIGINT
# disconnects its sessions; SIGTERM would wait for them), waits up to 10 s each.
db_stop_servers() {
  local pid
  for pid in "${DB_PG_PID[@]}" "${DB_MY_PID[@]}"; do kill -CONT "$pid" 2>/dev/null; done  # db_stall
  for pid in "${DB_PG_PID[@]}"; do kill -INT "$pid" 2>/dev/null; done
  for pid in "${DB_MY_PID[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for pid in "${DB_PG_PID[@]}" "${DB_MY_PID[@]}"; do
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  done
  DB_PG_PID=(); DB_MY_PID=()
}
db_cleanup() { db_stop_servers; rig_cleanup; }

# db_kill PID: ends one process started with rig_bg (by PID), waits for it and drops
# it from the rig's list.
db_kill() {
  local pid=$1 keep=() p
  kill "$pid" 2>/dev/null
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  for p in "${RIG_PIDS[@]}"; do [ "$p" = "$pid" ] || keep+=("$p"); done
  RIG_PIDS=("${keep[@]}")
}

# DB_ESCAPE: python that imports requests_in_pcap.py's escape_statement (no bytecode
# written next to it).
DB_ESCAPE="import sys
sys.dont_write_bytecode = True
sys.path.insert(0, '$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)')
from requests_in_pcap import escape_statement"

# ---- PostgreSQL ------------------------------------------------------------------

# db_pg ROLE IP: a PostgreSQL 15 cluster made by initdb (as postgres) in
# RIG_TMP/pg-ROLE, listening on IP:5432 only (unix socket in the same directory), trust
# for 198.18.0.0/15, ssl off, every statement logged as JSON with the client's address
# (log_statement=all, jsonlog: RIG_TMP/pg-ROLE/pg.json), initialised by pgbench -i -s 1.
db_pg() {
  local role=$1 ip=$2 dir="$RIG_TMP/pg-$1"
  mkdir -p "$dir/sock" && chown -R postgres: "$dir" || return 1
  runuser -u postgres -- "$DB_PGBIN/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --locale C \
    --no-sync >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; return 1; }
  echo "host all all 198.18.0.0/15 trust" >>"$dir/data/pg_hba.conf"
  cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = '$ip'
port = 5432
unix_socket_directories = '$dir/sock'
ssl = off
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = 16MB
logging_collector = on
log_destination = 'jsonlog'
log_directory = '$dir'
log_filename = 'pg.log'
log_rotation_size = 0
log_rotation_age = 0
log_statement = 'all'
CONF
  # setpriv execs the postmaster itself: the PID rig_bg records is the postmaster's
  rig_bg "$role" setpriv --reuid=postgres --regid=postgres --init-groups "$DB_PGBIN/postgres" -D "$dir/data" \
    >"$dir/postmaster.log" 2>&1
  DB_PG_PID[$role]=$RIG_LAST_PID
  DB_PG_DIR[$role]=$dir
  rig_wait_port "$role" "$ip" 5432 || return 1
  rig_exec "$role" runuser -u postgres -- pgbench -h "$dir/sock" -U postgres -i -s 1 -q postgres \
    >"$dir/pgbench-init.log" 2>&1 || { tail -5 "$dir/pgbench-init.log" >&2; return 1; }
}

# db_pg_sql ROLE SQL: runs SQL on ROLE's cluster over its unix socket, unaligned output;
# the session's own statements are not logged.
db_pg_sql() {
  rig_exec "$1" env PGOPTIONS="-c log_statement=none" \
    psql -h "${DB_PG_DIR[$1]}/sock" -U postgres -d postgres -X -A -t -q -c "$2"
}

# db_pg_log_size ROLE: the size of ROLE's statement log now (db_pg_got reads from there).
db_pg_log_size() { stat -c %s "${DB_PG_DIR[$1]}/pg.json" 2>/dev/null || echo 0; }

# db_pg_settle ROLE: waits (max ~10 s) until no backend of a fake client (198.19/16) is
# left and the log stopped growing, so db_pg_got sees every statement.
db_pg_settle() {
  local n last=-1 size
  for _ in $(seq 40); do
    n=$(db_pg_sql "$1" "SELECT count(*) FROM pg_stat_activity WHERE client_addr << '198.19.0.0/16'")
    size=$(db_pg_log_size "$1")
    [ "$n" = 0 ] && [ "$size" = "$last" ] && return 0
    last=$size
    sleep 0.25
  done
  return 1
}

# db_pg_got ROLE OFFSET ERRFILE: the statements ROLE's cluster logged for fake clients
# (198.19/16) since the log was OFFSET bytes long, escaped, in log order; the ERROR,
# FATAL and PANIC messages it logged for them go to ERRFILE, counted by message.
db_pg_got() {
  python3 - "${DB_PG_DIR[$1]}/pg.json" "$2" "$3" <<PY
import collections, json, re, sys
$DB_ESCAPE
path, offset, errfile = sys.argv[1], int(sys.argv[2]), sys.argv[3]
with open(path, "rb") as fh:
    fh.seek(offset)
    lines = fh.read().decode("utf-8", "replace").splitlines()
errors = collections.Counter()
for line in lines:
    try:
        rec = json.loads(line)
    except ValueError:
        continue
    if not str(rec.get("remote_host", "")).startswith("198.19."):
        continue
    msg = rec.get("message", "")
    if rec.get("error_severity") in ("ERROR", "FATAL", "PANIC"):
        errors[rec["error_severity"] + ": " + msg] += 1
        continue
    m = re.match(r"(?s)(?:statement|execute [^:]*): (.*)", msg)
    if rec.get("error_severity") == "LOG" and m:
        print(escape_statement(m.group(1)))
with open(errfile, "w") as fh:
    for msg, n in errors.most_common():
        fh.write(f"{n} x {msg}\n")
PY
}

# ---- MariaDB ---------------------------------------------------------------------

DB_MY_USER=slap
DB_MY_HOSTS=198.18.0.0/255.254.0.0   # 198.18.0.0/15: real and fake clients
# an account with a password (mysql_native_password, MariaDB's default): a replayed login
# only works when dpcopy rewrites it for the target's scramble (--mysql-user)
DB_MY_PW_USER=slappw
DB_MY_PW='sl@p,pw:1'
DB_MY_TEMPLATE=""

# db_my ROLE IP: mariadbd (as mysql, not a daemon) with its own datadir in
# RIG_TMP/my-ROLE, listening on IP:3306 only, no TLS, no name resolution, every command
# logged to the mysql.general_log table. The datadir is a copy of one
# mariadb-install-db run (the same for every server). Then the same schema on each:
# a passwordless user slap@198.18.0.0/255.254.0.0 with all rights on database slapdb,
# which holds table t (id, v) with three rows.
db_my() {
  local role=$1 ip=$2 dir="$RIG_TMP/my-$1"
  if [ -z "$DB_MY_TEMPLATE" ]; then
    DB_MY_TEMPLATE="$RIG_TMP/my-template"
    mkdir -p "$DB_MY_TEMPLATE" && chown mysql: "$DB_MY_TEMPLATE" || return 1
    mariadb-install-db --no-defaults --user=mysql --datadir="$DB_MY_TEMPLATE" --skip-test-db \
      --auth-root-authentication-method=socket >"$RIG_TMP/my-install.log" 2>&1 ||
      { tail -20 "$RIG_TMP/my-install.log" >&2; return 1; }
  fi
  mkdir -p "$dir" && cp -a "$DB_MY_TEMPLATE" "$dir/data" && chown -R mysql: "$dir" || return 1
  rig_bg "$role" mariadbd --no-defaults --user=mysql --datadir="$dir/data" --socket="$dir/sock" \
    --pid-file="$dir/mariadbd.pid" --log-error="$dir/error.log" --bind-address="$ip" --port=3306 \
    --skip-name-resolve --skip-ssl --skip-log-bin --performance-schema=OFF \
    --innodb-buffer-pool-size=32M --innodb-flush-log-at-trx-commit=0 --max-connections=500 \
    --general-log=1 --log-output=TABLE >"$dir/stderr.log" 2>&1
  DB_MY_PID[$role]=$RIG_LAST_PID
  DB_MY_DIR[$role]=$dir
  rig_wait_port "$role" "$ip" 3306 || return 1
  db_my_sql "$role" "CREATE USER '$DB_MY_USER'@'$DB_MY_HOSTS';
    CREATE DATABASE slapdb; GRANT ALL ON slapdb.* TO '$DB_MY_USER'@'$DB_MY_HOSTS';
    CREATE USER '$DB_MY_PW_USER'@'$DB_MY_HOSTS' IDENTIFIED BY '$DB_MY_PW';
    GRANT ALL ON slapdb.* TO '$DB_MY_PW_USER'@'$DB_MY_HOSTS';
    CREATE TABLE slapdb.t (id INT PRIMARY KEY, v VARCHAR(32)) ENGINE=InnoDB;
    INSERT INTO slapdb.t VALUES (1, 'one'), (2, 'two'), (3, 'three');" || return 1
}

# db_my_sql ROLE SQL: runs SQL as root over ROLE's unix socket, batch output, no headers.
db_my_sql() { rig_exec "$1" mariadb --no-defaults -S "${DB_MY_DIR[$1]}/sock" -u root -N -B -e "$2"; }

# db_my_reset ROLE: empties ROLE's general log (db_my_got reads all of it).
db_my_reset() { db_my_sql "$1" "TRUNCATE TABLE mysql.general_log"; }

# db_my_settle ROLE: waits (max ~10 s) until no connection of a fake client is left.
db_my_settle() {
  local n
  for _ in $(seq 40); do
    n=$(db_my_sql "$1" "SELECT count(*) FROM information_schema.processlist WHERE host LIKE '198.19.%'")
    [ "$n" = 0 ] && return 0
    sleep 0.25
  done
  return 1
}

# db_my_aborted ROLE: ROLE's Aborted_connects now (failed logins; db_my_aborted_since).
db_my_aborted() { db_my_sql "$1" "SHOW GLOBAL STATUS LIKE 'Aborted_connects'" | cut -f2; }
# db_my_aborted_since ROLE BEFORE: "N x Aborted_connects (failed logins)" when ROLE counted
# N > 0 failed logins since db_my_aborted printed BEFORE; nothing otherwise.
db_my_aborted_since() {
  local now; now=$(db_my_aborted "$1")
  [ "${now:-0}" -gt "${2:-0}" ] && echo "$((now - ${2:-0})) x Aborted_connects (failed logins)"
  return 0
}

# db_my_got ROLE: the COM_QUERY texts ROLE's server logged for fake clients (198.19/16)
# since db_my_reset, escaped, in log order.
db_my_got() {
  db_my_sql "$1" "SELECT HEX(argument) FROM mysql.general_log
    WHERE command_type = 'Query' AND user_host LIKE '%[198.19.%]' ORDER BY event_time" |
    python3 -c "
import sys
$DB_ESCAPE
for line in sys.stdin:
    print(escape_statement(bytes.fromhex(line.strip()).decode('utf-8', 'replace')))
"
}

# ---- a target that answers late ----------------------------------------------------

# db_delay_relay ROLE UP DOWN MS: an Ethernet relay in ROLE between interfaces UP (the
# dpcopy side) and DOWN (the wire to the target): frames from UP go out DOWN at once,
# frames from DOWN go out UP MS milliseconds after they arrived (the target's answers
# arrive late, as with netem on the target's egress). For kernels without sch_netem.
# PID in RIG_LAST_PID; it is up when it has written RIG_TMP/relay.ready.
db_delay_relay() {
  rm -f "$RIG_TMP/relay.ready"
  cat >"$RIG_TMP/delay_relay.py" <<'PY'
import heapq, select, socket, sys, time
up_if, down_if, delay, ready = sys.argv[1], sys.argv[2], float(sys.argv[3]) / 1000.0, sys.argv[4]
ETH_P_ALL, PACKET_OUTGOING, SO_SNDBUFFORCE, SO_RCVBUFFORCE = 3, 4, 32, 33
def port(name):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)  # no frame before bind
    s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 16 << 20)
    s.setsockopt(socket.SOL_SOCKET, SO_SNDBUFFORCE, 16 << 20)
    s.bind((name, ETH_P_ALL))
    return s
up, down = port(up_if), port(down_if)
open(ready, "w").close()
late, n = [], 0
while True:
    wait = max(0.0, late[0][0] - time.monotonic()) if late else None
    for s in select.select([up, down], [], [], wait)[0]:
        while True:
            try:
                frame, addr = s.recvfrom(65536, socket.MSG_DONTWAIT)
            except BlockingIOError:
                break
            if addr[2] == PACKET_OUTGOING:  # what this relay itself sent
                continue
            if s is up:
                down.send(frame)
            else:
                heapq.heappush(late, (time.monotonic() + delay, n, frame))
                n += 1
    now = time.monotonic()
    while late and late[0][0] <= now:
        up.send(heapq.heappop(late)[2])
PY
  rig_bg "$1" python3 "$RIG_TMP/delay_relay.py" "$2" "$3" "$4" "$RIG_TMP/relay.ready"
  for _ in $(seq 100); do [ -e "$RIG_TMP/relay.ready" ] && return 0; sleep 0.05; done
  rig_log "delay relay did not start"; return 1
}

# db_stall ROLE PID STOP_MS RUN_MS: a server that stalls: PID (a server process of ROLE)
# is stopped for STOP_MS, runs for RUN_MS, and so on (SIGSTOP/SIGCONT), until
# db_unstall. Stopping PostgreSQL's postmaster stalls new connections only: the kernel
# completes the handshake and acknowledges the first request (an SSLRequest), the backend
# that reads it is forked on the next run. The stalling loop's PID is in RIG_LAST_PID.
db_stall() {
  rig_bg "$1" bash -c "while :; do kill -STOP $2; sleep $(printf '%d.%03d' $(($3 / 1000)) $(($3 % 1000)));
    kill -CONT $2; sleep $(printf '%d.%03d' $(($4 / 1000)) $(($4 % 1000))); done"
}
# db_unstall LOOP_PID PID: ends db_stall's loop LOOP_PID and lets PID run.
db_unstall() { db_kill "$1"; kill -CONT "$2" 2>/dev/null; }
