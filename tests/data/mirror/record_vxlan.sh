#!/usr/bin/env bash
# Records the kernel-encapsulated VXLAN fixtures of tests/mirror (see README.md).
#
#   sudo tests/data/mirror/record_vxlan.sh [output-dir]   (default: this script's directory)
#
# Two private namespaces joined by a veth pair (the underlay, 198.18.10.0/24, checksum
# offloads off); in each, two Linux vxlan devices over it: VNI 42 on UDP 4789 (inner
# 198.19.42.0/24), VNI 7 on UDP 8472 (inner 198.19.7.0/24), and VNI 9 on UDP 4789 with no
# lower device and MTU 3000 (inner 198.19.9.0/24), whose large frames the kernel fragments. The kernels' TCP stacks,
# curl and python's http.server make the inner traffic; tcpdump records the underlay, so
# every outer header is the kernel's own. Everything is deleted on exit.
set -euo pipefail

out=$(cd "${1:-$(dirname "$0")}" && pwd)
p=dpdx$$
A=${p}a B=${p}b
PY=/usr/bin/python3
pids=()
www=$(mktemp -d)

cleanup() {
    set +e
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
    ip netns del "$A" 2>/dev/null
    ip netns del "$B" 2>/dev/null
    rm -rf "$www"
}
trap cleanup EXIT INT TERM

a() { ip netns exec "$A" "$@"; }
b() { ip netns exec "$B" "$@"; }

ip netns add "$A"
ip netns add "$B"
ip link add ${p}ua type veth peer name ${p}ub
ip link set ${p}ua netns "$A"
ip link set ${p}ub netns "$B"
n=1
for ns in "$A" "$B"; do
    u=${p}u$([ "$ns" = "$A" ] && echo a || echo b)
    peer=$([ $n -eq 1 ] && echo 2 || echo 1)
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    ip netns exec "$ns" ip link set lo up
    ip netns exec "$ns" ip link set "$u" address 02:00:00:00:10:0$n
    ip netns exec "$ns" ethtool -K "$u" tx off rx off tso off gso off gro off >/dev/null 2>&1 || true
    ip netns exec "$ns" ip addr add 198.18.10.$n/24 dev "$u"
    ip netns exec "$ns" ip link set "$u" up
    ip netns exec "$ns" ip link add vx42 type vxlan id 42 local 198.18.10.$n remote 198.18.10.$peer dstport 4789 dev "$u"
    ip netns exec "$ns" ip link add vx7 type vxlan id 7 local 198.18.10.$n remote 198.18.10.$peer dstport 8472 dev "$u"
    # No lower device: its MTU may exceed the underlay's, so the outer IPv4 gets fragmented.
    ip netns exec "$ns" ip link add vx9 type vxlan id 9 local 198.18.10.$n remote 198.18.10.$peer dstport 4789
    ip netns exec "$ns" ip link set vx9 address 02:00:00:00:09:0$n mtu 3000
    ip netns exec "$ns" ip addr add 198.19.9.$n/24 dev vx9
    ip netns exec "$ns" ip link set vx9 up
    ip netns exec "$ns" ip link set vx42 address 02:00:00:00:42:0$n
    ip netns exec "$ns" ip link set vx7 address 02:00:00:00:07:0$n
    for v in vx42 vx7 vx9; do
        ip netns exec "$ns" ethtool -K "$v" tx off rx off tso off gso off gro off >/dev/null 2>&1 || true
    done
    ip netns exec "$ns" ip addr add 198.19.42.$n/24 dev vx42
    ip netns exec "$ns" ip addr add 198.19.7.$n/24 dev vx7
    ip netns exec "$ns" ip link set vx42 up
    ip netns exec "$ns" ip link set vx7 up
    n=2
done

printf 'dpcopy decapsulation known answer\n' > "$www/hello.txt"
(cd "$www" && exec ip netns exec "$B" "$PY" -m http.server 8080 --bind 0.0.0.0 >/dev/null 2>&1) &
pids+=($!)
for _ in $(seq 50); do a curl -s -o /dev/null --max-time 1 http://198.19.42.2:8080/hello.txt && break; sleep 0.1; done

record() {  # file, filter, count, command run in A
    local file=$1 filter=$2 count=$3; shift 3
    b tcpdump -i ${p}ub -s 0 -c "$count" -U -w "$out/$file" "$filter" >/dev/null 2>&1 &
    local tpid=$!
    sleep 1
    a "$@" >/dev/null
    for _ in $(seq 50); do kill -0 "$tpid" 2>/dev/null || break; sleep 0.1; done
    kill "$tpid" 2>/dev/null || true
    wait "$tpid" 2>/dev/null || true
}

# One HTTP exchange in VNI 42 (10 frames: handshake, request, response, FINs).
record vxlan_http.pcap 'udp port 4789' 10 curl -s http://198.19.42.2:8080/hello.txt
# One ping in VNI 7 on the Linux-default port 8472 (request + reply).
record vxlan_8472_icmp.pcap 'udp port 8472' 2 ping -c 1 -W 1 198.19.7.2
# Outer fragments: VNI 9 at MTU 3000 over the underlay's 1500 (the outer IPv4 carries no DF).
a ping -c 1 -W 1 198.19.9.2 >/dev/null
record vxlan_fragments.pcap 'udp port 4789 or (ip[6:2] & 0x3fff != 0)' 6 ping -c 1 -W 1 -s 2000 198.19.9.2
ls -l "$out"/vxlan_*.pcap
