#!/usr/bin/python3
# A remote-mirror sender for encapsulations this kernel has no device for (GENEVE, ERSPAN
# type II and III, gretap): every frame arriving on IN (a veth fed by `tc mirred`) is sent
# out of OUT once per session, wrapped in outer Ethernet/IPv4 headers and the session's
# encapsulation built by Debian's python3-scapy layers (an implementation independent of
# lib/mirror; no hand-packed bytes), addressed to DSTMAC / DSTIP.
#
#   encaprelay.py IN OUT SRCIP DSTIP DSTMAC SESSION...
#   SESSION: geneve:VNI | erspan2:ID | erspan3:ID | gretap[:KEY]
# On SIGUSR1 it rereads its sessions from the file named by $ENCAPRELAY_SESSIONS (one
# line, space-separated), so one relay serves several cases. It prints "ready" once bound.
import os
import signal
import socket
import struct
import sys

from scapy.all import Ether, IP, UDP, GRE, Raw, conf  # noqa: E402
from scapy.contrib.geneve import GENEVE  # noqa: E402
from scapy.contrib.erspan import ERSPAN_II, ERSPAN_III  # noqa: E402

conf.verb = 0
in_dev, out_dev, src_ip, dst_ip, dst_mac = sys.argv[1:6]
sessions = sys.argv[6:]
sessions_file = os.environ.get("ENCAPRELAY_SESSIONS")
seq = 0


def reload_sessions(*_):
    global sessions
    with open(sessions_file) as f:
        sessions = f.read().split()
    # struct tpacket_stats (read and reset): frames the relay's socket took and dropped
    taken, dropped = struct.unpack("II", rx.getsockopt(263, 6, 8))  # SOL_PACKET, PACKET_STATISTICS
    if dropped:
        print(f"encaprelay: the kernel dropped {dropped} of {taken} mirrored frames", flush=True)


def encapsulate(kind, ident, inner, seqno):
    """The outer headers of one SESSION around `inner`, built by scapy's layers."""
    if kind == "geneve":
        tunnel = UDP(sport=49152 + seqno % 16384, dport=6081) / GENEVE(vni=ident, proto=0x6558)
    elif kind == "erspan2":
        tunnel = GRE(proto=0x88BE, seqnum_present=1, seqence_number=seqno) / \
            ERSPAN_II(ver=1, vlan=0, session_id=ident, index=seqno & 0xFFFFF)
    elif kind == "erspan3":
        tunnel = GRE(proto=0x22EB, seqnum_present=1, seqence_number=seqno) / \
            ERSPAN_III(ver=2, session_id=ident, timestamp=seqno, ft=0, gra=1, o=0)
    elif kind == "gretap":
        tunnel = GRE(proto=0x6558, key_present=1, key=ident) if ident is not None else GRE(proto=0x6558)
    else:
        raise SystemExit(f"encaprelay: unknown session kind {kind}")
    outer = Ether(src=src_mac, dst=dst_mac) / IP(src=src_ip, dst=dst_ip, id=seqno & 0xFFFF, flags="DF")
    return bytes(outer / tunnel / Raw(inner))


def parse(session):
    kind, _, ident = session.partition(":")
    return kind, int(ident) if ident else None


rx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))  # ETH_P_ALL
# scapy builds a frame in ~0.1 ms: on a loaded machine a burst of mirrored frames outruns
# the relay, and the default 208 KiB receive buffer would drop frames the test then misses
rx.setsockopt(socket.SOL_SOCKET, getattr(socket, "SO_RCVBUFFORCE", 33), 64 << 20)
rx.bind((in_dev, 0))
tx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
tx.bind((out_dev, 0))
src_mac = ":".join(f"{b:02x}" for b in tx.getsockname()[4][:6])
if sessions_file:
    signal.signal(signal.SIGUSR1, reload_sessions)
print("ready", flush=True)
while True:
    try:
        frame, addr = rx.recvfrom(65536)
    except InterruptedError:
        continue
    if addr[2] == socket.PACKET_OUTGOING:
        continue
    for s in list(sessions):
        seq += 1
        kind, ident = parse(s)
        try:
            tx.send(encapsulate(kind, ident, frame, seq))
        except OSError as e:  # a frame too large for OUT's MTU: say so, the test will fail
            print(f"encaprelay: {len(frame)}-byte frame not sent: {e}", file=sys.stderr, flush=True)
