#!/usr/bin/env bash
# Records the IPv6 known-answer captures used by tests/rewrite/test_ipv6_captures.cpp from
# real Linux traffic (issue #18).
#
#   sudo tests/data/record_ipv6.sh [output-dir]      (default: the directory of this script)
#
# Two network namespaces (dpc6rec$$c = client, dpc6rec$$s = server) joined by one veth pair,
# unique local addresses fd77:18::1/64 and fd77:18::2/64 only (nodad), IPv4 unused. No traffic
# leaves them; everything is deleted on exit. Checksum offload is off on the veths so every
# captured checksum is the kernel's own. Each capture is taken with tcpdump -s 0 -c N on the
# server's veth while one command runs in the client namespace.
#
# Needs: iproute2, ethtool, tcpdump, python3, curl, ping (iputils-ping).
set -euo pipefail

out=$(cd "${1:-$(dirname "$0")}" && pwd)
p=dpc6rec$$
C=${p}c S=${p}s
VC=${p}vc VS=${p}vs
PY=$(command -v python3)
pids=()
www=$(mktemp -d)

cleanup() {
    set +e
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
    ip netns del "$C" 2>/dev/null
    ip netns del "$S" 2>/dev/null
    rm -rf "$www"
}
trap cleanup EXIT INT TERM

c() { ip netns exec "$C" "$@"; }
s() { ip netns exec "$S" "$@"; }

ip netns add "$C"
ip netns add "$S"
ip link add "$VC" type veth peer name "$VS"
ip link set "$VC" netns "$C"
ip link set "$VS" netns "$S"
for ns in "$C" "$S"; do
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.default.disable_ipv6=0 \
        net.ipv6.conf.default.router_solicitations=0 net.ipv6.conf.all.router_solicitations=0
    ip netns exec "$ns" ip link set lo up
done
c ip link set "$VC" address 02:00:00:00:00:01
s ip link set "$VS" address 02:00:00:00:00:02
c ethtool -K "$VC" tx off rx off tso off gso off gro off >/dev/null 2>&1 || true
s ethtool -K "$VS" tx off rx off tso off gso off gro off >/dev/null 2>&1 || true
c ip link set "$VC" up
s ip link set "$VS" up
c ip -6 addr add fd77:18::1/64 dev "$VC" nodad
s ip -6 addr add fd77:18::2/64 dev "$VS" nodad

printf 'hello from dpcopy IPv6 known-answer capture\n' > "$www/hello.txt"
ip netns exec "$S" "$PY" -m http.server 8080 --bind :: --directory "$www" >/dev/null 2>&1 &
pids+=($!)
for _ in $(seq 50); do
    c curl -6 -s -o /dev/null --max-time 1 'http://[fd77:18::2]:8080/' && break
    sleep 0.2
done

# capture NAME COUNT FILTER -- COMMAND...: records at most COUNT frames matching FILTER on
# the server's veth while COMMAND runs in the client namespace.
capture() {
    local name=$1 count=$2 filter=$3
    shift 4
    local f="$out/$name.pcap"
    ip netns exec "$S" tcpdump -i "$VS" -s 0 -c "$count" -U -w "$f" "$filter" 2>"$www/tcpdump.err" &
    local tpid=$!
    for _ in $(seq 50); do grep -q listening "$www/tcpdump.err" 2>/dev/null && break; sleep 0.1; done
    c "$@" >/dev/null 2>&1 || true
    sleep 2
    kill -INT "$tpid" 2>/dev/null || true
    wait "$tpid" 2>/dev/null || true
    echo "$name.pcap: $(stat -c %s "$f") bytes  ($filter) <- $*"
}

c ip -6 neigh flush all
s ip -6 neigh flush all
# ip6[40]: the ICMPv6 type when no extension header precedes it (true of NDP and ping)
capture ipv6_ndp 2 'icmp6 and (ip6[40] == 135 or ip6[40] == 136)' -- ping -6 -c 1 -W 1 fd77:18::2
capture ipv6_echo 2 'icmp6 and (ip6[40] == 128 or ip6[40] == 129)' -- ping -6 -c 1 -W 1 -s 61 -p 64706370 fd77:18::2
capture ipv6_tcp_http 20 'ip6 and tcp port 8080' -- curl -6 -s 'http://[fd77:18::2]:8080/hello.txt'
capture ipv6_udp 1 'ip6 and udp port 9999' -- "$PY" -c 'import socket; socket.socket(socket.AF_INET6, socket.SOCK_DGRAM).sendto(b"dpcopy udp6 known answer!", ("fd77:18::2", 9999))'
# joining a group makes the kernel send an MLDv2 report: ICMPv6 after a hop-by-hop header
# (router alert), the one extension header Linux sends on its own
capture ipv6_mld 1 'ip6 and ip6[6] == 0' -- "$PY" -c '
import socket, struct, time
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
idx = socket.if_nametoindex("'"$VC"'")
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP, socket.inet_pton(socket.AF_INET6, "ff12::1818") + struct.pack("@I", idx))
time.sleep(1)'
