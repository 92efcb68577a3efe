#!/usr/bin/env bash
# Smoke of the benchmark scripts (tools/bench; the benchmarks themselves are run by hand):
# every script parses (bash -n), and em_flows.py's pcaps and l3fwd rules describe the same
# flows: every frame is a valid IPv4/TCP frame of 64 bytes whose 5-tuple has exactly one rule
# toward the port after the files' ports (3 here), each flow once, spread round-robin over the files.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
fail=0
for f in "$root"/tools/bench/*.sh; do
  bash -n "$f" || { echo "FAIL bash -n $f"; fail=1; }
done
tmp=$(mktemp -d /tmp/dpc-bench-smoke.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
python3 "$root/tools/bench/em_flows.py" 1001 "$tmp/f" 3 || { echo "FAIL em_flows.py"; exit 1; }
python3 - "$tmp/f" 1001 3 <<'PY' || fail=1
import struct, sys
prefix, n, q = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rules = {}
for line in open(prefix + ".rules"):
    dst, src, dport, sport, proto, port = line[1:].split()
    key = (src, dst, int(sport), int(dport), int(proto))
    assert key not in rules and line[0] == "R" and port == str(q), line
    rules[key] = True
seen = set()
for i in range(q):
    data = open("%s.%d.pcap" % (prefix, i), "rb").read()
    assert struct.unpack("<I", data[:4])[0] == 0xA1B2C3D4 and struct.unpack("<I", data[20:24])[0] == 1
    off, k = 24, 0
    while off < len(data):
        _, _, cap, wire = struct.unpack("<IIII", data[off:off + 16])
        fr = data[off + 16:off + 16 + cap]
        off += 16 + cap
        assert cap == wire == 64 and fr[12:14] == b"\x08\x00" and fr[14] == 0x45 and fr[23] == 6, fr
        ip = fr[14:34]
        s = sum(struct.unpack("!10H", ip))
        while s >> 16: s = (s & 0xFFFF) + (s >> 16)
        assert s == 0xFFFF, "IPv4 checksum"
        src, dst = ".".join(map(str, fr[26:30])), ".".join(map(str, fr[30:34]))
        sport, dport = struct.unpack("!HH", fr[34:38])
        key = (src, dst, sport, dport, 6)
        assert key in rules and key not in seen, key
        seen.add(key)
        k += 1
    assert k in (n // q, n // q + 1), (i, k)
assert len(seen) == n == len(rules), (len(seen), len(rules))
print("em_flows.py: %d flows, %d files, one rule each" % (n, q))
PY
[ $fail -eq 0 ] && echo "bench scripts: ok"
exit $fail
