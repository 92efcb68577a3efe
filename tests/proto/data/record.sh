#!/usr/bin/env bash
# Records the MySQL/MariaDB login captures used by tests/proto (known answers for
# lib/proto/mysql_auth), from a real mariadbd and real mariadb clients.
#
#   sudo tests/proto/data/record.sh [output-dir]     (default: the directory of this script)
#
# Everything runs in one private network namespace (dpcmy$$) on its loopback only; mariadbd
# gets a throw-away datadir and self-signed TLS certificate under mktemp -d; tcpdump -s 0 -U
# records each login on lo. On exit every process started here is killed by PID, the
# namespace and the temp directory are removed.
# Needs: mariadb-server, mariadb-client, tcpdump, openssl, iproute2, python3.
set -euo pipefail

out=$(cd "${1:-$(dirname "$0")}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
ns=dpcmy$$
tmp=$(mktemp -d)
pids=()
PASS='Known:pass-1'   # the known password the tests use (also in tests/proto/test_known_answers.cpp)

cleanup() {
    set +e
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
    ip netns del "$ns" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

# Foreground commands only: a background `n ...` would be a subshell, and its PID not the
# server's (background ones call ip netns exec directly, which execs the program).
n() { ip netns exec "$ns" "$@"; }

ip netns add "$ns"
n ip link set lo up

mariadb-install-db --no-defaults --user=root --datadir="$tmp/data" --skip-test-db \
    --auth-root-authentication-method=socket >"$tmp/install.log" 2>&1
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=dpcopy-test \
    -keyout "$tmp/key.pem" -out "$tmp/cert.pem" >/dev/null 2>&1
ip netns exec "$ns" mariadbd --no-defaults --user=root --datadir="$tmp/data" --socket="$tmp/sock" \
    --pid-file="$tmp/mariadbd.pid" --port=3306 --bind-address=127.0.0.1 --skip-name-resolve \
    --ssl-cert="$tmp/cert.pem" --ssl-key="$tmp/key.pem" --log-error="$tmp/err.log" &
pids+=($!)
for _ in $(seq 300); do [ -S "$tmp/sock" ] && break; sleep 0.1; done
[ -S "$tmp/sock" ] || { cat "$tmp/err.log" >&2; exit 1; }

n mariadb --no-defaults -S "$tmp/sock" -u root <<SQL
CREATE DATABASE dpc;
CREATE USER 'dpc_native'@'127.0.0.1' IDENTIFIED VIA mysql_native_password USING PASSWORD('$PASS');
GRANT ALL ON dpc.* TO 'dpc_native'@'127.0.0.1';
CREATE USER 'dpc_empty'@'127.0.0.1';
SQL

ip netns exec "$ns" python3 "$here/fake_mysql8.py" 127.0.0.1 3307 2 >"$tmp/fake.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -q listening "$tmp/fake.log" && break; sleep 0.1; done

# capture NAME PORT CLIENT-ARGS...: one client run, recorded to NAME.pcap.
capture() {
    local name=$1 port=$2; shift 2
    ip netns exec "$ns" tcpdump --immediate-mode -Z root -i lo -s 0 -U -w "$out/$name.pcap" "tcp port $port" 2>"$tmp/tcpdump.log" &
    local td=$!
    for _ in $(seq 100); do grep -q 'listening on' "$tmp/tcpdump.log" && break; sleep 0.1; done
    n mariadb --no-defaults -h 127.0.0.1 -P "$port" "$@" -e "SELECT 1" >"$tmp/client.log" 2>&1 || cat "$tmp/client.log" >&2
    sleep 1
    kill -INT "$td"; wait "$td" || true
    cat "$tmp/tcpdump.log" >&2
    echo "recorded $out/$name.pcap"
}

plugins=/usr/lib/x86_64-linux-gnu/libmariadb3/plugin
capture mariadb_native_ok    3306 --skip-ssl -u dpc_native "--password=$PASS" -D dpc
capture mariadb_native_wrong 3306 --skip-ssl -u dpc_native --password=wrong-password
capture mariadb_empty        3306 --skip-ssl -u dpc_empty
capture mariadb_switch       3306 --skip-ssl -u dpc_native "--password=$PASS" \
    --plugin-dir="$plugins" --default-auth=caching_sha2_password
capture mariadb_tls          3306 --ssl -u dpc_native "--password=$PASS"
capture fake8_sha2_ok        3307 --skip-ssl -u dpc_sha2 "--password=$PASS" \
    --plugin-dir="$plugins" --default-auth=caching_sha2_password
capture fake8_sha2_empty     3307 --skip-ssl -u dpc_sha2 --password= \
    --plugin-dir="$plugins" --default-auth=caching_sha2_password
