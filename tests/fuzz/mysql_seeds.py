#!/usr/bin/env python3
"""Seeds for fuzz_mysql from the recorded MySQL/MariaDB logins (tests/proto/data/*.pcap).

For every capture, writes each direction's TCP byte stream (client->server and
server->client, in capture order; the captures have no retransmissions) and each of its
MySQL packets as one seed file. With --dump, prints the packets in hex instead.

    mysql_seeds.py OUT-DIR PCAP...
    mysql_seeds.py --dump PCAP...
"""
import os
import struct
import sys


def frames(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    if magic not in (0xA1B2C3D4, 0xA1B23C4D):
        raise SystemExit(f"{path}: not a little-endian pcap file")
    link = struct.unpack("<I", data[20:24])[0]
    off = 24
    while off + 16 <= len(data):
        incl = struct.unpack("<I", data[off + 8:off + 12])[0]
        yield link, data[off + 16:off + 16 + incl]
        off += 16 + incl


def tcp_payloads(path):
    """(server_port_is_dst, payload) for each TCP segment with data (Ethernet or raw IPv4)."""
    for link, f in frames(path):
        ip = f[14:] if link == 1 else f
        if link == 1 and f[12:14] != b"\x08\x00":
            continue
        if len(ip) < 20 or ip[9] != 6:
            continue
        ihl = (ip[0] & 15) * 4
        total = struct.unpack(">H", ip[2:4])[0]
        tcp = ip[ihl:total]
        doff = (tcp[12] >> 4) * 4
        sport, dport = struct.unpack(">HH", tcp[:4])
        if tcp[doff:]:
            yield sport, dport, tcp[doff:]


def streams(path):
    """client->server and server->client byte streams; the server is the first sender."""
    out = {}
    server = None
    for sport, dport, data in tcp_payloads(path):
        if server is None:
            server = sport  # the greeting comes first
        key = "s2c" if sport == server else "c2s"
        out[key] = out.get(key, b"") + data
    return out


def packets(stream):
    off = 0
    while off + 4 <= len(stream):
        n = stream[off] | stream[off + 1] << 8 | stream[off + 2] << 16
        yield stream[off:off + 4 + n]
        off += 4 + n


def main():
    args = sys.argv[1:]
    if args and args[0] == "--dump":
        for path in args[1:]:
            print(f"== {path}")
            for key, s in sorted(streams(path).items()):
                for p in packets(s):
                    print(f"{key} seq={p[3]} len={len(p) - 4}: {p.hex()}")
        return
    out, paths = args[0], args[1:]
    os.makedirs(out, exist_ok=True)
    for path in paths:
        base = os.path.splitext(os.path.basename(path))[0]
        for key, s in streams(path).items():
            with open(os.path.join(out, f"{base}.{key}"), "wb") as f:
                f.write(s)
            for i, p in enumerate(packets(s)):
                with open(os.path.join(out, f"{base}.{key}.{i}"), "wb") as f:
                    f.write(p)


if __name__ == "__main__":
    main()
