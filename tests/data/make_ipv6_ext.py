#!/usr/bin/env python3
"""Writes tests/data/ipv6_ext_chains.pcap: IPv6 frames with extension-header chains the Linux
kernel does not send on its own, built by scapy (issue #18). Deterministic (fixed field values,
fixed timestamps); checksums are scapy's, computed independently of lib/rewrite.

    python3 tests/data/make_ipv6_ext.py [output-dir]      (needs python3-scapy)

tests/rewrite/test_ipv6_captures.cpp holds the expected parse of each frame by index (the
list below, in order). Routing headers have segments left 0 and name the IPv6 destination as
their final one, so every reading of RFC 8200 §8.1 (tcpdump takes the routing header's last
address, scapy and lib/rewrite the IPv6 destination) gives the same pseudo-header.
"""
import os
import sys

from scapy.all import (Dot1AD, Dot1Q, Ether, ICMPv6EchoRequest, IPv6, IPv6ExtHdrDestOpt,
                       IPv6ExtHdrFragment, IPv6ExtHdrHopByHop, IPv6ExtHdrRouting,
                       IPv6ExtHdrSegmentRouting, PadN, Raw, RouterAlert, TCP, UDP, wrpcap)

SRC, DST = "fd77:40::1", "fd77:40::2"
ETH = dict(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")


def ip6(**kw):
    return IPv6(src=SRC, dst=DST, hlim=64, fl=0x18, **kw)


def tcp(payload):
    return TCP(sport=40000, dport=80, seq=1000, ack=2000, flags="PA", window=512,
               options=[("MSS", 1440), ("NOP", None), ("WScale", 7)]) / Raw(payload)


frames = [
    # 0: hop-by-hop (router alert + PadN), routing type 0, destination options: TCP, 7-byte payload
    Ether(**ETH) / ip6() / IPv6ExtHdrHopByHop(options=[RouterAlert(), PadN(optdata=b"\0\0")])
    / IPv6ExtHdrRouting(addresses=[DST], segleft=0) / IPv6ExtHdrDestOpt(options=[PadN(optdata=b"\0" * 12)])
    / tcp(b"GET / 1"),
    # 1: 802.1Q 100, segment routing header (type 4) with two segments, segments left 0: TCP, odd payload
    Ether(**ETH) / Dot1Q(vlan=100) / ip6() / IPv6ExtHdrSegmentRouting(addresses=["fd77:40::2", "fd77:40::8"], segleft=0)
    / tcp(b"odd"),
    # 2: QinQ 200/300, destination options of 24 bytes: UDP, 9-byte payload
    Ether(**ETH) / Dot1AD(vlan=200) / Dot1Q(vlan=300) / ip6() / IPv6ExtHdrDestOpt(options=[PadN(optdata=b"\0" * 20)])
    / UDP(sport=5353, dport=53) / Raw(b"udp6 odd!"),
    # 3: hop-by-hop then ICMPv6 echo request, 5 bytes of data
    Ether(**ETH) / ip6() / IPv6ExtHdrHopByHop() / ICMPv6EchoRequest(id=0x1818, seq=3, data=b"hello"),
    # 4: first fragment of a TCP segment: dropped as ipv6_fragment
    Ether(**ETH) / ip6() / IPv6ExtHdrFragment(id=7, m=1, offset=0) / tcp(b"x" * 16),
    # 5: atomic fragment (offset 0, M clear) after destination options: ipv6_fragment too
    Ether(**ETH) / ip6() / IPv6ExtHdrDestOpt() / IPv6ExtHdrFragment(id=8, m=0, offset=0) / tcp(b"y"),
    # 6: ESP (50) after hop-by-hop: ipv6_unknown_next_header
    Ether(**ETH) / ip6() / IPv6ExtHdrHopByHop(nh=50) / Raw(b"\0\0\0\1\0\0\0\1" + b"e" * 16),
    # 7: hop-by-hop after destination options: bad_ipv6_ext
    Ether(**ETH) / ip6() / IPv6ExtHdrDestOpt() / IPv6ExtHdrHopByHop() / tcp(b"z"),
    # 8: no next header (59) after destination options: ipv6_unknown_next_header
    Ether(**ETH) / ip6() / IPv6ExtHdrDestOpt(nh=59),
]

out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
for i, f in enumerate(frames):
    f.time = 1800000000 + i
wrpcap(os.path.join(out, "ipv6_ext_chains.pcap"), frames)
for i, f in enumerate(frames):
    print(i, len(bytes(f)), f.summary())
