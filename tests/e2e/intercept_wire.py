#!/usr/bin/env python3
"""Hostile control datagrams for the three-server e2e (tests/e2e/intercept_faults.sh).

    intercept_wire.py --iface IF --src IP:PORT --dst IP:PORT --type records|subscribe
                      --key-file FILE --stranger IP [--timeout S]
    intercept_wire.py --forge-records --iface IF --src INTERCEPT:PORT --dst DPCOPY:PORT [--timeout S]

Runs in the rig's switch namespace, on the bridge port toward the victim (dpcopy or
dpintercept). It waits for one genuine control datagram of --type from --src to --dst
(AF_PACKET, both directions of the port), then sends toward the victim, through the
same port:
  * that frame again, verbatim, 3 times                  -> replayed 3
  * that frame with one body byte / one MAC byte flipped  -> bad_mac 2
  * SUBSCRIBE only: the genuine datagram again from 3 other ports of --src's address
    (replays to make the intercept send records elsewhere)  -> reply_mismatch 3
  * forged from --src (the victim's only trusted peer), without the key:
      8 bytes -> truncated; 64 zero bytes -> bad_magic; a header of version 9 ->
      bad_version; of version 1 (an old peer) -> old_version; a well-formed header
      without a MAC -> missing_mac
  * forged from --src with the key (a sender whose clock or state is wrong):
      sequence 0 -> bad_sequence; timestamp 60 s old -> stale;
      the genuine body under an older epoch -> old_epoch; RECORDS/SUBSCRIBE with
      an empty body -> truncated (SUBSCRIBE) or bad_body (RECORDS count 0)
  * 2 datagrams from --stranger (not a peer)              -> from_strangers / not_allowed
Prints one JSON object: what it sent, by the reason the victim must count.

--forge-records (no key anywhere; issue #13's probe): waits for dpcopy's SUBSCRIBE (--dst
to --src), learns its instance, epoch and first fake client range from it, and sends
dpcopy one RECORDS datagram from --src bound to it (protocol version 2, no MAC) whose
records claim responses from 10.1.1.1:80 and 8.8.8.8:22 to one of dpcopy's fake clients
(not targets) and from the target's address in the SUBSCRIBE to 10.9.9.9 (not a fake
client). Prints {"records_not_target": 2, "records_not_client": 1}.
Nothing here leaves the namespace: frames go out of one veth of the rig's bridge.
"""
import argparse
import hashlib
import hmac
import json
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
MAGIC = 0x44504354
HEADER = 36
MAC_LEN = 32
TYPES = {"subscribe": 1, "records": 2}


def ip_checksum(hdr: bytes) -> int:
    s = 0
    for i in range(0, len(hdr), 2):
        s += (hdr[i] << 8) | hdr[i + 1]
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def udp_frame(eth: bytes, src, dst, payload: bytes) -> bytes:
    """eth: 14 bytes (dst MAC, src MAC, type); src/dst: (ip, port). UDP checksum 0 (none)."""
    total = 20 + 8 + len(payload)
    ip = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, 0x1234, 0x4000, 64, 17, 0,
                               socket.inet_aton(src[0]), socket.inet_aton(dst[0])))
    struct.pack_into("!H", ip, 10, ip_checksum(bytes(ip)))
    udp = struct.pack("!HHHH", src[1], dst[1], 8 + len(payload), 0)
    return eth + bytes(ip) + udp + payload


def parse_udp(frame: bytes):
    """(src, dst, payload) of an IPv4/UDP frame without VLAN tag, else None."""
    if len(frame) < 42 or frame[12:14] != b"\x08\x00" or frame[14] >> 4 != 4 or frame[23] != 17:
        return None
    ihl = (frame[14] & 0x0F) * 4
    tot = struct.unpack_from("!H", frame, 16)[0]
    sip = socket.inet_ntoa(frame[26:30])
    dip = socket.inet_ntoa(frame[30:34])
    u = 14 + ihl
    sport, dport = struct.unpack_from("!HH", frame, u)
    return (sip, sport), (dip, dport), frame[u + 8:14 + tot]


def mac_key(path: str) -> bytes:
    with open(path, "rb") as f:
        secret = f.read()
    return hashlib.blake2b(secret, digest_size=32, key=b"dpcopy control protocol v2").digest()


def seal(key: bytes, d: bytearray) -> bytes:
    """Sets the MAC flag and length, appends HMAC-SHA-512-256 (libsodium crypto_auth)."""
    d = bytearray(d)
    d[6] = 0x01
    struct.pack_into("!H", d, 8, len(d) + MAC_LEN)
    return bytes(d) + hmac.new(key, bytes(d), hashlib.sha512).digest()[:MAC_LEN]


def header(version, typ, flags, length, instance, epoch, seq, ts) -> bytearray:
    return bytearray(struct.pack("!IBBBBHHQQQ", MAGIC, version, typ, flags, 0, length, instance, epoch, seq, ts))


VERSION = 2


def tcp_record(src, dst) -> bytes:
    """An IPv4+TCP header block (ACK, 10 payload bytes announced, none shipped)."""
    ip = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 50, 1, 0x4000, 64, 6, 0,
                               socket.inet_aton(src[0]), socket.inet_aton(dst[0])))
    tcp = struct.pack("!HHIIBBHHH", src[1], dst[1], 1000, 2000, 5 << 4, 0x18, 65535, 0, 0)
    return bytes(ip) + tcp


def sniff(s, src, dst, typ, timeout, need_mac=True):
    """The first frame of a control datagram of type typ from src to dst, or None."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            frame = s.recv(65535)
        except socket.timeout:
            continue
        p = parse_udp(frame)
        if p and p[0] == src and p[1] == dst and len(p[2]) >= HEADER + (MAC_LEN if need_mac else 0) \
                and p[2][5] == typ:
            return frame
    return None


def forge_records(a, s, src, dst) -> int:
    """Learns dpcopy's instance, epoch and pool from its SUBSCRIBE, the intercept's epoch and
    sequence from a RECORDS datagram, then sends the forgery right after a genuine RECORDS:
    same epoch, sequence + 3 (a newer epoch or a far sequence would make dpcopy refuse the
    genuine stream; this costs it at most one genuine datagram)."""
    sub = rec = None
    deadline = time.monotonic() + a.timeout
    while sub is None or rec is None:
        if time.monotonic() > deadline:
            print(json.dumps({"error": f"no SUBSCRIBE and RECORDS between {a.src} and {a.dst} on {a.iface}"}))
            return 3
        try:
            frame = s.recv(65535)
        except socket.timeout:
            continue
        p = parse_udp(frame)
        if not p or len(p[2]) < HEADER:
            continue
        if p[0] == dst and p[1] == src and p[2][5] == 1:
            sub = frame
        elif p[0] == src and p[1] == dst and p[2][5] == 2 and sub is not None:
            rec = frame
    d = parse_udp(sub)[2]
    _, _, _, _, _, _, instance, epoch, _, _ = struct.unpack_from("!IBBBBHHQQQ", d)
    body = d[HEADER:]
    n_clients, n_targets = struct.unpack_from("!HH", body, 4)
    first_ip, _, first_port, _ = struct.unpack_from("!IIHH", body, 16)
    t_ip = struct.unpack_from("!I", body, 16 + 12 * n_clients)[0] if n_targets else first_ip
    client = (socket.inet_ntoa(struct.pack("!I", first_ip)), first_port)
    target = socket.inet_ntoa(struct.pack("!I", t_ip))
    _, _, _, _, _, _, _, ic_epoch, ic_seq, _ = struct.unpack_from("!IBBBBHHQQQ", parse_udp(rec)[2])
    recs = [tcp_record(("10.1.1.1", 80), client), tcp_record(("8.8.8.8", 22), client),
            tcp_record((target, 80), ("10.9.9.9", first_port))]
    rbody = struct.pack("!HHQ4sHH", len(recs), 0, epoch, socket.inet_aton(dst[0]), dst[1], 0)
    for r in recs:
        rbody += struct.pack("!H", len(r)) + r
    dgram = header(VERSION, 2, 0, HEADER + len(rbody), instance, ic_epoch, ic_seq + 3, time.time_ns()) + rbody
    s.send(udp_frame(rec[:14], src, dst, bytes(dgram)))
    print(json.dumps({"records_not_target": 2, "records_not_client": 1}))
    return 0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--iface", required=True)
    ap.add_argument("--src", required=True)
    ap.add_argument("--dst", required=True)
    ap.add_argument("--type", choices=TYPES)
    ap.add_argument("--key-file")
    ap.add_argument("--stranger")
    ap.add_argument("--forge-records", action="store_true")
    ap.add_argument("--timeout", type=float, default=10.0)
    a = ap.parse_args()
    src = (a.src.split(":")[0], int(a.src.split(":")[1]))
    dst = (a.dst.split(":")[0], int(a.dst.split(":")[1]))
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind((a.iface, 0))
    s.settimeout(0.2)
    if a.forge_records:
        return forge_records(a, s, src, dst)
    key = mac_key(a.key_file)
    deadline = time.monotonic() + a.timeout
    genuine = None
    while genuine is None:
        if time.monotonic() > deadline:
            print(json.dumps({"error": f"no {a.type} datagram {a.src} -> {a.dst} seen on {a.iface}"}))
            return 3
        try:
            frame = s.recv(65535)
        except socket.timeout:
            continue
        p = parse_udp(frame)
        if p and p[0] == src and p[1] == dst and len(p[2]) >= HEADER + MAC_LEN and p[2][5] == TYPES[a.type]:
            genuine = frame
    time.sleep(0.05)  # the victim has taken the genuine one first
    eth = genuine[:14]
    dgram = parse_udp(genuine)[2]
    _, _, typ, _, _, length, instance, epoch, seq, ts = struct.unpack_from("!IBBBBHHQQQ", dgram)
    body = dgram[HEADER:len(dgram) - MAC_LEN]
    sent = {}

    def send(reason, payload=None, frame=None, frm=src):
        s.send(frame if frame is not None else udp_frame(eth, frm, dst, payload))
        sent[reason] = sent.get(reason, 0) + 1

    for _ in range(3):
        send("replayed", frame=genuine)
    if typ == TYPES["subscribe"]:
        for port in (40001, 40002, 40003):
            send("reply_mismatch", dgram, frm=(src[0], port))
    for pos in (HEADER, len(dgram) - 1):  # a body byte, a MAC byte
        d = bytearray(dgram)
        d[pos] ^= 0x20
        send("bad_mac", bytes(d))
    now = time.time_ns()
    send("truncated", b"DPCT\x01\x02\x00\x00")
    send("bad_magic", bytes(64))
    send("bad_version", bytes(header(9, typ, 1, HEADER + MAC_LEN, instance, epoch, seq + 1000, now)) + bytes(MAC_LEN))
    send("old_version", bytes(header(1, typ, 1, HEADER + MAC_LEN, instance, epoch, seq + 1000, now)) + bytes(MAC_LEN))
    v = VERSION
    send("missing_mac", bytes(header(v, typ, 0, HEADER + len(body), instance, epoch, seq + 1000, now)) + body)
    send("bad_sequence", seal(key, header(v, typ, 0, 0, instance, epoch, 0, now) + body))
    send("stale", seal(key, header(v, typ, 0, 0, instance, epoch, seq + 1000, now - 60 * 10**9) + body))
    send("old_epoch", seal(key, header(v, typ, 0, 0, instance, epoch - 1, seq + 1000, now) + body))
    empty_reason = "bad_body" if typ == TYPES["records"] else "truncated"
    # RECORDS: count 0 with the genuine binding; SUBSCRIBE: no body at all
    empty = b"\x00\x00" + body[2:20] if typ == TYPES["records"] else b""
    send(empty_reason, seal(key, header(v, typ, 0, 0, instance, epoch, seq + 1001, now) + empty))
    for _ in range(2):
        send("strangers", b"DPCT\x01\x02\x00\x00", frm=(a.stranger, 40000))
    print(json.dumps(sent, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
