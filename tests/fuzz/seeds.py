#!/usr/bin/env python3
"""Seed corpora of the libFuzzer harnesses (tests/fuzz), from the repository's test data.

    seeds.py NAME OUT-DIR      (NAME: parse, engine, capture, control, options, mysql, compare)

parse    every frame of every capture in tests/data, tests/proto/data and config/samples
decap    every frame of tests/data/mirror (encapsulated mirrors), behind each of six configurations
capture  those capture files whole, and each also converted to pcapng
control  control datagrams (subscribe, unsubscribe, records) encoded as docs/control-protocol.md says
options  command lines of both apps and the config files in config/ (fuzz_options' input format)
engine   scripted sessions in fuzz_engine's event encoding, plus raw-frame events of small frames
mysql    the recorded MySQL/MariaDB logins (mysql_seeds.py)
"""
import glob
import os
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def captures():
    return sorted(glob.glob(f"{ROOT}/tests/data/*.pcap") + glob.glob(f"{ROOT}/tests/proto/data/*.pcap")
                  + glob.glob(f"{ROOT}/config/samples/*.pcap"))


def pcap_records(path):
    """(linktype, header fields, frame bytes) of a little- or big-endian pcap file."""
    data = open(path, "rb").read()
    end = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    link = struct.unpack(end + "I", data[20:24])[0]
    off = 24
    while off + 16 <= len(data):
        sec, frac, incl, orig = struct.unpack(end + "IIII", data[off:off + 16])
        yield link, (sec, frac, orig), data[off + 16:off + 16 + incl]
        off += 16 + incl


def to_pcapng(path):
    recs = list(pcap_records(path))
    link = recs[0][0] if recs else 1

    def block(btype, body):
        body += b"\0" * (-len(body) % 4)
        n = len(body) + 12
        return struct.pack("<II", btype, n) + body + struct.pack("<I", n)

    out = block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    out += block(1, struct.pack("<HHI", link, 0, 65535))
    for _, (sec, frac, orig), frame in recs:
        ts = sec * 1_000_000 + frac % 1_000_000
        out += block(6, struct.pack("<IIIII", 0, ts >> 32, ts & 0xFFFFFFFF, len(frame), orig) + frame)
    return out


def seeds_decap():
    """fuzz_decap's input: two configuration bytes (mode in the low three bits), then a frame."""
    for path in sorted(glob.glob(f"{ROOT}/tests/data/mirror/*.pcap")):
        base = os.path.basename(path)
        for i, (link, _, frame) in enumerate(pcap_records(path)):
            for mode in range(6):
                yield f"{base}.{i}.m{mode}", bytes([mode, 0x03 if mode == 1 else 0]) + frame


def seeds_parse():
    for path in captures():
        base = os.path.basename(path)
        for i, (link, _, frame) in enumerate(pcap_records(path)):
            if link == 1:
                yield f"{base}.{i}", frame


def seeds_capture():
    for path in captures():
        base = os.path.basename(path)
        yield base, open(path, "rb").read()
        yield base + "ng", to_pcapng(path)


def control_header(dtype, body_len, seq=1, mac=False):
    total = 36 + body_len + (32 if mac else 0)
    return struct.pack(">IBBBBHHQQQ", 0x44504354, 1, dtype, 1 if mac else 0, 0, total, 3,
                       1_700_000_000_000_000_000, seq, 1_700_000_000_500_000_000)


def seeds_control():
    clients = [(0x0A090001, 0x0A0900FE, 1024, 65535)]
    targets = [(0xC0A80214, 8080), (0xC0A80215, 0)]
    body = struct.pack(">HBBHH", 1000, 3, 0, len(clients), len(targets))
    body += b"".join(struct.pack(">IIHH", *c) for c in clients)
    body += b"".join(struct.pack(">IHH", ip, port, 0) for ip, port in targets)
    yield "subscribe", control_header(1, len(body)) + body
    yield "unsubscribe", control_header(3, 0, seq=9)
    ip = struct.pack(">BBHHHBBHII", 0x45, 0, 60, 1, 0x4000, 64, 6, 0, 0xC0A80214, 0x0A090001)
    tcp = struct.pack(">HHIIBBHHH", 8080, 40000, 1000, 2000, 0x50, 0x18, 65535, 0, 0)
    rec = ip + tcp + b"HTTP/1.1 200 OK\r\n"[:20]
    recs = struct.pack(">HH", 2, 0) + struct.pack(">H", len(rec)) + rec + struct.pack(">H", 40) + ip + tcp
    yield "records", control_header(2, len(recs), seq=2) + recs
    # Replay-window input for check_replay: (epoch, seq) triples.
    yield "replay", bytes([0, 0, 5, 0, 0, 3, 0, 0, 5, 1, 0, 1, 0, 0, 200])


def seeds_options():
    copy_lines = [
        ["--", "-x", "80-10.0.0.2:8080"],
        ["-l", "0-1", "--vdev", "net_af_packet0,iface=veth0", "--", "-x", "80-10.0.0.2:8080", "-c", "10.9.0.x",
         "-n", "3", "-r", "50", "-f", "2"],
        ["--", "-x", "192.168.1.10:443-10.0.0.2:8443,80-10.0.0.2:8080", "-s", "10.0.0.3:36524", "--ip", "10.0.0.1/24",
         "--gateway", "10.0.0.254", "-i", f"{ROOT}/tests/data/tcp_http.pcap", "-a", "2.5", "--loop", "3",
         "--max-gap", "1000", "-M", "1400", "-W", "-O", "-t", "30", "--mysql-user", "app:s3cret"],
        ["--version"],
        ["--", "--help"],
    ]
    intercept_lines = [
        ["--", "--ip", "10.0.0.3/24", "-F", "tcp and src port 8080", "--payload-bytes", "64",
         "--allow", "10.0.0.0/24,10.1.0.0/16", "--stats-interval", "0"],
    ]
    enc = lambda args: b"\0".join(a.encode() for a in args)
    for i, a in enumerate(copy_lines):
        yield f"copy.{i}", b"\0" + enc(a)
    for i, a in enumerate(intercept_lines):
        yield f"intercept.{i}", b"\1" + enc(a)
    for path in sorted(glob.glob(f"{ROOT}/config/*.conf.example")):
        text = open(path, "rb").read()
        app = 1 if "intercept" in os.path.basename(path) else 0
        yield os.path.basename(path), bytes([2 | app]) + enc(["--"]) + b"\0\0" + text


def engine_session(flow, tuple_idx):
    """One session in fuzz_engine's encoding: handshake, two exchanges, close."""
    f, t = flow, tuple_idx
    return bytes([
        0, f, 0, 0,        # client SYN
        3, f, 0, 0,        # online SYN-ACK
        0, f, 1, 0,        # client ACK
        4, t, 0, 5,        # target SYN-ACK
        0, f, 2, 4,        # client request, 100 bytes
        4, t, 2, 4,        # target response, 100 bytes
        3, f, 4, 4,        # online response, 100 bytes
        0, f, 2, 3,        # second request, 10 bytes
        7, 3,              # 200 ms
        4, t, 2, 3,        # target response
        3, f, 4, 3,        # online response
        0, f, 4, 0,        # client FIN
        4, t, 3,           # target FIN
        3, f, 2, 0,        # online FIN
        0, f, 1, 0,        # client ACK
        7, 4,              # 1 s
    ])


def seeds_engine():
    for c0 in (0x00, 0x01, 0x02, 0x04, 0x10, 0x20, 0x80, 0x08):
        yield f"one.{c0:02x}", bytes([c0]) + engine_session(0, 0)
    many = b"".join(engine_session(f, 0) for f in (0, 3, 5, 8, 9, 12))
    yield "many", bytes([0]) + many
    yield "many.n3", bytes([0x12]) + many
    # Six clients open at once: the table (4 sessions) fills, then the target answers them.
    flows = (0, 3, 5, 8, 9, 12)
    fill = b"".join(bytes([0, f, 0, 0]) for f in flows) + b"".join(bytes([4, t, 0, t]) for t in range(6))
    fill += b"".join(bytes([0, f, 1, 0, 0, f, 2, 4]) for f in flows) + bytes([7, 7]) * 3
    yield "fill", bytes([0]) + fill
    yield "fill.n2", bytes([0x01]) + fill
    n = 0
    for path in captures():
        for link, _, frame in pcap_records(path):
            if link == 1 and len(frame) < 256 and n < 64:
                yield f"raw.{n}", bytes([0, 9, 0, len(frame)]) + frame + bytes([9, 1, len(frame)]) + frame
                n += 1


def compare_ops(exchanges, slot=0):
    """fuzz_compare's operations for one session in `slot`: (request, online, target) triples."""
    ops = bytes([0, slot, 0])
    for req, onl, tgt in exchanges:
        ops += bytes([2, slot, 0]) + bytes([3, slot, len(req)]) + req
        for i in range(0, len(onl), 200):
            ops += bytes([1, slot, 0, len(onl[i:i + 200])]) + onl[i:i + 200]
        for i in range(0, len(tgt), 200):
            ops += bytes([4, slot, 0, len(tgt[i:i + 200])]) + tgt[i:i + 200]
        ops += bytes([5, slot, 0, len(onl) // 3, 0, len(tgt) // 3, 6])
    return ops


def seeds_compare():
    import struct
    http = lambda code, body: b"HTTP/1.1 %d X\r\nContent-Length: %d\r\n\r\n" % (code, len(body)) + body
    yield "http", compare_ops([(b"GET /users/17 HTTP/1.1\r\n\r\n", http(200, b"abc"), http(404, b"no")),
                               (b"POST /a?x=1 HTTP/1.1\r\n\r\n", http(500, b""), http(500, b""))])
    yield "redis", compare_ops([(b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", b"$1\r\nv\r\n", b"$-1\r\n"),
                                (b"*1\r\n$4\r\nPING\r\n", b"+PONG\r\n", b"-ERR x\r\n")], slot=1)
    pg = lambda t, body: t + struct.pack(">I", len(body) + 4) + body
    ssl = struct.pack(">II", 8, 80877103)
    startup = struct.pack(">II", 9, 196608) + b"u"
    ready = pg(b"Z", b"I")
    yield "pg", compare_ops([(ssl, b"N", b"N"), (startup, pg(b"R", b"\0" * 4) + ready, pg(b"R", b"\0" * 4) + ready),
                             (pg(b"Q", b"SELECT 1\0"), pg(b"C", b"SELECT 1\0") + ready,
                              pg(b"E", b"SERROR\0C42P01\0\0") + ready)], slot=2)
    my = lambda seq, body: struct.pack("<I", len(body))[:3] + bytes([seq]) + body
    yield "mysql", compare_ops([(my(0, b"\x03SELECT 1"), my(1, b"\x00\x00\x00\x02\x00\x00\x00"),
                                 my(1, b"\xff\x7a\x04#42S02no"))], slot=3)


def seeds_mysql(out):
    import subprocess
    subprocess.run([sys.executable, f"{ROOT}/tests/fuzz/mysql_seeds.py", out]
                   + sorted(glob.glob(f"{ROOT}/tests/proto/data/*.pcap")), check=True)
    return iter(())


def main():
    name, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    gens = {"parse": seeds_parse, "decap": seeds_decap, "capture": seeds_capture, "control": seeds_control,
            "options": seeds_options, "engine": seeds_engine, "mysql": lambda: seeds_mysql(out),
            "compare": seeds_compare}
    if name not in gens:
        raise SystemExit(f"seeds.py: unknown harness '{name}'")
    for fname, data in gens[name]():
        with open(os.path.join(out, fname), "wb") as fh:
            fh.write(data)


if __name__ == "__main__":
    main()
