#!/usr/bin/env python3
"""Lists the application requests a capture holds, one per line, in capture order.

    requests_in_pcap.py FILE PORT [--proto http|redis|pgsql|mysql]

Reassembles every client -> server:PORT TCP stream (by sequence number, so
retransmissions and duplicates count once) and prints, for HTTP, each request
line ("GET /path HTTP/1.1") and, for redis, each command name in upper case
(as `INFO commandstats` counts them). Used by the e2e tests and the demo to know
exactly what the target must receive. Standard library only.

For the databases it prints each statement the server is asked to execute, one a
line, with backslash, newline, carriage return, tab and NUL written as \\, \n, \r,
\t and \0 (escape_statement):
- pgsql (PostgreSQL frontend protocol 3): the text of each simple-query 'Q' message,
  and for the extended protocol the text of the statement (from its Parse) of each
  Execute, as log_statement=all logs them. The untyped opening messages (SSLRequest,
  GSSENCRequest, StartupMessage, CancelRequest) and the typed non-statement messages
  (password, Sync, Describe, Bind, Close, Terminate, ...) are skipped.
- mysql (MySQL/MariaDB client/server protocol): the text of each COM_QUERY, i.e. each
  client packet with sequence id 0 (a command; the login's packets have ids >= 1,
  since the server speaks first) whose first byte is 0x03. A stream that switches to
  TLS (SSLRequest) is not readable and yields nothing.
"""
import struct
import sys


def frames(path):
    with open(path, "rb") as fh:
        data = fh.read()
    magic = struct.unpack("<I", data[:4])[0]
    if magic in (0xA1B2C3D4, 0xA1B23C4D):
        endian = "<"
    elif magic in (0xD4C3B2A1, 0x4D3CB2A1):
        endian = ">"
    else:
        raise SystemExit(f"{path}: not a pcap file (pcapng: convert it first)")
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    off = 24
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack(endian + "IIII", data[off:off + 16])
        off += 16
        yield linktype, data[off:off + incl]
        off += incl


def ipv4_of(linktype, frame):
    if linktype == 1:  # Ethernet, up to two VLAN tags (IPv6 too: tcp_of tells them apart)
        off, etype = 12, struct.unpack("!H", frame[12:14])[0]
        while etype in (0x8100, 0x88A8, 0x9100):
            off += 4
            etype = struct.unpack("!H", frame[off:off + 2])[0]
        return frame[off + 2:] if etype in (0x0800, 0x86DD) else None
    if linktype == 113:
        return frame[16:] if frame[14:16] == b"\x08\x00" else None
    if linktype == 276:
        return frame[20:] if frame[0:2] == b"\x08\x00" else None
    if linktype in (101, 12, 14, 228):
        return frame
    if linktype in (0, 108):
        return frame[4:]
    return None


def tcp_of(ip):
    """(source, destination, TCP segment) of an IPv4 or IPv6 packet carrying TCP (IPv6:
    directly after the fixed header, as clients send it), or None."""
    if ip and len(ip) >= 20 and ip[0] >> 4 == 4 and ip[9] == 6:
        ihl = (ip[0] & 15) * 4
        total = struct.unpack("!H", ip[2:4])[0]
        return ip[12:16], ip[16:20], ip[ihl:total]
    if ip and len(ip) >= 40 and ip[0] >> 4 == 6 and ip[6] == 6:
        plen = struct.unpack("!H", ip[4:6])[0]
        return ip[8:24], ip[24:40], ip[40:40 + plen]
    return None


def streams(path, port):
    conns = {}   # (src, sport, dst) -> {"isn": seq, "segs": {offset: bytes}}
    order = []
    for linktype, frame in frames(path):
        parts = tcp_of(ipv4_of(linktype, frame))
        if not parts:
            continue
        src, dst, tcp = parts
        if len(tcp) < 20:
            continue
        sport, dport, seq = struct.unpack("!HHI", tcp[:8])
        if dport != port:
            continue
        flags = tcp[13]
        doff = (tcp[12] >> 4) * 4
        payload = tcp[doff:]
        key = (src, sport, dst)
        c = conns.get(key)
        if flags & 0x02:  # SYN: a new connection on this tuple (port reuse)
            if c is not None and c["segs"]:
                order.append(c)
            c = conns[key] = {"isn": (seq + 1) & 0xFFFFFFFF, "segs": {}}
            continue
        if c is None:  # mid-stream: the first seen byte starts the stream
            c = conns[key] = {"isn": seq, "segs": {}}
        if payload:
            rel = (seq - c["isn"]) & 0xFFFFFFFF
            if rel < 0x80000000:
                c["segs"].setdefault(rel, payload)
    order.extend(c for c in conns.values() if c["segs"])
    for c in order:
        buf, pos = bytearray(), 0
        for rel in sorted(c["segs"]):
            seg = c["segs"][rel]
            if rel + len(seg) <= pos:
                continue
            buf += seg[max(0, pos - rel):]
            pos = rel + len(seg)
        yield bytes(buf)


def http_request_spans(stream):
    """[(start, head_end, end, request line)] of the HTTP requests in stream (offsets)."""
    out, i = [], 0
    while i < len(stream):
        end = stream.find(b"\r\n\r\n", i)
        if end < 0:
            break
        lines = stream[i:end].decode("latin-1").split("\r\n")
        length = 0
        for h in lines[1:]:
            if h.lower().startswith("content-length:"):
                length = int(h.split(":", 1)[1])
        out.append((i, end + 4, end + 4 + length, lines[0]))
        i = end + 4 + length
    return out


def http_requests(stream):
    return [line for _, _, _, line in http_request_spans(stream)]


def redis_commands(stream):
    out, i = [], 0
    while i < len(stream):
        if stream[i:i + 1] != b"*":  # inline command
            end = stream.find(b"\r\n", i)
            if end < 0:
                break
            words = stream[i:end].split()
            if words:
                out.append(words[0].decode().upper())
            i = end + 2
            continue
        end = stream.find(b"\r\n", i)
        n = int(stream[i + 1:end])
        i = end + 2
        args = []
        for _ in range(n):
            end = stream.find(b"\r\n", i)
            ln = int(stream[i + 1:end])
            args.append(stream[end + 2:end + 2 + ln])
            i = end + 2 + ln + 2
        if args:
            out.append(args[0].decode().upper())
    return out


def escape_statement(text):
    """One statement on one line: backslash, NL, CR, tab and NUL escaped."""
    return (text.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")
            .replace("\t", "\\t").replace("\0", "\\0"))


def _cstr(buf, i):
    """The NUL-terminated string at buf[i:] and the offset after its NUL."""
    end = buf.find(b"\0", i)
    if end < 0:
        end = len(buf)
    return buf[i:end].decode("utf-8", "replace"), end + 1


PG_SSL_REQUEST, PG_GSSENC_REQUEST, PG_CANCEL_REQUEST = 80877103, 80877104, 80877102


def pgsql_statements(stream):
    out, i = [], 0
    # Untyped opening: SSLRequest/GSSENCRequest (8 bytes each, any number, answered by one
    # byte), then the StartupMessage; a CancelRequest connection carries no statement.
    while True:
        if i + 8 > len(stream):
            return out
        length, code = struct.unpack("!II", stream[i:i + 8])
        if code in (PG_SSL_REQUEST, PG_GSSENC_REQUEST) and length == 8:
            i += 8
            continue
        if code == PG_CANCEL_REQUEST or length < 8:
            return out
        i += length  # StartupMessage
        break
    statements, portals = {}, {}  # prepared statement name -> text, portal -> text
    while i + 5 <= len(stream):
        kind = stream[i:i + 1]
        length = struct.unpack("!I", stream[i + 1:i + 5])[0]
        if length < 4 or i + 1 + length > len(stream):
            break
        body = stream[i + 5:i + 1 + length]
        i += 1 + length
        if kind == b"Q":
            out.append(_cstr(body, 0)[0])
        elif kind == b"P":
            name, j = _cstr(body, 0)
            statements[name] = _cstr(body, j)[0]
        elif kind == b"B":
            portal, j = _cstr(body, 0)
            portals[portal] = statements.get(_cstr(body, j)[0])
        elif kind == b"E":
            text = portals.get(_cstr(body, 0)[0])
            if text is not None:
                out.append(text)
    return out


MYSQL_COM_QUERY = 0x03
MYSQL_CLIENT_SSL = 0x800


def mysql_queries(stream):
    out, i, first, pending = [], 0, True, None
    while i + 4 <= len(stream):
        length = int.from_bytes(stream[i:i + 3], "little")
        seq = stream[i + 3]
        if i + 4 + length > len(stream):
            break
        payload = stream[i + 4:i + 4 + length]
        i += 4 + length
        if first:  # the handshake response; its short form asks for TLS
            first = False
            if length == 32 and int.from_bytes(payload[:4], "little") & MYSQL_CLIENT_SSL:
                return out
        if pending is not None:  # continuation of a payload of 2^24-1 bytes or more
            pending[1] += payload
            if length == 0xFFFFFF:
                continue
            seq, payload, pending = pending[0], bytes(pending[1]), None
        elif length == 0xFFFFFF:
            pending = [seq, bytearray(payload)]
            continue
        if seq == 0 and payload[:1] == bytes([MYSQL_COM_QUERY]):
            out.append(payload[1:].decode("utf-8", "replace"))
    return out


def main(argv):
    if len(argv) < 3:
        raise SystemExit(__doc__)
    path, port = argv[1], int(argv[2])
    proto = argv[4] if len(argv) > 4 and argv[3] == "--proto" else "http"
    parsers = {"http": http_requests, "redis": redis_commands,
               "pgsql": pgsql_statements, "mysql": mysql_queries}
    if proto not in parsers:
        raise SystemExit(f"unknown --proto {proto} (http, redis, pgsql, mysql)")
    parse = parsers[proto]
    escape = escape_statement if proto in ("pgsql", "mysql") else (lambda r: r)
    for s in streams(path, port):
        for r in parse(s):
            print(escape(r))


if __name__ == "__main__":
    main(sys.argv)
