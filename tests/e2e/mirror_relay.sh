#!/usr/bin/env bash
# End-to-end: LIVE copying from remote mirrors in the encapsulations this kernel has no
# device for (GENEVE, ERSPAN type II and III, gretap; issue #19), in namespaces.
#
#   tests/e2e/mirror_relay.sh DPCOPY_BINARY
#
# The rig of tests/e2e/lib/mirror_rig.sh (cli -> online nginx, the underlay onl:und0 ->
# copy:rx0, dpcopy's TX port -> target nginx). onl:eth0's frames, both directions, are
# mirrored by `tc mirred` into the veth mir0, whose peer mir1 is read by
# tests/e2e/lib/encaprelay.py: it wraps every frame in each current session's outer headers,
# built by Debian's python3-scapy layers (GENEVE, ERSPAN_II, ERSPAN_III, GRE), and sends
# them out of und0 to dpcopy's RX port. Every frame dpcopy reads is encapsulated by scapy.
# Case 1 (--mirror-encap auto): the relay switches GENEVE VNI 4242 -> ERSPAN III session 301
#   -> gretap key 7 between loads; each load must be served exactly by the target and
#   counted under its own encapsulation (telemetry), with no reject at the end.
# Case 2 (-n 2, --mirror-encap erspan,session=200): two ERSPAN II sessions, 100 and 200,
#   carry the same frames; session 200 is copied twice, session 100 counted as not selected.
# Case 3 (offline): the mirror port recorded by tcpdump during a load of those two sessions,
#   replayed with -i, --mirror-encap erspan,session=200 and -F on the inner frame.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
DPCOPY=$(realpath "$1")
source "$here/lib/rig.sh"
source "$here/lib/live_checks.sh"
source "$here/lib/mirror_rig.sh"
pass=0; fail=0
ok()  { echo "PASS $1"; pass=$((pass + 1)); }
bad() { echo "FAIL $1: $2"; fail=$((fail + 1)); }
/usr/bin/python3 -c 'import scapy.contrib.erspan, scapy.contrib.geneve' 2>/dev/null ||
  { echo "e2e-mirror-relay: needs Debian's python3-scapy (tools/test.sh installs it)"; exit 1; }

mirror_rig_up mrel || exit 1
ip -n "$(rig_ns onl)" link add mir0 type veth peer name mir1 || exit 1
for dev in mir0 mir1; do
  ip -n "$(rig_ns onl)" link set $dev mtu 1400 arp off up
  rig_exec onl ethtool -K $dev tso off gso off gro off tx off >/dev/null 2>&1
  rig_exec onl sysctl -qw net.ipv6.conf.$dev.disable_ipv6=1
done
mirror_to mir0 || exit 1
SESSIONS="$RIG_TMP/relay.sessions"
echo "geneve:4242" > "$SESSIONS"
ENCAPRELAY_SESSIONS=$SESSIONS rig_bg onl /usr/bin/python3 "$here/lib/encaprelay.py" mir1 und0 \
  198.18.5.1 198.18.5.2 "$RX_MAC" geneve:4242 >"$RIG_TMP/relay.out" 2>&1
RELAY_PID=$RIG_LAST_PID
for _ in $(seq 100); do grep -q ready "$RIG_TMP/relay.out" && break; sleep 0.1; done
grep -q ready "$RIG_TMP/relay.out" || { cat "$RIG_TMP/relay.out"; echo "e2e-mirror-relay: relay did not start"; exit 1; }
relay_sessions() { echo "$*" > "$SESSIONS"; kill -USR1 "$RELAY_PID"; sleep 0.2; }

stat_of() { rig_telemetry "$COPY_PREFIX" /dpcopy/stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["/dpcopy/stats"].get(sys.argv[1], -1))' "$1"; }

loads() {  # CASE MULT: the client loads, each checked by live_checks.sh's load
  load "$1: ab -k" "$2" ab -q -k -n 100 -c 4 http://198.18.0.2/
  load "$1: ab short connections" "$2" ab -q -n 40 -c 2 http://198.18.0.2/short
  load "$1: curl, large responses" "$2" bash -c 'for i in 1 2; do curl -s -o /dev/null http://198.18.0.2/large; done'
}

# ---- one session at a time, GENEVE, ERSPAN III, gretap, --mirror-encap auto ------------
if start_copy relay_auto -n 1; then
  for s in geneve:4242:mirror_decap_geneve erspan3:301:mirror_decap_erspan3 gretap:7:mirror_decap_gretap; do
    counter=${s##*:}; relay_sessions "${s%:*}"
    before=$(stat_of "$counter")
    loads "auto ${s%:*}" 1
    after=$(stat_of "$counter")
    if [ "$after" -gt $((before + 500)) ]; then ok "auto ${s%:*}: $counter rose by $((after - before))"
    else bad "auto ${s%:*}" "$counter went from $before to $after"; fi
  done
  if stop_copy; then ok "relay_auto: dpcopy stopped by SIGINT, status 0"
  else bad relay_auto "dpcopy exited $? after SIGINT"; tail -5 "$COPY_OUT"; fi
  check_report "relay_auto: report counts GENEVE, ERSPAN III and gretap frames, no reject, nothing lost" \
    'min(m["decap_geneve"], m["decap_erspan3"], m["decap_gretap"]) > 500 and m["decap_vxlan"] == 0 and all(v == 0 for k, v in m.items() if k.startswith("reject_")) and not any(k.startswith("mirror_") for k in r["lost"])'
fi

# ---- two ERSPAN II sessions (100 and 200, the same frames), session=200 keeps one, -n 2 --
relay_sessions erspan2:100 erspan2:200
if start_copy relay_two_sessions -n 2 --mirror-encap erspan,session=200; then
  loads erspan2_two_sessions 2
  if stop_copy; then ok "relay_two_sessions: dpcopy stopped by SIGINT, status 0"
  else bad relay_two_sessions "dpcopy exited $? after SIGINT"; tail -5 "$COPY_OUT"; fi
  check_report "relay_two_sessions: session 100 not selected (filtered), as many as session 200 taken" \
    'm["decap_erspan2"] > 500 and m["reject_not_selected"] > 500 and abs(m["reject_not_selected"] - m["decap_erspan2"]) <= m["decap_erspan2"] // 20 and r["filtered"].get("mirror_reject_not_selected") == m["reject_not_selected"]'
fi

# ---- offline: a capture of the mirror port (the two ERSPAN II sessions), replayed with -i
# --mirror-encap erspan,session=200 and -F on the inner frame (on the outer GRE frames
# 'tcp port 80' would match nothing) ------------------------------------------------------
CAP="$RIG_TMP/mirror_port.pcap"
rig_tcpdump copy rx0 "$CAP" ""
TCPDUMP_PID=$RIG_LAST_PID
: > "$ONL_LOG"
rig_exec cli ab -q -k -n 60 -c 3 http://198.18.0.2/ >"$RIG_TMP/client.log" 2>&1
rig_exec cli bash -c 'for i in 1 2; do curl -s -o /dev/null http://198.18.0.2/large; done'
rig_tcpdump_stop "$TCPDUMP_PID"
exp=$(lines "$ONL_LOG" '198\.18\.0\.1')
: > "$TGT_LOG"
prefix="dpcmrel$$_off"
timeout 120 ip netns exec "$(rig_ns copy)" "$DPCOPY" --no-huge -m 512 --no-pci -l 0 --file-prefix "$prefix" \
  --log-level 'lib.*:warning' --vdev net_af_packet0,iface=tx0 -- -i "$CAP" --speed 0 \
  -x 80-198.18.1.2:80 -c 198.19.0.0/16 --ip 198.18.1.9/24 --mirror-encap erspan,session=200 \
  -F 'host 198.18.0.2 and tcp port 80' --stats-interval 0 --report "$RIG_TMP/offline.json" >"$RIG_TMP/offline.out" 2>&1
rc=$?
rm -rf "/var/run/dpdk/$prefix"
sleep 0.5
got=$(lines "$TGT_LOG" '198\.19\.[0-9.]+')
if [ $rc -eq 0 ] && [ "$(count "$exp")" -gt 0 ] && [ "$exp" == "$got" ]; then
  ok "offline -i mirror capture: target served the $(count "$got") online requests"
else bad "offline -i mirror capture" "dpcopy exited $rc; target served $(count "$got"), online $(count "$exp")"; tail -5 "$RIG_TMP/offline.out"; fi
COPY_REPORT="$RIG_TMP/offline.json"
check_report "offline: ERSPAN II decapsulated by the reader, session 100 not selected, -F on the inner frame" \
  'm["decap_erspan2"] > 150 and abs(m["reject_not_selected"] - m["decap_erspan2"]) <= m["decap_erspan2"] // 20 and r["filtered"].get("mirror_reject_not_selected") == m["reject_not_selected"] and r["io"]["drop_capture_filter"] < m["decap_erspan2"] // 10'

grep -v '^ready$' "$RIG_TMP/relay.out" | head -3

echo "e2e-mirror-relay: $pass passed, $fail failed"
[ $fail -eq 0 ]
