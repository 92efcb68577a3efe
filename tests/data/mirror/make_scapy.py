#!/usr/bin/python3
"""Writes the scapy-encapsulated fixtures of tests/mirror (see README.md).

    /usr/bin/python3 tests/data/mirror/make_scapy.py [OUT-DIR]     (needs python3-scapy)

The inner frames are the kernel's own: the ten inner Ethernet frames of vxlan_http.pcap
(a curl exchange recorded by record_vxlan.sh). Scapy's layers (GENEVE, ERSPAN_II/III,
ERSPAN_PlatformSpecific, GRE) put the outer headers around them, so the outer encodings
come from an implementation independent of lib/mirror. Deterministic: same bytes each run.
"""
import os
import sys

from scapy.all import Ether, Dot1Q, Dot1AD, IP, UDP, GRE, Raw, rdpcap, wrpcap, conf  # noqa: E402
from scapy.contrib.geneve import GENEVE, GeneveOptions  # noqa: E402
from scapy.contrib.erspan import ERSPAN_II, ERSPAN_III, ERSPAN_PlatformSpecific  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = sys.argv[1] if len(sys.argv) > 1 else HERE


def inner_frames():
    out = []
    for p in rdpcap(os.path.join(HERE, "vxlan_http.pcap")):
        out.append(bytes(p[UDP].payload)[8:])  # after the 8-byte VXLAN header
    return out


def outer(i, tags=()):
    """Outer Ethernet (+tags) and IPv4 of the i-th frame: mirror source 198.18.20.1 -> sink .2."""
    l2 = Ether(src="02:00:00:00:20:01", dst="02:00:00:00:20:02")
    for t in tags:
        l2 = l2 / t
    return l2 / IP(src="198.18.20.1", dst="198.18.20.2", id=0x100 + i, flags="DF", ttl=64)


def geneve(inner, i, options):
    g = GENEVE(vni=4242, proto=0x6558)
    if options:
        # Two TLVs: class 0x0102 type 0x80 with 4 bytes, class 0xffff type 1 with 8 bytes.
        g.options = [GeneveOptions(classid=0x0102, type=0x80, length=1, data=b"\x11\x22\x33\x44"),
                     GeneveOptions(classid=0xffff, type=1, length=2, data=b"ABCDEFGH")]
        g.optionlen = 5  # words: (4 + 4) + (4 + 8)
    return outer(i) / UDP(sport=50000 + i, dport=6081) / g / Raw(inner)


def erspan2(inner, i, session, tags=()):
    return outer(i, tags) / GRE(proto=0x88be, seqnum_present=1, seqence_number=i) / \
        ERSPAN_II(ver=1, vlan=0, session_id=session, index=i) / Raw(inner)


def erspan1(inner, i):
    return outer(i) / GRE(proto=0x88be) / Raw(inner)


def erspan3(inner, i, subheader):
    e = ERSPAN_III(ver=2, session_id=301, timestamp=0x1000 + i, sgt_other=0x0042, ft=0, hw=5, gra=1,
                   o=1 if subheader else 0)
    p = outer(i) / GRE(proto=0x22eb, seqnum_present=1, seqence_number=i) / e
    if subheader:
        p = p / ERSPAN_PlatformSpecific(platf_id=3, info1=0x12345, info2=0xdeadbeef)
    return p / Raw(inner)


def gretap(inner, i, key=None, seq=False, csum=False, tags=()):
    g = GRE(proto=0x6558)
    if csum:
        g.chksum_present = 1
    if key is not None:
        g.key_present = 1
        g.key = key
    if seq:
        g.seqnum_present = 1
        g.seqence_number = i
    return outer(i, tags) / g / Raw(inner)


def write(name, packets):
    for n, p in enumerate(packets):
        p.time = 1700000000 + n / 1000
    wrpcap(os.path.join(OUT, name), packets)


def main():
    conf.verb = 0
    frames = inner_frames()
    assert len(frames) == 10, len(frames)
    write("geneve.pcap", [geneve(f, i, False) for i, f in enumerate(frames)])
    write("geneve_options.pcap", [geneve(f, i, True) for i, f in enumerate(frames)])
    write("erspan1.pcap", [erspan1(f, i) for i, f in enumerate(frames)])
    write("erspan2.pcap", [erspan2(f, i, 100) for i, f in enumerate(frames)])
    # Two sessions interleaved (100 and 200), the outer frame tagged 802.1Q 10.
    write("erspan2_two_sessions.pcap",
          [erspan2(f, i, 100 if i % 2 == 0 else 200, tags=(Dot1Q(vlan=10),)) for i, f in enumerate(frames)])
    write("erspan3.pcap", [erspan3(f, i, False) for i, f in enumerate(frames)])
    write("erspan3_subheader.pcap", [erspan3(f, i, True) for i, f in enumerate(frames)])
    write("gretap.pcap", [gretap(f, i) for i, f in enumerate(frames)])
    # Key 7, sequence numbers and checksum, under QinQ (802.1ad 20 + 802.1Q 30).
    write("gretap_key_seq_csum.pcap",
          [gretap(f, i, key=7, seq=True, csum=True, tags=(Dot1AD(vlan=20), Dot1Q(vlan=30)))
           for i, f in enumerate(frames)])


if __name__ == "__main__":
    main()
