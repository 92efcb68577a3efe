#!/usr/bin/env python3
"""tools/bench/em_flows.py N OUT_PREFIX [FILES [OUT_PORT]]: N TCP flows for the per-packet anchor of
tools/bench/dataplane.sh (issue #16): one 64-byte frame per flow (Ethernet + IPv4 + TCP
SYN, 10 bytes of Ethernet padding; no FCS), client 10.A.B.C:40000 (A.B.C = the flow's
index) toward 198.18.1.2:80; written round-robin over FILES pcap files OUT_PREFIX.K.pcap
(default 1), and OUT_PREFIX.rules: one l3fwd exact-match rule per flow
(R<dst> <src> <dport> <sport> <proto> <out port>) toward OUT_PORT (default: FILES, the port
after the FILES net_pcap ports)."""
import struct
import sys


def csum(data):
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def frame(i):
    src = bytes([10, (i >> 16) & 255, (i >> 8) & 255, i & 255])
    dst = bytes([198, 18, 1, 2])
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40, i & 0xFFFF, 0, 64, 6, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    tcp = struct.pack("!HHIIBBHHH", 40000, 80, 1000 + i, 0, 5 << 4, 0x02, 65535, 0, 0)
    pseudo = src + dst + struct.pack("!BBH", 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]
    eth = bytes.fromhex("020000000002" "020000000001") + b"\x08\x00"
    return eth + ip + tcp + bytes(10)


def main():
    n, prefix = int(sys.argv[1]), sys.argv[2]
    queues = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    out_port = int(sys.argv[4]) if len(sys.argv) > 4 else queues
    if n < 1 or n > 1 << 24 or queues < 1:
        sys.exit("em_flows.py: 1 <= N <= 2^24 flows, QUEUES >= 1")
    files = [open("%s.%d.pcap" % (prefix, q), "wb") for q in range(queues)]
    for f in files:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    with open(prefix + ".rules", "w") as rules:
        for i in range(n):
            fr = frame(i)
            files[i % queues].write(struct.pack("<IIII", 0, i, len(fr), len(fr)) + fr)
            rules.write("R198.18.1.2 10.%d.%d.%d 80 40000 6 %d\n" % ((i >> 16) & 255, (i >> 8) & 255, i & 255, out_port))
    for f in files:
        f.close()


if __name__ == "__main__":
    main()
