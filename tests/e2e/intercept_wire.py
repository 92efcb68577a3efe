#!/usr/bin/env python3
"""Hostile control datagrams for the three-server e2e (tests/e2e/intercept_faults.sh).

    intercept_wire.py --iface IF --src IP:PORT --dst IP:PORT --type records|subscribe
                      --key-file FILE --stranger IP [--timeout S]

Runs in the rig's switch namespace, on the bridge port toward the victim (dpcopy or
dpintercept). It waits for one genuine control datagram of --type from --src to --dst
(AF_PACKET, both directions of the port), then sends toward the victim, through the
same port:
  * that frame again, verbatim, 3 times                  -> replayed 3
  * that frame with one body byte / one MAC byte flipped  -> bad_mac 2
  * forged from --src (the victim's only trusted peer), without the key:
      8 bytes -> truncated; 64 zero bytes -> bad_magic; a header of version 9 ->
      bad_version; a well-formed header without a MAC -> missing_mac
  * forged from --src with the key (a sender whose clock or state is wrong):
      sequence 0 -> bad_sequence; timestamp 60 s old -> stale;
      the genuine body under an older epoch -> old_epoch; RECORDS/SUBSCRIBE with
      an empty body -> truncated (SUBSCRIBE) or bad_body (RECORDS count 0)
  * 2 datagrams from --stranger (not a peer)              -> from_strangers / not_allowed
Prints one JSON object: what it sent, by the reason the victim must count.
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
    return hashlib.blake2b(secret, digest_size=32, key=b"dpcopy control protocol v1").digest()


def seal(key: bytes, d: bytearray) -> bytes:
    """Sets the MAC flag and length, appends HMAC-SHA-512-256 (libsodium crypto_auth)."""
    d = bytearray(d)
    d[6] = 0x01
    struct.pack_into("!H", d, 8, len(d) + MAC_LEN)
    return bytes(d) + hmac.new(key, bytes(d), hashlib.sha512).digest()[:MAC_LEN]


def header(version, typ, flags, length, instance, epoch, seq, ts) -> bytearray:
    return bytearray(struct.pack("!IBBBBHHQQQ", MAGIC, version, typ, flags, 0, length, instance, epoch, seq, ts))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--iface", required=True)
    ap.add_argument("--src", required=True)
    ap.add_argument("--dst", required=True)
    ap.add_argument("--type", choices=TYPES, required=True)
    ap.add_argument("--key-file", required=True)
    ap.add_argument("--stranger", required=True)
    ap.add_argument("--timeout", type=float, default=10.0)
    a = ap.parse_args()
    src = (a.src.split(":")[0], int(a.src.split(":")[1]))
    dst = (a.dst.split(":")[0], int(a.dst.split(":")[1]))
    key = mac_key(a.key_file)

    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind((a.iface, 0))
    s.settimeout(0.2)
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
    for pos in (HEADER, len(dgram) - 1):  # a body byte, a MAC byte
        d = bytearray(dgram)
        d[pos] ^= 0x20
        send("bad_mac", bytes(d))
    now = time.time_ns()
    send("truncated", b"DPCT\x01\x02\x00\x00")
    send("bad_magic", bytes(64))
    send("bad_version", bytes(header(9, typ, 1, HEADER + MAC_LEN, instance, epoch, seq + 1000, now)) + bytes(MAC_LEN))
    send("missing_mac", bytes(header(1, typ, 0, HEADER + len(body), instance, epoch, seq + 1000, now)) + body)
    send("bad_sequence", seal(key, header(1, typ, 0, 0, instance, epoch, 0, now) + body))
    send("stale", seal(key, header(1, typ, 0, 0, instance, epoch, seq + 1000, now - 60 * 10**9) + body))
    send("old_epoch", seal(key, header(1, typ, 0, 0, instance, epoch - 1, seq + 1000, now) + body))
    empty_reason = "bad_body" if typ == TYPES["records"] else "truncated"
    empty = b"\x00\x00\x00\x00" if typ == TYPES["records"] else b""
    send(empty_reason, seal(key, header(1, typ, 0, 0, instance, epoch, seq + 1001, now) + empty))
    for _ in range(2):
        send("strangers", b"DPCT\x01\x02\x00\x00", frm=(a.stranger, 40000))
    print(json.dumps(sent, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
