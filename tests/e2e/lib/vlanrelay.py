#!/usr/bin/env python3
# A VLAN sub-interface in userspace, for kernels without 802.1Q (CONFIG_VLAN_8021Q unset:
# `ip link add ... type vlan` fails). It owns a tap device (the "sub-interface", which gets
# the IP address) and pushes/pops the tags on the parent through an AF_PACKET socket, so the
# kernel's own stack makes the traffic and the frames on the parent are really tagged. Only
# frames carrying exactly these tags (VIDs; outer first) reach the tap.
#
#   vlanrelay.py TAP PARENT TPID:VID [TPID:VID]     e.g. vlan100 eth0 8100:100
# (the same as tests/data/record.sh's relay)
import fcntl, os, select, socket, struct, sys

tap_name, dev = sys.argv[1], sys.argv[2]
tags = [(int(t.split(":")[0], 16), int(t.split(":")[1])) for t in sys.argv[3:]]  # outer first
taghdr = b"".join(struct.pack("!HH", tpid, vid) for tpid, vid in tags)
tap = os.open("/dev/net/tun", os.O_RDWR)
fcntl.ioctl(tap, 0x400454CA, struct.pack("16sH", tap_name.encode(), 0x0002 | 0x1000))  # TUNSETIFF, IFF_TAP|IFF_NO_PI
sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))  # ETH_P_ALL
sock.bind((dev, 0))
sock.setsockopt(263, 8, 1)  # SOL_PACKET, PACKET_AUXDATA


def vids(frame):
    """The VIDs of the tags at the head of `frame` (after the MACs), and where they end."""
    out, off = [], 12
    while len(out) < 2 and frame[off:off + 2] in (b"\x81\x00", b"\x88\xa8", b"\x91\x00"):
        out.append(struct.unpack("!H", frame[off + 2:off + 4])[0] & 0x0FFF)
        off += 4
    return out, off


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
        got, end = vids(f)
        if got == [vid for _, vid in tags] and f[end:end + 2] not in (b"\x81\x00", b"\x88\xa8", b"\x91\x00"):
            os.write(tap, f[:12] + f[end:])
