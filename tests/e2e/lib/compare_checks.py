#!/usr/bin/env python3
"""Checks dpcopy's comparison outputs (docs/compare.md) against what a rig made differ.

    compare_checks.py http REPORT DIFFLOG STATSFILE REQUESTS [MULTIPLY]
    compare_checks.py redis REPORT DIFFLOG STATSFILE COMMANDS

http: REQUESTS holds the request lines of the capture (requests_in_pcap.py), one a line.
The target nginx answers /missing with 404, /broken with 500 and /slow 200 ms late through
a slow upstream; every other path as the online server does. So the comparison must find
exactly the /missing and /broken exchanges different (200 -> 404, 200 -> 500), no length
mismatch, no unknown status, and /slow slower on the target by about 200 ms.

redis: the capture (one redis-cli connection) is SET k3 v, GET k1, GET k2, INCR c, GET k1,
HSET h f v, LRANGE nolist 0 -1, GET k1 (after the COMMAND DOCS redis-cli may send first:
COMMANDS lists the command names the capture holds); the online server had k1, the target
has not: exactly the three GET k1 differ ("$" -> "nil").

Prints one line per failed check and exits 1 if any failed; prints "ok ..." otherwise."""
import json
import re
import sys
from collections import Counter

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
    return cond


def load(report, difflog, statsfile):
    with open(report) as f:
        rep = json.load(f)
    diffs, not_logged = [], 0
    with open(difflog) as f:
        for line in f:
            obj = json.loads(line)
            if "diffs_not_logged" in obj:
                not_logged = obj["diffs_not_logged"]
            else:
                diffs.append(obj)
    with open(statsfile) as f:
        intervals = [json.loads(l) for l in f if l.strip()]
    return rep, diffs, not_logged, intervals


def endpoint_of(line):
    method, target = line.split(" ")[0:2]
    path = target.split("?")[0]
    segs = ["{id}" if re.fullmatch(r"[0-9]+", s) else s for s in path.split("/")]
    return method + " " + "/".join(segs)


def check_common(cmp, diffs, not_logged, intervals, exchanges, pairs):
    check(cmp["exchanges"] == exchanges, f"exchanges {cmp['exchanges']}, expected {exchanges}")
    check(cmp["compared"] == exchanges, f"compared {cmp['compared']}, expected {exchanges}")
    check(cmp["unknown_status"] == 0, f"unknown_status {cmp['unknown_status']}")
    check(cmp["length_mismatch"] == 0, f"length_mismatch {cmp['length_mismatch']}")
    differ = sum(n for (o, t), n in pairs.items() if o != t)
    check(cmp["different_status"] == differ, f"different_status {cmp['different_status']}, expected {differ}")
    check(cmp["same_status"] == exchanges - differ, f"same_status {cmp['same_status']}, expected {exchanges - differ}")
    got = Counter({(p["online"], p["target"]): p["count"] for p in cmp["statuses"]})
    check(got == pairs, f"status pairs {dict(got)}, expected {dict(pairs)}")
    check(len(diffs) + not_logged == differ, f"diff log has {len(diffs)} lines (+{not_logged} not logged), expected {differ}")
    for d in diffs:
        for key in ("endpoint", "online_status", "target_status", "online_bytes", "target_bytes", "online_ms",
                    "target_ms", "replica", "request"):
            if not check(key in d, f"diff line without {key}: {d}"):
                return
        check((d["online_status"], d["target_status"]) in pairs and d["online_status"] != d["target_status"],
              f"diff line of an exchange that should not differ: {d}")
    check(len(intervals) >= 1 and all("compare" in i and "rates" in i for i in intervals),
          f"stats file: {len(intervals)} lines, each with rates and compare expected")


def check_http(report, difflog, statsfile, requests, multiply):
    rep, diffs, not_logged, intervals = load(report, difflog, statsfile)
    cmp = rep.get("compare")
    if not check(cmp is not None, "report has no compare object"):
        return
    lines = [l.strip() for l in open(requests) if l.strip()] * multiply
    pairs, per_endpoint = Counter(), Counter()
    for line in lines:
        path = line.split(" ")[1].split("?")[0]
        target = {"/missing": "404", "/broken": "500"}.get(path, "200")
        pairs[("200", target)] += 1
        per_endpoint[endpoint_of(line)] += 1
    check_common(cmp, diffs, not_logged, intervals, len(lines), pairs)
    eps = {e["endpoint"]: e for e in cmp["endpoints"]}
    for name, n in per_endpoint.items():
        if check(name in eps, f"endpoint {name} missing (have {sorted(eps)})"):
            check(eps[name]["exchanges"] == n, f"endpoint {name}: {eps[name]['exchanges']} exchanges, expected {n}")
    check(set(eps) == set(per_endpoint), f"endpoints {sorted(eps)}, expected {sorted(per_endpoint)}")
    for d in diffs:
        want = {"GET /missing": "404", "GET /broken": "500"}.get(d["endpoint"])
        check(want == d["target_status"] and d["request"].startswith(d["endpoint"].split(" ")[0] + " /"),
              f"diff line: {d}")
    slow = eps.get("GET /slow")
    if check(slow is not None, "no GET /slow endpoint"):
        lat = slow["latency_ms"]
        check(lat["target"]["p50"] >= 150, f"GET /slow target p50 {lat['target']['p50']} ms, expected >= 150")
        check(lat["online"]["p50"] < 50, f"GET /slow online p50 {lat['online']['p50']} ms, expected < 50")
    for name, e in eps.items():
        if name != "GET /slow":
            check(e["latency_ms"]["target"]["p50"] < 100, f"{name} target p50 {e['latency_ms']['target']['p50']} ms")


def check_redis(report, difflog, statsfile, commands):
    rep, diffs, not_logged, intervals = load(report, difflog, statsfile)
    cmp = rep.get("compare")
    if not check(cmp is not None, "report has no compare object"):
        return
    names = [l.strip() for l in open(commands) if l.strip()]
    extra = [n for n in names if n != "COMMAND"]
    check(extra == ["SET", "GET", "GET", "INCR", "GET", "HSET", "LRANGE", "GET"], f"the capture holds {names}")
    docs = len(names) - len(extra)  # redis-cli's COMMAND DOCS: an array both ways
    pairs = Counter({("$", "nil"): 3, ("nil", "nil"): 1, ("+", "+"): 1, (":", ":"): 2, ("*", "*"): 1 + docs})
    check_common(cmp, diffs, not_logged, intervals, len(names), pairs)
    eps = {e["endpoint"]: e["exchanges"] for e in cmp["endpoints"]}
    want = {"SET": 1, "GET": 4, "INCR": 1, "HSET": 1, "LRANGE": 1}
    if docs:
        want["COMMAND"] = docs
    check(eps == want, f"endpoints {eps}, expected {want}")
    for d in diffs:
        check(d["endpoint"] == "GET" and d["request"].upper().startswith("GET K1"), f"diff line: {d}")


def main():
    if sys.argv[1] == "http":
        check_http(*sys.argv[2:6], int(sys.argv[6]) if len(sys.argv) > 6 else 1)
    else:
        check_redis(*sys.argv[2:6])
    for f in failures:
        print(f)
    if failures:
        sys.exit(1)
    print("ok", sys.argv[1])


if __name__ == "__main__":
    main()
