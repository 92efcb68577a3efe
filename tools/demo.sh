#!/usr/bin/env bash
# tools/demo.sh — the README's first command. Installs what is missing, builds,
# then replays config/samples/http.pcap (33 HTTP requests recorded from ab and curl
# against nginx by tools/record-sample.sh) against a real nginx in a private rig:
#
#   copy ns ── dp0 (no kernel address) ══ veth ══ eth0 198.18.1.2 ── target ns (nginx)
#   dpcopy runs in the copy ns on net_af_packet over dp0, with --ip 198.18.1.9; the
#   target routes the fake clients 198.19.0.0/24 back to it.
#
# It shows dpcopy's status lines and summary, then "N of N requests reached the
# target", and removes everything it made. Exit status 0 when every request arrived.
# Options: --speed X (default 0.005: slow motion, so the status lines have something to show).
set -uo pipefail
source "$(dirname "$0")/lib/common.sh"
dpcopy_require_root "$@"
cd "$DPCOPY_ROOT"
speed=0.005
while [ $# -gt 0 ]; do
  case "$1" in
    --speed) speed=$2; shift ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "demo.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
  shift
done

dpcopy_install_packages || exit 1
dpcopy_log "building build/ (first time: a few minutes)"
dpcopy_build build -Ddpdk=enabled || exit 1

source tests/e2e/lib/rig.sh
rig_init demo
rig_add_ns copy && rig_add_ns tgt || exit 1
rig_link copy dp0 tgt eth0 || exit 1
rig_addr tgt eth0 198.18.1.2/24
ip -n "$(rig_ns tgt)" route add 198.19.0.0/24 via 198.18.1.9
rig_nginx tgt 198.18.1.2 80 || exit 1

capture=config/samples/http.pcap
expected=$(python3 tests/e2e/lib/requests_in_pcap.py "$capture" 80 | wc -l)
prefix="dpcdemo$$"
cmd=(build/apps/copy/dpcopy --no-huge -m 512 --no-pci -l 0 --file-prefix "$prefix"
     --log-level 'lib.*:warning' --vdev net_af_packet0,iface=dp0 --
     -i "$capture" -x 80-198.18.1.2:80 -c 198.19.0.0/24 --ip 198.18.1.9/24
     --speed "$speed" --stats-interval 1)
echo
echo "The capture holds $expected HTTP requests. Replaying it against nginx on 198.18.1.2:"
echo "  ${cmd[*]}"
echo
ip netns exec "$(rig_ns copy)" "${cmd[@]}"
rc=$?
rm -rf "/var/run/dpdk/$prefix"
sleep 0.5
got=$(grep -cE '^198\.19\.0\.' "$RIG_NGINX_LOG")
echo
echo "nginx on the target logged (first lines):"
head -n 3 "$RIG_NGINX_LOG" | sed 's/^/  /'
echo
echo "$got of $expected requests reached the target"
[ $rc -eq 0 ] && [ "$got" -eq "$expected" ]
