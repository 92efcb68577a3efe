#!/usr/bin/env bash
# Records config/samples/http.pcap, the capture tools/demo.sh replays: real
# clients (ab keep-alive, ab short connections, curl with three requests on one
# connection) against a real nginx, in a private two-namespace rig, captured with
# tcpdump on the server's side. Prints how many requests the capture holds.
#   tools/record-sample.sh [OUTPUT]     (default: config/samples/http.pcap)
set -uo pipefail
source "$(dirname "$0")/lib/common.sh"
dpcopy_require_root "$@"
out=${1:-$DPCOPY_ROOT/config/samples/http.pcap}
source "$DPCOPY_ROOT/tests/e2e/lib/rig.sh"

rig_init rec
rig_add_ns client && rig_add_ns online || exit 1
rig_link client eth0 online eth0 || exit 1
rig_addr client eth0 198.18.0.1/24
rig_addr online eth0 198.18.0.2/24
rig_nginx online 198.18.0.2 80 || exit 1
rig_tcpdump online eth0 "$RIG_TMP/http.pcap" "tcp port 80"; cap=$RIG_LAST_PID
rig_exec client ab -q -k -n 20 -c 2 http://198.18.0.2/ >/dev/null || exit 1
rig_exec client ab -q -n 10 -c 1 http://198.18.0.2/short >/dev/null || exit 1
rig_exec client curl -s -o /dev/null -o /dev/null -o /dev/null \
  http://198.18.0.2/a http://198.18.0.2/b http://198.18.0.2/c || exit 1
rig_tcpdump_stop "$cap"
requests=$(wc -l < "$RIG_NGINX_LOG")
cp "$RIG_TMP/http.pcap" "$out"
echo "recorded $out: $requests requests, $(stat -c %s "$out") bytes"
