#!/usr/bin/env python3
"""Integration tests of the dpcopy binary on virtual devices (net_pcap), no NIC, no
hugepages: each scenario makes its inputs in a temporary directory, runs dpcopy with
its own --file-prefix, checks the outcome and removes /var/run/dpdk/<prefix>.

    dpcopy_binary.py SCENARIO DPCOPY_BINARY SOURCE_DIR

Scenarios:
  golden_host    ARP for --ip and a fake client, ICMP echo, next hop learnt: the frames
                 dpcopy transmits (net_pcap tx_pcap) equal data/golden_host.pcap byte
                 for byte (timestamps aside)
  corrupt_pcap   a capture corrupt at its start, then one corrupt past its first record:
                 one error line, status 2 (the first before EAL starts)
  missing_pcap   -i of a missing file: one line, status 2, no EAL directory
  sigint_report  SIGINT while the feeder waits for the next frame: status 0, summary,
                 --report JSON with "end": "interrupted"
  telemetry      /dpcopy/stats and /dpcopy/compare answer over the telemetry socket (SOCK_SEQPACKET)
  gap_ahead      a record 136 years after the one before (issue #13) at --speed 1: with
                 --max-gap 200 the replay finishes, warns once, counts the shortened
                 gaps; with the default bound (60 s) it warns at once instead of waiting
                 silently (stopped by SIGINT)
"""
import calendar
import json
import re
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

OUR_IP = bytes([198, 18, 0, 1])
TARGET_IP = bytes([198, 18, 0, 2])
CLIENT_IP = bytes([198, 18, 0, 120])
TARGET_MAC = bytes([0x02, 0x74, 0x61, 0x72, 0x67, 0x01])
BCAST = b"\xff" * 6


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def arp(op, sha, spa, tha, tpa, dst):
    return dst + sha + b"\x08\x06" + struct.pack("!HHBBH", 1, 0x0800, 6, 4, op) + sha + spa + tha + tpa


def ipv4(src, dst, proto, l4):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 7, 0, 64, proto, 0, src, dst)
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + l4


def icmp_echo(src, dst, dst_mac):
    icmp = struct.pack("!BBHHH", 8, 0, 0, 0x4242, 1) + b"dpcopy-ping"
    icmp = icmp[:2] + struct.pack("!H", csum(icmp)) + icmp[4:]
    return dst_mac + TARGET_MAC + b"\x08\x00" + ipv4(src, dst, 1, icmp)


def udp_frame(src, dst, sport, dport, payload):
    u = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    return b"\x02\0\0\0\0\x01" + b"\x02\0\0\0\0\x02" + b"\x08\x00" + ipv4(src, dst, 17, u)


def write_pcap(path, frames, linktype=1):
    """frames: list of (timestamp_seconds, bytes)."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, linktype))
        for ts, fr in frames:
            f.write(struct.pack("<IIII", int(ts), int((ts % 1) * 1e6), len(fr), len(fr)))
            f.write(fr)


def read_pcap(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    assert magic in (0xA1B2C3D4, 0xA1B23C4D), hex(magic)
    off, out = 24, []
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack("<IIII", data[off:off + 16])
        out.append(data[off + 16:off + 16 + incl])
        off += 16 + incl
    return out


class Failed(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failed(what)
    print("ok:", what)


class Run:
    def __init__(self, binary, name):
        self.binary = binary
        self.prefix = "dpc_it_%s_%d" % (name, os.getpid())
        self.tmp = tempfile.mkdtemp(prefix="dpcopy-it-")

    def eal(self, vdev, telemetry=False):
        a = ["--no-huge", "-m", "512", "--no-pci", "-l", "0", "--file-prefix", self.prefix,
             "--log-level", "lib.eal:warning", "--vdev", vdev]
        if not telemetry:
            a.append("--no-telemetry")
        return a

    def path(self, name):
        return os.path.join(self.tmp, name)

    def run(self, args, timeout=60):
        p = subprocess.run([self.binary] + args, capture_output=True, text=True, timeout=timeout)
        return p.returncode, p.stdout, p.stderr

    def cleanup(self):
        shutil.rmtree("/var/run/dpdk/" + self.prefix, ignore_errors=True)
        shutil.rmtree(self.tmp, ignore_errors=True)


def read_log(path):
    """A -l log file without its time stamps."""
    return re.sub(r"(?m)^\[[^\]]+\] ", "", open(path).read())


def app_lines(stderr):
    """stderr lines that are not DPDK's own log lines."""
    return [l for l in stderr.splitlines() if l and not l.startswith(("EAL:", "TELEMETRY:", "PMD:", "ETHDEV:"))]


def replay_args(capture, extra=()):
    return ["--", "-i", capture, "-x", "80-198.18.0.2:80", "-c", "198.18.0.64/26", "--ip", "198.18.0.1/24"] + list(extra)


SCHEMA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs", "report.schema.json")


def check_schema(rep):
    """The report validates against docs/report.schema.json (python3-jsonschema)."""
    import jsonschema
    v = jsonschema.Draft202012Validator(json.load(open(SCHEMA)))
    errors = ["%s: %s" % ("/".join(map(str, e.path)), e.message) for e in v.iter_errors(rep)]
    check(not errors, "report: valid against docs/report.schema.json %s" % errors)


def check_report_header(rep, argv, end_reason, before, after):
    """The run header of docs/reports.md: first, in order, with this run's values; the schema."""
    check_schema(rep)
    keys = list(rep)
    want = ["program", "version", "start_time", "end_time", "duration_s", "host", "options", "end_reason"]
    check(keys[:len(want)] == want, "report: the run header first, in order: %r" % keys[:len(want)])
    check(rep["program"] == "dpcopy" and re.fullmatch(r"[0-9]+\.[0-9]+\.[0-9]+", rep["version"]) is not None,
          "report: program dpcopy, version %r" % rep["version"])
    stamp = "%Y-%m-%dT%H:%M:%S"
    times = []
    for k in ("start_time", "end_time"):
        m = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d{3})Z", rep[k])
        check(m is not None, "report: %s is ISO 8601 UTC with milliseconds: %r" % (k, rep[k]))
        if m:
            times.append(calendar.timegm(time.strptime(m.group(1), stamp)) + int(m.group(2)) / 1000)
    if len(times) == 2:
        check(before - 1 <= times[0] <= times[1] <= after + 1,
              "report: start and end within the run (%.3f..%.3f in %.3f..%.3f)" % (times[0], times[1], before, after))
        check(abs(rep["duration_s"] - (times[1] - times[0])) < 0.01, "report: duration_s = end - start")
    check(rep["host"] == socket.gethostname(), "report: host %r" % rep["host"])
    check(rep["options"] == argv, "report: options are the command line as given")
    check(rep["end_reason"] == end_reason, "report: end_reason %r (want %r)" % (rep["end_reason"], end_reason))


def scenario_golden_host(r, src):
    our_mac_unknown = BCAST  # the ICMP frame's destination MAC is not checked by dpcopy
    write_pcap(r.path("in.pcap"), [
        (1.0, arp(1, TARGET_MAC, TARGET_IP, b"\0" * 6, OUR_IP, BCAST)),       # who has --ip
        (1.1, arp(1, TARGET_MAC, TARGET_IP, b"\0" * 6, CLIENT_IP, BCAST)),    # who has a fake client
        (1.2, arp(1, TARGET_MAC, TARGET_IP, b"\0" * 6, bytes([198, 18, 0, 200]), BCAST)),  # not ours (outside -c)
        (1.3, icmp_echo(TARGET_IP, OUR_IP, our_mac_unknown)),                 # ping --ip
        (1.4, arp(2, TARGET_MAC, TARGET_IP, b"\0" * 6, OUR_IP, BCAST)),       # the next hop's MAC
    ])
    write_pcap(r.path("empty.pcap"), [])
    vdev = "net_pcap0,rx_pcap=%s,tx_pcap=%s" % (r.path("in.pcap"), r.path("out.pcap"))
    args = r.eal(vdev) + replay_args(r.path("empty.pcap"), ["--report", r.path("r.json")])
    before = time.time()
    rc, out, err = r.run(args)
    after = time.time()
    print(err)
    check(rc == 0, "dpcopy exits 0 (status %d)" % rc)
    got = read_pcap(r.path("out.pcap"))
    if os.environ.get("DPCOPY_UPDATE_GOLDEN"):  # regenerate (then inspect it with tcpdump -enr)
        shutil.copy(r.path("out.pcap"), os.path.join(src, "data", "golden_host.pcap"))
    golden = read_pcap(os.path.join(src, "data", "golden_host.pcap"))
    for i, (g, e) in enumerate(zip(got, golden)):
        if g != e:
            print("frame %d differs:\n got      %s\n expected %s" % (i, g.hex(), e.hex()))
    check(len(got) == len(golden) == 3, "3 frames sent (got %d, golden %d)" % (len(got), len(golden)))
    check(got == golden, "transmitted frames equal data/golden_host.pcap byte for byte")
    rep = json.load(open(r.path("r.json")))
    check(rep["io"]["arp_replies_sent"] == 2 and rep["io"]["icmp_echo_replies"] == 1, "report counts the host duties")
    check(rep["io"]["arp_resolved"] == 1 and rep["io"]["arp_requests_sent"] == 0,
          "the next hop was learnt from its reply without asking")
    check(rep["end"] == "input done" and rep["exit_status"] == 0, "report: input done, status 0")
    check_report_header(rep, [r.binary] + args, "input_finished", before, after)


def scenario_corrupt_pcap(r, src):
    # 1) corrupt from the start: a pcap magic followed by garbage (bad version, short header)
    with open(r.path("bad.pcap"), "wb") as f:
        f.write(struct.pack("<I", 0xA1B2C3D4) + b"\x63\x00garbage")
    rc, out, err = r.run(r.eal("net_null0") + replay_args(r.path("bad.pcap")))
    lines = app_lines(err)
    print(err)
    check(rc == 2, "corrupt header: status 2 (got %d)" % rc)
    check(len(lines) == 1 and lines[0].startswith("dpcopy: ") and "bad.pcap" in lines[0],
          "corrupt header: one error line naming the file: %r" % lines)
    check(not os.path.exists("/var/run/dpdk/" + r.prefix), "corrupt header: EAL never started")
    # 2) corrupt past its first record: a record claiming 1 GB
    write_pcap(r.path("mid.pcap"), [(1.0, udp_frame(CLIENT_IP, TARGET_IP, 5000, 53, b"x"))])
    with open(r.path("mid.pcap"), "ab") as f:
        f.write(struct.pack("<IIII", 2, 0, 0x40000000, 0x40000000) + b"\0" * 64)
    write_pcap(r.path("arp.pcap"), [(1.0, arp(2, TARGET_MAC, TARGET_IP, b"\0" * 6, OUR_IP, BCAST))])
    vdev = "net_pcap0,rx_pcap=%s,tx_pcap=%s" % (r.path("arp.pcap"), r.path("out.pcap"))
    args = r.eal(vdev) + replay_args(r.path("mid.pcap"), ["-l", r.path("log"), "--report", r.path("mid.json")])
    before = time.time()
    rc, out, err = r.run(args)
    after = time.time()
    lines = app_lines(err)
    print(err)
    check(rc == 2, "corrupt record: status 2 (got %d)" % rc)
    rep = json.load(open(r.path("mid.json")))
    check(rep["end"] == "capture error" and rep["exit_status"] == 2, "corrupt record: report says capture error, status 2")
    check_report_header(rep, [r.binary] + args, "error", before, after)
    check(len(lines) == 1 and lines[0].startswith("dpcopy: capture ") and "mid.pcap" in lines[0],
          "corrupt record: one error line naming the file: %r" % lines)


def scenario_missing_pcap(r, src):
    rc, out, err = r.run(r.eal("net_null0") + replay_args(r.path("nope.pcap")))
    lines = app_lines(err)
    check(rc == 2, "missing capture: status 2")
    check(len(lines) == 1 and "nope.pcap" in lines[0], "missing capture: one line: %r" % lines)
    check(not os.path.exists("/var/run/dpdk/" + r.prefix), "missing capture: EAL never started")


def start_waiting_run(r, telemetry, report=None):
    """dpcopy replaying a capture whose second frame is an hour after the first."""
    write_pcap(r.path("slow.pcap"), [
        (100.0, udp_frame(CLIENT_IP, TARGET_IP, 5000, 53, b"first")),
        (3700.0, udp_frame(CLIENT_IP, TARGET_IP, 5000, 53, b"second")),
    ])
    write_pcap(r.path("arp.pcap"), [(1.0, arp(2, TARGET_MAC, TARGET_IP, b"\0" * 6, OUR_IP, BCAST))])
    vdev = "net_pcap0,rx_pcap=%s,tx_pcap=%s" % (r.path("arp.pcap"), r.path("out.pcap"))
    extra = ["-l", r.path("log"), "--stats-interval", "1", "--max-gap", "86400000"]
    if report:
        extra += ["--report", report]
    p = subprocess.Popen([r.binary] + r.eal(vdev, telemetry) + replay_args(r.path("slow.pcap"), extra),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 20
    while time.time() < deadline:
        if os.path.exists(r.path("log")) and "replaying" in read_log(r.path("log")):
            break
        if p.poll() is not None:
            break
        time.sleep(0.1)
    time.sleep(0.3)
    return p


def stop(p, sig=signal.SIGINT, timeout=30):
    p.send_signal(sig)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        raise Failed("dpcopy did not exit %d s after the signal" % timeout)
    return p.returncode, out, err


def scenario_sigint_report(r, src):
    p = start_waiting_run(r, False, r.path("r.json"))
    time.sleep(1.5)  # let a status line (--stats-interval 1) be written
    check(p.poll() is None, "dpcopy is running and waiting for the next frame")
    rc, out, err = stop(p)
    log = read_log(r.path("log"))
    print(log)
    check(rc == 0, "SIGINT: status 0 (got %d; stderr %r)" % (rc, err))
    check("dpcopy: summary after" in log and "(interrupted)" in log, "the summary is in the log")
    check("dpcopy: " in log and " sessions " in log and " active " in log, "status lines are in the log")
    rep = json.load(open(r.path("r.json")))
    check(rep["end"] == "interrupted" and rep["exit_status"] == 0, "report: end interrupted, status 0")
    check(rep["end_reason"] == "signal", "report: end_reason signal (got %r)" % rep["end_reason"])
    check_schema(rep)
    check(rep["io"]["file_frames"] == 2 and rep["io"]["fed_frames"] == 1,
          "report: 2 records read, 1 handed over (the other not due yet)")
    check(rep["session"]["captured_frames"] == 1 and rep["session"]["drop_captured_not_tcp"] == 1,
          "report: the engine saw the UDP frame and counted it as not TCP")
    check(rep["lost_total"] == 0 and rep["filtered_total"] == 1 and rep["drops_total"] == 1,
          "report: the UDP frame is filtered, nothing lost")
    check("  lost: none\n  filtered: drop_captured_not_tcp 1\n" in log, "summary: lost none, filtered by reason")
    check(rep["mode"] == "offline" and rep["workers"] == 1, "report: offline, 1 worker")


def scenario_telemetry(r, src):
    p = start_waiting_run(r, True)
    try:
        sock_path = "/var/run/dpdk/%s/dpdk_telemetry.v2" % r.prefix
        check(os.path.exists(sock_path), "telemetry socket exists")
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        s.connect(sock_path)
        hello = json.loads(s.recv(16384).decode())
        check("version" in hello, "telemetry greeting: %s" % hello)
        # the counters are published every millisecond or so, the reader's second record a
        # moment after "replaying": ask again until they show it (a loaded machine is slow)
        deadline = time.time() + 15
        while True:
            s.send(b"/dpcopy/stats")
            reply = json.loads(s.recv(65536).decode())
            stats = reply["/dpcopy/stats"]
            if (stats.get("file_frames") == 2 and stats.get("fed_frames") == 1) or time.time() > deadline:
                break
            time.sleep(0.1)
        print(json.dumps(stats)[:400])
        check(stats["workers"] == 1 and stats["fed_frames"] == 1 and stats["file_frames"] == 2,
              "/dpcopy/stats: workers 1, fed_frames 1, file_frames 2")
        check(stats["arp_resolved"] == 1 and stats["captured_frames"] == 1 and "drop_captured_not_tcp" in stats,
              "/dpcopy/stats: host and session counters")
        check(stats["lost_total"] == 0 and stats["filtered_total"] == 1, "/dpcopy/stats: lost 0, filtered 1")
        check(stats.get("port_rx_missed") == 0 and stats.get("port_rx_nombuf") == 0 and stats.get("port_rx_errors") == 0,
              "/dpcopy/stats: the mirror port's drops (offline: none)")
        check(all(set(k) <= set("abcdefghijklmnopqrstuvwxyz0123456789_") for k in stats), "names are [a-z0-9_]")
        # the comparison's totals (issue #15): on by default, nothing compared yet
        s.send(b"/dpcopy/compare")
        cmp = json.loads(s.recv(65536).decode())["/dpcopy/compare"]
        print(json.dumps(cmp))
        check(cmp.get("enabled") == 1 and cmp.get("exchanges") == 0 and cmp.get("different_status") == 0 and
              set(cmp) == {"enabled", "exchanges", "compared", "same_status", "different_status", "length_mismatch",
                           "unknown_status", "not_compared"} and cmp.get("not_compared") == 0,
              "/dpcopy/compare: enabled, the seven totals, none yet")
        s.send(b"/help,/dpcopy/stats")
        helptext = json.loads(s.recv(16384).decode())
        check("dpcopy" in json.dumps(helptext), "/help describes /dpcopy/stats")
        s.close()
    finally:
        rc, out, err = stop(p, signal.SIGTERM)
    check(rc == 0, "SIGTERM: status 0 (got %d)" % rc)


def scenario_gap_ahead(r, src):
    t0 = 1_000_000.0
    ahead = t0 + 136 * 365 * 86400  # 136 years later (the pcap's 32-bit seconds still hold it)
    write_pcap(r.path("ahead.pcap"), [
        (t0, udp_frame(CLIENT_IP, TARGET_IP, 5000, 53, b"first")),
        (ahead, udp_frame(CLIENT_IP, TARGET_IP, 5000, 53, b"second")),
        (t0 + 1, udp_frame(CLIENT_IP, TARGET_IP, 5000, 53, b"back")),     # backwards: no gap
        (ahead, udp_frame(CLIENT_IP, TARGET_IP, 5000, 53, b"ahead again")),  # shortened again
    ])
    write_pcap(r.path("arp.pcap"), [(1.0, arp(2, TARGET_MAC, TARGET_IP, b"\0" * 6, OUR_IP, BCAST))])
    vdev = "net_pcap0,rx_pcap=%s,tx_pcap=%s" % (r.path("arp.pcap"), r.path("out.pcap"))
    # 1) --speed 1 --max-gap 200: done in about 0.4 s of pacing
    rc, out, err = r.run(r.eal(vdev) + replay_args(r.path("ahead.pcap"),
                                                   ["--speed", "1", "--max-gap", "200", "--report", r.path("r.json")]),
                         timeout=90)
    print(err)
    warnings = [l for l in app_lines(err) if "warning" in l]
    check(rc == 0, "--max-gap 200: the replay finishes, status 0 (got %d)" % rc)
    check(len(warnings) == 1 and "capture record 2 comes 4288896000.000 s after the one before" in warnings[0]
          and "--max-gap (200 ms)" in warnings[0], "one warning line, naming the record and the gap: %r" % warnings)
    rep = json.load(open(r.path("r.json")))
    check(rep["io"]["capture_gaps_shortened"] == 2 and rep["io"]["fed_frames"] == 4,
          "report: 2 gaps shortened, 4 frames fed (%s)" % {k: rep["io"][k] for k in ("capture_gaps_shortened", "fed_frames")})
    check("  capture gaps shortened to --max-gap: 2\n" in err, "the summary counts them")
    check(rep["end"] == "input done", "report: input done")
    # 2) the default bound: the warning comes at once (not after a silent wait)
    os.remove(r.path("r.json"))
    p = subprocess.Popen([r.binary] + r.eal(vdev) + replay_args(r.path("ahead.pcap"),
                         ["-l", r.path("log"), "--report", r.path("r.json")]),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 40
    log = ""
    while time.time() < deadline and p.poll() is None:
        log = read_log(r.path("log")) if os.path.exists(r.path("log")) else ""
        if "warning" in log:
            break
        time.sleep(0.1)
    check(p.poll() is None, "default --max-gap: still running (the shortened gap is 60 s)")
    rc, out, err = stop(p)
    log = read_log(r.path("log"))
    print(log)
    check(rc == 0, "SIGINT: status 0 (got %d)" % rc)
    check("gaps over --max-gap (60000 ms) are shortened" in log, "default --max-gap: the warning names 60000 ms")
    rep = json.load(open(r.path("r.json")))
    check(rep["io"]["capture_gaps_shortened"] == 1 and rep["io"]["fed_frames"] == 1,
          "report: 1 gap shortened, the second frame not due yet")


def scenario_sighup_reopen(r, src):
    """-l FILE: stamped lines; logrotate's rename + SIGHUP moves the next lines to a new file."""
    p = start_waiting_run(r, False, r.path("r.json"))
    time.sleep(1.5)  # a status line in the first file
    os.rename(r.path("log"), r.path("log.1"))
    p.send_signal(signal.SIGHUP)
    deadline = time.time() + 10
    while time.time() < deadline and not (os.path.exists(r.path("log")) and " sessions " in open(r.path("log")).read()):
        time.sleep(0.1)
    check(p.poll() is None, "SIGHUP: dpcopy is still running")
    rc, out, err = stop(p)
    old, new = open(r.path("log.1")).read(), open(r.path("log")).read()
    print(old, "----", new, sep="\n")
    check(rc == 0, "SIGINT after SIGHUP: status 0 (got %d)" % rc)
    check("replaying" in old and " sessions " in old, "before the rename: the start and a status line in the old file")
    check("summary after" not in old, "the old file has no summary")
    check("log reopened (SIGHUP)" in new and "summary after" in new and " sessions " in new,
          "after SIGHUP: the reopen, status lines and the summary in the new file")
    stamp = re.compile(r"^\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\] ")
    lines = [l for l in (old + new).splitlines() if l]
    check(lines and all(stamp.match(l) for l in lines), "every line of the log files is stamped")
    check(json.load(open(r.path("r.json")))["end"] == "interrupted", "report written")


def main():
    scenario, binary, src = sys.argv[1], sys.argv[2], sys.argv[3]
    r = Run(binary, scenario)
    try:
        globals()["scenario_" + scenario](r, src)
    except Failed as e:
        print("FAILED:", e)
        return 1
    finally:
        r.cleanup()
    print("passed:", scenario)
    return 0


if __name__ == "__main__":
    sys.exit(main())
