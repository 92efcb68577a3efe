#!/usr/bin/env bash
# Records the known-answer captures used by tests/rewrite from real Linux traffic.
#
#   sudo tests/data/record.sh [output-dir]      (default: the directory of this script)
#
# It builds a private rig: two network namespaces (dpcrec$$c = client, dpcrec$$s = server)
# joined by one veth pair, addresses from the 198.18.0.0/15 benchmark range only, IPv6
# disabled inside the namespaces. No traffic leaves them; everything is deleted on exit.
# Checksum offload is switched off on the veths so the captured checksums are the
# kernel's real ones. Every capture is taken with tcpdump -s 0 -c N on the server's
# parent veth (so VLAN/QinQ frames are recorded tagged).
#
# Needs: iproute2, ethtool, tcpdump, python3, curl, ping (iputils-ping).
# Written by hand; `ip netns list` afterwards shows nothing left behind.
set -euo pipefail

out=$(cd "${1:-$(dirname "$0")}" && pwd)
p=dpcrec$$
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
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    ip netns exec "$ns" ip link set lo up
done
c ip link set "$VC" address 02:00:00:00:00:01
s ip link set "$VS" address 02:00:00:00:00:02
c ethtool -K "$VC" tx off rx off tso off gso off gro off txvlan off rxvlan off >/dev/null 2>&1 || true
s ethtool -K "$VS" tx off rx off tso off gso off gro off txvlan off rxvlan off >/dev/null 2>&1 || true
c ip link set "$VC" up
s ip link set "$VS" up
c ip addr add 198.18.0.1/24 dev "$VC"
s ip addr add 198.18.0.2/24 dev "$VS"
# This kernel may lack 802.1Q support (CONFIG_VLAN_8021Q): then `ip link add ... type vlan`
# fails and a small tag relay stands in for the VLAN subinterfaces. In each namespace it owns
# a tap device (the "subinterface", with the IP address) and pushes/pops the tags on the
# parent veth through an AF_PACKET socket, so the kernel's own TCP stacks still make the
# traffic and the frames between the veths are really tagged.
cat > "$www/vlanrelay.py" <<'PY'
import fcntl, os, select, socket, struct, sys
tap_name, dev = sys.argv[1], sys.argv[2]
tags = [(int(t.split(":")[0], 16), int(t.split(":")[1])) for t in sys.argv[3:]]  # outer first
taghdr = b"".join(struct.pack("!HH", tpid, vid) for tpid, vid in tags)
tap = os.open("/dev/net/tun", os.O_RDWR)
fcntl.ioctl(tap, 0x400454CA, struct.pack("16sH", tap_name.encode(), 0x0002 | 0x1000))  # TUNSETIFF, IFF_TAP|IFF_NO_PI
sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
sock.bind((dev, 0))
sock.setsockopt(263, 8, 1)  # SOL_PACKET, PACKET_AUXDATA
while True:
    ready, _, _ = select.select([tap, sock], [], [])
    if tap in ready:
        f = os.read(tap, 65536)
        sock.send(f[:12] + taghdr + f[12:])
    if sock in ready:
        f, anc, _, addr = sock.recvmsg(65536, socket.CMSG_SPACE(32))
        if addr[2] == socket.PACKET_OUTGOING:
            continue
        for level, kind, data in anc:
            if level == 263 and kind == 8:
                status, _, _, _, _, tci, tpid = struct.unpack("IIIHHHH", data[:20])
                if status & 0x10:  # TP_STATUS_VLAN_VALID: the outer tag was moved out of the frame
                    tpid = tpid if status & 0x40 else 0x8100
                    f = f[:12] + struct.pack("!HH", tpid, tci) + f[12:]
        if f[12:12 + len(taghdr)] == taghdr:
            os.write(tap, f[:12] + f[12 + len(taghdr):])
PY
vlan_if() {  # vlan_if NS IFNAME PARENT ADDR TAG...   (TAG = tpid:vid, outer first)
    local ns=$1 name=$2 parent=$3 addr=$4
    shift 4
    ip netns exec "$ns" "$PY" "$www/vlanrelay.py" "$name" "$parent" "$@" &
    pids+=($!)
    for _ in $(seq 50); do ip netns exec "$ns" ip link show "$name" >/dev/null 2>&1 && break; sleep 0.1; done
    ip netns exec "$ns" ip link set "$name" mtu 1400 up
    ip netns exec "$ns" ip addr add "$addr" dev "$name"
}
if c ip link add link "$VC" name vlan100 type vlan id 100 2>/dev/null; then
    # 802.1Q VLAN 100
    s ip link add link "$VS" name vlan100 type vlan id 100
    c ip addr add 198.18.1.1/24 dev vlan100
    s ip addr add 198.18.1.2/24 dev vlan100
    # QinQ: 802.1ad S-tag 200 carrying 802.1Q C-tag 300
    c ip link add link "$VC" name stag200 type vlan proto 802.1ad id 200
    s ip link add link "$VS" name stag200 type vlan proto 802.1ad id 200
    c ip link add link stag200 name ctag300 type vlan id 300
    s ip link add link stag200 name ctag300 type vlan id 300
    c ip addr add 198.18.2.1/24 dev ctag300
    s ip addr add 198.18.2.2/24 dev ctag300
    for dev in vlan100 stag200 ctag300; do
        c ethtool -K "$dev" tx off tso off gso off >/dev/null 2>&1 || true
        s ethtool -K "$dev" tx off tso off gso off >/dev/null 2>&1 || true
        c ip link set "$dev" up
        s ip link set "$dev" up
    done
else
    echo "no kernel 802.1Q support: using the tap tag relay"
    vlan_if "$C" vlan100 "$VC" 198.18.1.1/24 8100:100
    vlan_if "$S" vlan100 "$VS" 198.18.1.2/24 8100:100
    vlan_if "$C" ctag300 "$VC" 198.18.2.1/24 88a8:200 8100:300
    vlan_if "$S" ctag300 "$VS" 198.18.2.2/24 88a8:200 8100:300
fi

printf 'hello from dpcopy known-answer capture\n' > "$www/hello.txt"
# Background processes are started with a bare `ip netns exec` (which execs its command), so
# $! is the process itself and can be killed by PID.
ip netns exec "$S" "$PY" -m http.server 8080 --bind 0.0.0.0 --directory "$www" >/dev/null 2>&1 &
pids+=($!)
# UDP sink so the datagram does not draw an ICMP port-unreachable
ip netns exec "$S" "$PY" -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("0.0.0.0", 9999)); s.recv(2048)' &
pids+=($!)
for _ in $(seq 50); do
    c curl -s -o /dev/null --max-time 1 http://198.18.0.2:8080/ && break
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

c ip neigh flush all
s ip neigh flush all
capture arp 2 'arp' -- ping -c 1 -W 1 198.18.0.2
capture tcp_http 20 'tcp port 8080' -- curl -s http://198.18.0.2:8080/hello.txt
capture tcp_http_vlan 20 'vlan 100 and tcp port 8080' -- curl -s http://198.18.1.2:8080/hello.txt
capture tcp_http_qinq 20 'vlan 200 and vlan 300 and tcp port 8080' -- curl -s http://198.18.2.2:8080/hello.txt
capture icmp_echo 2 'icmp' -- ping -c 1 -W 1 -p 64706370 198.18.0.2
capture icmp_rr 2 'icmp' -- ping -c 1 -W 1 -R 198.18.0.2
capture udp 1 'udp port 9999' -- "$PY" -c 'import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"dpcopy udp known answer!?", ("198.18.0.2", 9999))'
capture ip_fragments 6 'icmp or (ip[6:2] & 0x3fff != 0)' -- ping -c 1 -W 1 -s 3000 198.18.0.2
