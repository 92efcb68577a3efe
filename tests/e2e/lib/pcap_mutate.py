#!/usr/bin/env python3
"""Seeded mutator of a classic pcap capture (Ethernet, IPv4/TCP): makes the defects of a
lossy mirror port or capture, and says exactly what it removed.

    pcap_mutate.py IN OUT [--port 80] [--seed S] [--json FILE]
                   [--drop-server-pct P] [--drop-server-segment N]... [--drop-client-segment N]...
                   [--reorder-pct P] [--reorder-client-segment N]... [--duplicate-pct P]
    pcap_mutate.py IN --list-client|--list-server [--port 80]

Segments are TCP segments of the transfer on --port (client -> server: destination port;
server -> client: source port). Modes combine; they are applied in this order:

  --drop-server-pct P     drop round(P % of n) of the n server -> client data segments
                          (payload, no SYN/FIN/RST), chosen at random (seeded)
  --drop-client-segment N drop the Nth client -> server data segment (1-based, capture
                          order; payload, no SYN/FIN/RST); repeatable: the request it
                          belongs to has a hole
  --drop-server-segment N the same for server -> client data segments (repeatable)
  --reorder-pct P         round(P % of n) of the n data segments (payload, no SYN/RST, both
                          directions) swap places with the next segment of the same
                          connection and direction that carries data or a FIN (each
                          segment moves at most once; the timestamps stay in place)
  --reorder-client-segment N  the Nth client data segment (--drop-client-segment's
                          numbering) swaps places so (repeatable; e.g. the last one of a
                          connection with the client's FIN)
  --duplicate-pct P       round(P % of n) of the segments carrying data or a FIN (no
                          SYN/RST, both directions) appear twice in a row

--json FILE (else stdout) gets what was done: per dropped client segment its flow, seq,
length, the bytes no other segment of the capture still carries (the hole) and the HTTP
requests those bytes belonged to (the client stream reassembled by sequence number, as
requests_in_pcap.py does); "stream_holes" (adjacent dropped segments make one hole);
"lost_requests" with, per incomplete request, its bytes before and after its first hole;
"lost_request_lines", the request lines that can no longer be complete, and
"lost_lines_sent", those whose request line is whole before the hole (a server may see and
log those, incomplete); per dropped server segment its flow, seq and length; the swapped and
duplicated segments. --list-client prints one line per client data segment (the numbering
--drop-client-segment uses) with the requests it carries, so a test can choose holes;
--list-server one per server data segment (--drop-server-segment's numbering) with its ack
relative to the client's stream (which request it answers).
Standard library only.
"""
import argparse
import json
import random
import struct
import sys

from requests_in_pcap import http_request_spans as http_requests  # one HTTP request parser

SYN, FIN, RST = 0x02, 0x01, 0x04


def read_pcap(path):
    with open(path, "rb") as fh:
        data = fh.read()
    if len(data) < 24:
        raise SystemExit(f"{path}: too short for a pcap file")
    magic_le = struct.unpack("<I", data[:4])[0]
    if magic_le in (0xA1B2C3D4, 0xA1B23C4D):
        endian = "<"
    elif magic_le in (0xD4C3B2A1, 0x4D3CB2A1):
        endian = ">"
    else:
        raise SystemExit(f"{path}: not a classic pcap file (pcapng: convert it first)")
    linktype = struct.unpack(endian + "I", data[20:24])[0] & 0x0FFFFFFF
    if linktype != 1:
        raise SystemExit(f"{path}: link type {linktype}, only Ethernet (1) is supported")
    recs, off = [], 24
    while off + 16 <= len(data):
        hdr = data[off:off + 16]
        incl = struct.unpack(endian + "I", hdr[8:12])[0]
        frame = data[off + 16:off + 16 + incl]
        if len(frame) < incl:
            raise SystemExit(f"{path}: truncated record at offset {off}")
        recs.append({"hdr": hdr, "frame": frame})
        off += 16 + incl
    return data[:24], endian, recs


def write_pcap(path, header, endian, recs):
    with open(path, "wb") as fh:
        fh.write(header)
        for r in recs:
            fh.write(r["hdr"])
            fh.write(r["frame"])


def ts_of(rec, endian):
    return struct.unpack(endian + "II", rec["hdr"][:8])


def with_ts(rec, ts, endian):
    """A copy of rec carrying timestamp ts (the slot's time: swaps keep time monotonic)."""
    return {"hdr": struct.pack(endian + "II", *ts) + rec["hdr"][8:], "frame": rec["frame"], "seg": rec["seg"]}


def parse_tcp(frame):
    """(src, sport, dst, dport, seq, ack, flags, payload) of an Ethernet IPv4/TCP frame, or None."""
    if len(frame) < 14:
        return None
    off, etype = 12, struct.unpack("!H", frame[12:14])[0]
    while etype in (0x8100, 0x88A8, 0x9100):
        off += 4
        if len(frame) < off + 2:
            return None
        etype = struct.unpack("!H", frame[off:off + 2])[0]
    if etype != 0x0800:
        return None
    ip = frame[off + 2:]
    if len(ip) < 20 or ip[0] >> 4 != 4 or ip[9] != 6:
        return None
    ihl = (ip[0] & 15) * 4
    total = struct.unpack("!H", ip[2:4])[0]
    tcp = ip[ihl:min(total, len(ip))]  # the IP length excludes Ethernet padding
    if len(tcp) < 20:
        return None
    sport, dport, seq, ack = struct.unpack("!HHII", tcp[:12])
    doff = (tcp[12] >> 4) * 4
    return ip[12:16], sport, ip[16:20], dport, seq, ack, tcp[13], bytes(tcp[doff:])


def ip_str(b):
    return ".".join(str(x) for x in b)


def annotate(recs, port):
    """Sets rec["seg"] for every TCP segment of the transfer: direction, connection (the
    client's 4-tuple and its SYN generation), seq, flags, payload length."""
    gen = {}   # client key -> [generation, isn]
    conns = {}  # conn id -> {"key", "isn", "client": [(rel, payload, rec index)]}
    for i, r in enumerate(recs):
        r["seg"] = None
        t = parse_tcp(r["frame"])
        if t is None:
            continue
        src, sport, dst, dport, seq, ack, flags, payload = t
        if dport == port:
            direction, key = "c2s", (src, sport, dst, dport)
        elif sport == port:
            direction, key = "s2c", (dst, dport, src, sport)
        else:
            continue
        g = gen.get(key)
        if direction == "c2s" and flags & SYN and not flags & 0x10:
            if g is None or g[1] != (seq + 1) & 0xFFFFFFFF:  # a new connection (port reuse)
                g = gen[key] = [0 if g is None else g[0] + 1, (seq + 1) & 0xFFFFFFFF]
        if g is None:  # mid-stream: the first client byte seen starts the stream
            if direction != "c2s" or not payload:
                g = gen[key] = [0, None]
            else:
                g = gen[key] = [0, seq]
        if g[1] is None and direction == "c2s" and payload:
            g[1] = seq
        cid = (key, g[0])
        c = conns.setdefault(cid, {"key": key, "isn": g[1], "client": []})
        if c["isn"] is None:
            c["isn"] = g[1]
        r["seg"] = {"dir": direction, "conn": cid, "seq": seq, "ack": ack, "flags": flags, "len": len(payload)}
        if direction == "c2s" and payload:
            c["client"].append((i, seq, payload))
    return conns


def flow_str(key):
    src, sport, dst, dport = key
    return f"{ip_str(src)}:{sport}>{ip_str(dst)}:{dport}"


def reassemble(conn):
    """The client stream of conn as {rel offset: payload} and the contiguous bytes from 0."""
    isn = conn["isn"]
    segs = {}
    for _, seq, payload in conn["client"]:
        rel = (seq - isn) & 0xFFFFFFFF
        if rel < 0x80000000 and (rel not in segs or len(payload) > len(segs[rel])):
            segs[rel] = payload
    buf, pos = bytearray(), 0
    for rel in sorted(segs):
        seg = segs[rel]
        if rel > pos:
            break  # a hole in the original capture: the rest is not parsed
        if rel + len(seg) <= pos:
            continue
        buf += seg[pos - rel:]
        pos = rel + len(seg)
    return bytes(buf)


def covered(ranges, lo, hi):
    """Parts of [lo, hi) not covered by the union of ranges (list of [a, b))."""
    holes, pos = [], lo
    for a, b in sorted(ranges):
        if b <= pos:
            continue
        if a >= hi:
            break
        if a > pos:
            holes.append([pos, min(a, hi)])
        pos = max(pos, b)
        if pos >= hi:
            break
    if pos < hi:
        holes.append([pos, hi])
    return holes


def is_data(seg):
    return seg is not None and seg["len"] > 0 and not seg["flags"] & (SYN | RST)


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("input")
    ap.add_argument("output", nargs="?")
    ap.add_argument("--port", type=int, default=80, help="the server's TCP port (default 80)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--drop-server-pct", type=float, default=0.0)
    ap.add_argument("--drop-client-segment", type=int, action="append", default=[])
    ap.add_argument("--drop-server-segment", type=int, action="append", default=[])
    ap.add_argument("--duplicate-pct", type=float, default=0.0)
    ap.add_argument("--reorder-pct", type=float, default=0.0)
    ap.add_argument("--reorder-client-segment", type=int, action="append", default=[])
    ap.add_argument("--json", help="write the summary there (default: stdout)")
    ap.add_argument("--list-client", action="store_true", help="list the client data segments and exit")
    ap.add_argument("--list-server", action="store_true", help="list the server data segments and exit")
    a = ap.parse_args(argv[1:])
    for name in ("drop_server_pct", "duplicate_pct", "reorder_pct"):
        if not 0.0 <= getattr(a, name) <= 100.0:
            ap.error(f"--{name.replace('_', '-')} must be 0..100")
    if not (a.list_client or a.list_server) and not a.output:
        ap.error("OUTPUT is required")

    header, endian, recs = read_pcap(a.input)
    conns = annotate(recs, a.port)
    reqs = {cid: http_requests(reassemble(c)) for cid, c in conns.items()}

    def requests_at(cid, lo, hi):
        """The requests of conn cid overlapping stream bytes [lo, hi)."""
        return [q for q in reqs[cid] if q[0] < hi and lo < q[2]]

    # client data segments, numbered in capture order (what --drop-client-segment counts)
    client_data = [i for i, r in enumerate(recs)
                   if r["seg"] and r["seg"]["dir"] == "c2s" and is_data(r["seg"]) and not r["seg"]["flags"] & FIN]
    if a.list_client:
        for n, i in enumerate(client_data, 1):
            s = recs[i]["seg"]
            c = conns[s["conn"]]
            rel = (s["seq"] - c["isn"]) & 0xFFFFFFFF
            parts = []
            for q in requests_at(s["conn"], rel, rel + s["len"]):
                where = "start" if q[0] >= rel else ("head" if rel < q[1] else "body")
                last = "end" if q[2] <= rel + s["len"] else "more"
                parts.append(f"{where}/{last} {q[3]}")
            print(f"{n}\t{flow_str(c['key'])}#{s['conn'][1]}\t{rel}\t{s['len']}\t" + " | ".join(parts))
        return 0

    rng = random.Random(a.seed)
    summary = {"input": a.input, "output": a.output, "port": a.port, "seed": a.seed,
               "frames_in": len(recs), "requests_in_capture": sum(len(v) for v in reqs.values())}

    # 1. drops
    drop = set()
    server_data = [i for i, r in enumerate(recs) if r["seg"] and r["seg"]["dir"] == "s2c" and is_data(r["seg"])
                   and not r["seg"]["flags"] & FIN]
    if a.list_server:
        for n, i in enumerate(server_data, 1):
            s = recs[i]["seg"]
            c = conns[s["conn"]]
            print(f"{n}\t{flow_str(c['key'])}#{s['conn'][1]}\t{s['seq']}\t{s['len']}\tack {(s['ack'] - c['isn']) & 0xFFFFFFFF}")
        return 0
    n_srv = round(len(server_data) * a.drop_server_pct / 100.0)
    srv_drop = set(rng.sample(server_data, n_srv)) if n_srv else set()
    for n in sorted(set(a.drop_server_segment)):
        if not 1 <= n <= len(server_data):
            ap.error(f"--drop-server-segment {n}: the capture has {len(server_data)} server data segments")
        srv_drop.add(server_data[n - 1])
    srv_drop = sorted(srv_drop)
    drop.update(srv_drop)
    summary["server_data_segments"] = len(server_data)
    summary["dropped_server"] = [
        {"frame": i + 1, "flow": flow_str(recs[i]["seg"]["conn"][0]), "conn": recs[i]["seg"]["conn"][1],
         "seq": recs[i]["seg"]["seq"], "len": recs[i]["seg"]["len"]} for i in srv_drop]
    summary["dropped_server_bytes"] = sum(d["len"] for d in summary["dropped_server"])

    summary["client_data_segments"] = len(client_data)
    cli_drop = []
    for n in sorted(set(a.drop_client_segment)):
        if not 1 <= n <= len(client_data):
            ap.error(f"--drop-client-segment {n}: the capture has {len(client_data)} client data segments")
        cli_drop.append((n, client_data[n - 1]))
        drop.add(client_data[n - 1])

    # what each dropped client segment leaves missing: its bytes no kept segment carries
    lost = {}  # (cid, request start) -> request record
    summary["dropped_client"] = []
    for n, i in cli_drop:
        s = recs[i]["seg"]
        cid = s["conn"]
        c = conns[cid]
        rel = (s["seq"] - c["isn"]) & 0xFFFFFFFF
        kept = [[(q - c["isn"]) & 0xFFFFFFFF, ((q - c["isn"]) & 0xFFFFFFFF) + len(p)]
                for j, q, p in c["client"] if j not in drop]
        holes = covered(kept, rel, rel + s["len"])
        entry = {"segment": n, "frame": i + 1, "flow": flow_str(c["key"]), "conn": cid[1], "seq": s["seq"],
                 "rel_seq": rel, "len": s["len"], "hole": holes, "hole_bytes": sum(b - x for x, b in holes),
                 "requests": []}
        for lo, hi in holes:
            for q in requests_at(cid, lo, hi):
                part = "head" if lo < q[1] else "body"
                entry["requests"].append({"line": q[3], "start": q[0], "end": q[2], "part": part})
                lost.setdefault((cid, q[0]), {"flow": flow_str(c["key"]), "conn": cid[1], "line": q[3],
                                              "start": q[0], "head_end": q[1], "end": q[2]})
        summary["dropped_client"].append(entry)
    # per incomplete request: the bytes still in the capture before its first hole and after
    # it (what a copier can send of it, and what it has to skip to reach the next request)
    for (cid, start), q in sorted(lost.items(), key=lambda kv: (kv[0][0][1], kv[0][0][0], kv[0][1])):
        c = conns[cid]
        kept = [[(x - c["isn"]) & 0xFFFFFFFF, ((x - c["isn"]) & 0xFFFFFFFF) + len(p)]
                for j, x, p in c["client"] if j not in drop]
        missing = covered(kept, q["start"], q["end"])
        q["missing_bytes"] = sum(b - x for x, b in missing)
        q["bytes_before_hole"] = missing[0][0] - q["start"] if missing else q["end"] - q["start"]
        q["bytes_after_hole"] = q["end"] - q["start"] - q["missing_bytes"] - q["bytes_before_hole"]
        # the request line is whole before the first hole: a server can see (and log) the request
        q["line_sent"] = q["bytes_before_hole"] >= len(q["line"]) + 2
        q["head_sent"] = q["bytes_before_hole"] >= q["head_end"] - q["start"]
    summary["lost_requests"] = list(lost.values())
    summary["lost_request_lines"] = sorted(q["line"] for q in lost.values())
    summary["lost_lines_sent"] = sorted(q["line"] for q in lost.values() if q["line_sent"])
    # holes of the streams: adjacent dropped segments make one
    spans = {}
    for e in summary["dropped_client"]:
        spans.setdefault((e["flow"], e["conn"]), []).extend(e["hole"])
    summary["stream_holes"] = []
    for (flow, conn), v in sorted(spans.items()):
        for lo, hi in sorted(v):
            h = summary["stream_holes"]
            if h and h[-1]["flow"] == flow and h[-1]["conn"] == conn and lo <= h[-1]["end"]:
                h[-1]["end"] = max(h[-1]["end"], hi)
            else:
                h.append({"flow": flow, "conn": conn, "start": lo, "end": hi})
    summary["holes"] = len(summary["stream_holes"])
    summary["hole_bytes"] = sum(e["hole_bytes"] for e in summary["dropped_client"])
    pos = {}  # record index -> position in out
    out = []
    for i, r in enumerate(recs):
        if i not in drop:
            pos[i] = len(out)
            out.append(r)

    # 2. reordering: a chosen data segment swaps places with the next one (data or FIN) of
    # its connection and direction; the frames between stay where they are
    cand = [k for k, r in enumerate(out) if is_data(r["seg"])]
    n_re = round(len(cand) * a.reorder_pct / 100.0)
    chosen = set(rng.sample(cand, n_re)) if n_re else set()
    for n in a.reorder_client_segment:
        if not 1 <= n <= len(client_data):
            ap.error(f"--reorder-client-segment {n}: the capture has {len(client_data)} client data segments")
        if client_data[n - 1] in drop:
            ap.error(f"--reorder-client-segment {n}: that segment is dropped")
        chosen.add(pos[client_data[n - 1]])
    chosen = sorted(chosen)
    moved, swaps = set(), []
    for k in chosen:
        if k in moved:
            continue
        s = out[k]["seg"]
        for m in range(k + 1, len(out)):
            t = out[m]["seg"]
            if t is None or t["conn"] != s["conn"] or t["dir"] != s["dir"]:
                continue
            if t["flags"] & (SYN | RST):
                break
            if t["len"] == 0 and not t["flags"] & FIN:
                continue  # a pure ACK: not a segment worth swapping with
            if m in moved:
                break
            ts_k, ts_m = ts_of(out[k], endian), ts_of(out[m], endian)
            out[k], out[m] = with_ts(out[m], ts_k, endian), with_ts(out[k], ts_m, endian)
            moved.update((k, m))
            swaps.append({"dir": s["dir"], "flow": flow_str(s["conn"][0]), "conn": s["conn"][1],
                          "seq": s["seq"], "len": s["len"], "with_seq": t["seq"], "with_len": t["len"],
                          "with_fin": bool(t["flags"] & FIN)})
            break
    summary["reordered"] = swaps

    # 3. duplicates, right after the original
    cand = [k for k, r in enumerate(out)
            if r["seg"] is not None and not r["seg"]["flags"] & (SYN | RST) and (r["seg"]["len"] > 0 or r["seg"]["flags"] & FIN)]
    n_dup = round(len(cand) * a.duplicate_pct / 100.0)
    dup = set(rng.sample(cand, n_dup)) if n_dup else set()
    final = []
    summary["duplicated"] = []
    for k, r in enumerate(out):
        final.append(r)
        if k in dup:
            final.append(r)
            s = r["seg"]
            summary["duplicated"].append({"dir": s["dir"], "flow": flow_str(s["conn"][0]), "conn": s["conn"][1],
                                          "seq": s["seq"], "len": s["len"], "fin": bool(s["flags"] & FIN)})
    summary["frames_out"] = len(final)
    write_pcap(a.output, header, endian, final)

    text = json.dumps(summary, indent=1)
    if a.json:
        with open(a.json, "w") as fh:
            fh.write(text + "\n")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
