# Network-namespace rig for end-to-end tests and the demo. Source it; do not run it.
# Everything it makes is named with a unique prefix and removed by rig_cleanup,
# which rig_init installs as an EXIT trap. Processes are killed by PID only.
# Addresses come from 198.18.0.0/15 (RFC 2544 benchmarking range) and exist only
# inside the rig's own namespaces: no traffic reaches the default namespace.
# shellcheck shell=bash

RIG_PREFIX=""
RIG_TMP=""
RIG_PIDS=()
RIG_NETNS=()

rig_log() { printf '[rig] %s\n' "$*" >&2; }

rig_init() {  # rig_init NAME
  RIG_PREFIX="dpc${1:-rig}$$"
  RIG_PREFIX=${RIG_PREFIX:0:10}
  RIG_TMP=$(mktemp -d "/tmp/${RIG_PREFIX}.XXXXXX")
  chmod 755 "$RIG_TMP"
  trap rig_cleanup EXIT
  trap 'exit 130' INT TERM
}

rig_cleanup() {
  local pid ns
  for pid in "${RIG_PIDS[@]}"; do
    kill "$pid" 2>/dev/null
  done
  for pid in "${RIG_PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null
  done
  RIG_PIDS=()
  for ns in "${RIG_NETNS[@]}"; do
    ip netns del "$ns" 2>/dev/null
  done
  RIG_NETNS=()
  [ -n "$RIG_TMP" ] && [ -d "$RIG_TMP" ] && rm -rf "$RIG_TMP"
  RIG_TMP=""
}

rig_ns() { echo "${RIG_PREFIX}-$1"; }            # full namespace name of a role
rig_exec() { local ns; ns=$(rig_ns "$1"); shift; ip netns exec "$ns" "$@"; }

rig_add_ns() {  # rig_add_ns ROLE
  local ns; ns=$(rig_ns "$1")
  ip netns add "$ns" || return 1
  RIG_NETNS+=("$ns")
  ip -n "$ns" link set lo up
}

# rig_link ROLE1 IF1 ROLE2 IF2: a veth pair between two namespaces, both ends up.
rig_link() {
  local tmp="${RIG_PREFIX:3:7}x$RANDOM"
  tmp=${tmp:0:15}
  ip link add "$tmp" type veth peer name "${tmp}p" || return 1
  ip link set "$tmp" netns "$(rig_ns "$1")" || return 1
  ip link set "${tmp}p" netns "$(rig_ns "$3")" || return 1
  ip -n "$(rig_ns "$1")" link set "$tmp" name "$2" || return 1
  ip -n "$(rig_ns "$3")" link set "${tmp}p" name "$4" || return 1
  ip -n "$(rig_ns "$1")" link set "$2" up
  ip -n "$(rig_ns "$3")" link set "$4" up
  # Offloads would hand tcpdump and AF_PACKET super-segments and bad checksums.
  rig_exec "$1" ethtool -K "$2" tso off gso off gro off tx off >/dev/null 2>&1
  rig_exec "$3" ethtool -K "$4" tso off gso off gro off tx off >/dev/null 2>&1
  return 0
}

rig_addr() { ip -n "$(rig_ns "$1")" addr add "$3" dev "$2"; }  # ROLE IF CIDR

# rig_bg ROLE CMD...: starts CMD in the namespace in the background; its PID is
# remembered for cleanup and left in RIG_LAST_PID. (Never call it inside $(...):
# the subshell would wait for the background command and lose the PID.)
RIG_LAST_PID=""
rig_bg() {
  local role=$1; shift
  ip netns exec "$(rig_ns "$role")" "$@" &
  RIG_LAST_PID=$!
  RIG_PIDS+=("$RIG_LAST_PID")
}

# rig_wait_port ROLE IP PORT: waits (max ~10 s) until a TCP listener answers.
rig_wait_port() {
  local i
  for i in $(seq 100); do
    rig_exec "$1" bash -c "exec 3<>/dev/tcp/$2/$3" 2>/dev/null && return 0
    sleep 0.1
  done
  rig_log "nothing listens on $2:$3 in $1"; return 1
}

# rig_nginx ROLE IP PORT: nginx with an access log we can count; sets RIG_NGINX_LOG.
# Paths: / -> small page, /large -> 256 KiB, anything else -> 200 "ok".
# RIG_NGINX_LOG_MSEC=1 (optional) ends each log line with the time it was logged ($msec,
# seconds with millisecond resolution: the benchmarks' served rate).
# RIG_NGINX_EXTRA (optional, default none): more directives for the server block, placed
# before the catch-all location (e.g. "location = /file { }" for a file put in
# $RIG_TMP/nginx-ROLE-PORT/www).
rig_nginx() {
  local role=$1 ip=$2 port=$3 dir="$RIG_TMP/nginx-$1-$3"
  mkdir -p "$dir/www" "$dir/tmp"
  chmod -R 755 "$dir"
  echo "hello from the target" > "$dir/www/index.html"
  head -c 262144 /dev/zero | tr '\0' 'x' > "$dir/www/large"
  cat > "$dir/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 4096; }
http {
  log_format rig '\$remote_addr \$remote_port "\$request" \$status \$body_bytes_sent${RIG_NGINX_LOG_MSEC:+ \$msec}';
  access_log $dir/access.log rig;
  client_body_temp_path $dir/tmp; proxy_temp_path $dir/tmp; fastcgi_temp_path $dir/tmp;
  uwsgi_temp_path $dir/tmp; scgi_temp_path $dir/tmp;
  keepalive_requests 1000000;
  keepalive_timeout 300s;
  server {
    listen $ip:$port reuseport backlog=4096;
    root $dir/www;
    location = / { try_files /index.html =404; }
    location = /large { }${RIG_NGINX_EXTRA:+
    $RIG_NGINX_EXTRA}
    location / { return 200 "ok\n"; }
  }
}
CONF
  rig_bg "$role" nginx -c "$dir/nginx.conf"
  RIG_NGINX_LOG="$dir/access.log"
  rig_wait_port "$role" "$ip" "$port"
}

# rig_redis ROLE IP PORT: redis-server without persistence.
rig_redis() {
  local role=$1 ip=$2 port=$3 dir="$RIG_TMP/redis-$1-$3"
  mkdir -p "$dir"
  rig_bg "$role" redis-server --bind "$ip" --port "$port" --save '' --appendonly no \
    --dir "$dir" --protected-mode no --daemonize no --loglevel warning
  rig_wait_port "$role" "$ip" "$port"
}

# rig_tcpdump ROLE IF FILE FILTER: starts a capture, PID in RIG_LAST_PID;
# rig_tcpdump_stop PID ends it cleanly (all packets written).
# tcpdump's closing statistics go to FILE.stats: rig_tcpdump_drops FILE reads the drop count.
rig_tcpdump() {
  rig_bg "$1" tcpdump --immediate-mode -B 65536 -Z root -i "$2" -s 0 -U -w "$3" "$4" 2>"$3.stats"
  local i
  for i in $(seq 100); do [ -s "$3" ] && break; sleep 0.05; done  # header written = capturing
  sleep 0.2
}
rig_tcpdump_stop() {
  sleep 0.5
  kill -TERM "$1" 2>/dev/null  # INT is ignored by background jobs of scripts
  for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$1" 2>/dev/null
}

rig_tcpdump_drops() {  # prints how many packets the kernel dropped before tcpdump saw them
  local n
  n=$(sed -nE 's/^([0-9]+) packets? dropped by kernel.*/\1/p' "$1.stats" 2>/dev/null | tail -1)
  echo "${n:-unknown}"
}

# rig_telemetry PREFIX COMMAND: the JSON answer of a DPDK app's telemetry socket
# (/var/run/dpdk/PREFIX/dpdk_telemetry.v2; a Unix socket: no namespace needed).
rig_telemetry() {
  python3 - "/var/run/dpdk/$1/dpdk_telemetry.v2" "$2" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.settimeout(5)
s.connect(sys.argv[1])
info = json.loads(s.recv(4096))
s.send(sys.argv[2].encode())
print(json.dumps(json.loads(s.recv(info.get("max_output_len", 16384)))))
PY
}

# rig_conntrack_arm ROLE: makes conntrack active in ROLE's namespace (an nftables ct rule
# in prerouting and output; a namespace tracks nothing until a rule asks for it), for
# rig_conntrack_untouched. Removed with the namespace.
rig_conntrack_arm() {
  rig_exec "$1" nft -f - <<'NFT'
table inet dpce2e {
  chain pre { type filter hook prerouting priority 0; ct state new counter; }
  chain out { type filter hook output priority 0; ct state new counter; }
}
NFT
}

# rig_conntrack_untouched ROLE: succeeds when ROLE's kernel tracked none of the copied
# traffic (198.18/15) while conntrack is shown to work there: a ping on its loopback (the
# control flow) must be tracked, so a zero can't be vacuous. The rig makes conntrack
# active with rig_conntrack_arm. Prints "control N copied N".
rig_conntrack_untouched() {
  rig_exec "$1" ping -c 1 -W 1 127.0.0.1 >/dev/null 2>&1
  local control copied
  control=$(rig_exec "$1" conntrack -L 2>/dev/null | grep -c 'src=127.0.0.1')
  copied=$(rig_exec "$1" conntrack -L 2>/dev/null | grep -cE '198\.1[89]\.')
  echo "control $control copied $copied"
  [ "$control" -ge 1 ] && [ "$copied" -eq 0 ]
}
