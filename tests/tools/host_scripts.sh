#!/usr/bin/env bash
# Tests of the bare-metal helper scripts that change nothing on the host:
# bind-nic.sh refuses the default-route interface (checked inside a namespace this
# test makes, whose default route goes through a veth), setup-hugepages.sh validates
# its arguments and is idempotent in --dry-run. Prints "host-scripts: N passed, N failed".
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
source "$root/tests/e2e/lib/rig.sh"
pass=0; fail=0
expect() {  # expect NAME WANT_STATUS PATTERN CMD...
  local name=$1 want=$2 pat=$3; shift 3
  local out rc
  out=$("$@" 2>&1); rc=$?
  if [ "$rc" -eq "$want" ] && grep -qE -- "$pat" <<<"$out"; then echo "PASS $name"; pass=$((pass + 1))
  else echo "FAIL $name: status $rc (want $want), output: $out"; fail=$((fail + 1)); fi
}
rig_init hs
rig_add_ns a && rig_add_ns b || exit 1
rig_link a up0 b up1 && rig_link a side0 b side1 || exit 1
rig_addr a up0 198.18.5.1/24
ip -n "$(rig_ns a)" route add default via 198.18.5.2
expect "bind-nic refuses the default-route interface" 2 "refusing: up0 carries the default route" \
  rig_exec a "$root/tools/bind-nic.sh" up0 --dry-run
expect "bind-nic sends virtual interfaces to net_af_packet" 2 "net_af_packet0,iface=side0" \
  rig_exec a "$root/tools/bind-nic.sh" side0 --dry-run
expect "bind-nic wants a device" 2 "which interface" "$root/tools/bind-nic.sh"
expect "bind-nic rejects unknown options" 2 "unknown option" "$root/tools/bind-nic.sh" --bogus
expect "setup-hugepages rejects a bad size" 2 "invalid size" "$root/tools/setup-hugepages.sh" --size 12X --dry-run
expect "setup-hugepages dry run says what it would do" 0 "would run: dpdk-hugepages.py|nothing to do" \
  "$root/tools/setup-hugepages.sh" --size 64M --dry-run
expect "setup-hugepages with nothing wanted does nothing" 0 "nothing to do|would run" \
  "$root/tools/setup-hugepages.sh" --size 0M --dry-run
expect "setup-hugepages --show" 0 "hugepages of 2M: [0-9]+ reserved" "$root/tools/setup-hugepages.sh" --show
expect "systemd unit names dpcopy and the config" 0 "ExecStart=.*dpcopy" cat "$root/config/dpcopy.service"
echo "host-scripts: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
