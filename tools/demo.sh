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
#          --live: live copying instead. ab drives an "online" nginx whose link is mirrored
#          (tc mirred) onto dpcopy's RX port; dpcopy copies every session to the target
#          nginx until it is interrupted; ends with "N of N online requests reached the target".
set -uo pipefail
source "$(dirname "$0")/lib/common.sh"
dpcopy_require_root "$@"
cd "$DPCOPY_ROOT"
speed=0.005
live=0
while [ $# -gt 0 ]; do
  case "$1" in
    --speed) speed=$2; shift ;;
    --live) live=1 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "demo.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
  shift
done

dpcopy_install_packages || exit 1
# only the program it runs (tools/test.sh builds the rest)
if [ -x build/apps/copy/dpcopy ]; then dpcopy_log "bringing build/apps/copy/dpcopy up to date"
else dpcopy_log "building dpcopy in build/ (first time: a few minutes)"; fi
DPCOPY_BUILD_TARGETS=apps/copy/dpcopy dpcopy_build build -Ddpdk=enabled -Dunit_tests=false || exit 1

source tests/e2e/lib/rig.sh
rig_init demo
if [ "$live" = 1 ]; then
  # cli ── onl (online nginx, its link mirrored onto mir0) ── copy (rx0: mirror, dp0: test
  # network) ── tgt (target nginx, routes the fake clients back to dpcopy's --ip)
  for r in cli onl copy tgt; do rig_add_ns $r || exit 1; done
  rig_link cli eth0 onl eth0 && rig_link onl mir0 copy rx0 && rig_link copy dp0 tgt eth0 || exit 1
  rig_addr cli eth0 198.18.0.1/24; rig_addr onl eth0 198.18.0.2/24; rig_addr tgt eth0 198.18.1.2/24
  ip -n "$(rig_ns tgt)" route add 198.19.0.0/24 via 198.18.1.9
  rig_exec onl tc qdisc add dev eth0 clsact || exit 1
  for dir in ingress egress; do
    rig_exec onl tc filter add dev eth0 "$dir" protocol all u32 match u32 0 0 action mirred egress mirror dev mir0 || exit 1
  done
  rig_nginx onl 198.18.0.2 80 || exit 1
  onl_log=$RIG_NGINX_LOG
  rig_nginx tgt 198.18.1.2 80 || exit 1
  prefix="dpcdemo$$"
  out="$RIG_TMP/dpcopy.out"
  cmd=(build/apps/copy/dpcopy --no-huge -m 512 --no-pci --file-prefix "$prefix" --log-level 'lib.*:warning'
       --vdev net_af_packet0,iface=rx0 --vdev net_af_packet1,iface=dp0 --
       -x 80-198.18.1.2:80 -c 198.19.0.0/24 --ip 198.18.1.9/24 --rx-port 0 --tx-port 1 --stats-interval 1)
  echo
  echo "Live copying: the online nginx 198.18.0.2 is mirrored onto dpcopy, which copies to 198.18.1.2:"
  echo "  ${cmd[*]}"
  echo
  rig_bg copy "${cmd[@]}" > >(tee "$out") 2>&1
  pid=$RIG_LAST_PID
  for _ in $(seq 150); do grep -q "; copying" "$out" 2>/dev/null && break; sleep 0.1; done 2>/dev/null
  sleep 1
  echo "ab -k -n 500 -c 4 and ab -n 200 -c 2 against the online server ..."
  rig_exec cli ab -q -k -n 500 -c 4 http://198.18.0.2/ >/dev/null 2>&1
  rig_exec cli ab -q -n 200 -c 2 http://198.18.0.2/short >/dev/null 2>&1
  sleep 3
  kill -INT "$pid"
  wait "$pid"; rc=$?
  rm -rf "/var/run/dpdk/$prefix"
  expected=$(grep -c '^198\.18\.0\.1 ' "$onl_log")
  got=$(grep -cE '^198\.19\.0\.' "$RIG_NGINX_LOG")
  echo
  echo "$got of $expected online requests reached the target"
  [ $rc -eq 0 ] && [ "$got" -eq "$expected" ]
  exit
fi
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
