#!/usr/bin/env bash
# tools/bind-nic.sh on fake sysfs trees (virtio, plain PCI, vmbus layouts) with a fake
# `ip` and a fake mount table (DPCOPY_SYSFS, DPCOPY_IP, DPCOPY_MOUNTS): it refuses a
# device any of whose interfaces carries a default route (IPv4, IPv6, multipath), has an
# address in use or carries a network filesystem, and says what it would bind otherwise.
# Every run is --dry-run; fake dpdk-devbind.py, modprobe and `ip link` record any call,
# and the test fails if one happens: nothing is ever bound. Needs neither root nor DPDK.
# Prints "bind-nic: N passed, N failed".
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d /tmp/dpcopy-bindnic-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
pass=0; fail=0
S=$tmp/sys; F=$tmp/fake; mkdir -p "$S" "$F/bin"
calls=$F/calls; : >"$calls"

# ---- fakes ---------------------------------------------------------------------------
# ip: answers from $F/route4, $F/route6, $F/addrs ("IFACE inet|inet6 ADDR [scope link]"),
# $F/routes ("ADDR IFACE" for `ip route get`); anything else is recorded as a call.
cat >"$F/bin/ip" <<'EOF'
#!/usr/bin/env bash
F=$FAKE_DIR; fam=4
case "${1:-}" in -4) shift ;; -6) fam=6; shift ;; esac
[ "${1:-}" = -o ] && shift
case "${1:-} ${2:-}" in
  "route show") cat "$F/route$fam" 2>/dev/null ;;
  "route get") awk -v a="$3" '$1 == a { print a " via 192.0.2.254 dev " $2 " src 192.0.2.1 uid 0" }' "$F/routes" 2>/dev/null ;;
  "addr show")
    awk -v want="${4:-}" 'want == "" || $1 == want { n++; s = n ": " $1 "    " $2 " " $3; if ($4 != "") s = s " scope " $4; else s = s " scope global"; print s " " $1 "\\       valid_lft forever" }' "$F/addrs" 2>/dev/null ;;
  *) echo "ip $*" >>"$F/calls" ;;
esac
EOF
for cmd in dpdk-devbind.py modprobe; do
  printf '#!/bin/sh\necho "%s $*" >>"$FAKE_DIR/calls"\n' "$cmd" >"$F/bin/$cmd"
done
chmod +x "$F/bin/"*

# ---- fake sysfs layouts --------------------------------------------------------------
# add_dev BUS ADDR DEVPATH IFACE...: $S/DEVPATH is the device, $S/bus/BUS/devices/ADDR links
# to it; each IFACE sits at $S/DEVPATH/NETPARENT/net/IFACE (NETPARENT from $netparent,
# e.g. virtio0 for a virtio NIC), with /sys/class/net/IFACE and its device link.
add_dev() {
  local bus=$1 addr=$2 path=$3; shift 3
  mkdir -p "$S/$path/power" "$S/bus/$bus/devices" "$S/class/net"
  ln -sfn "$S/$path" "$S/bus/$bus/devices/$addr"
  local parent=$S/$path${netparent:+/$netparent}
  for i in "$@"; do
    mkdir -p "$parent/net/$i/queues/rx-0" "$parent/net/$i/statistics"
    ln -sfn "$parent" "$parent/net/$i/device"
    ln -sfn "$parent/net/$i" "$S/class/net/$i"
  done
}
netparent=virtio0 add_dev pci 0000:00:03.0 devices/pci0000:00/0000:00:03.0 eth0
mkdir -p "$S/devices/pci0000:00/0000:00:03.0/virtio0/driver"      # a few links find must not follow
ln -sfn "$S/bus/pci" "$S/devices/pci0000:00/0000:00:03.0/subsystem"
netparent="" add_dev pci 0000:00:04.0 devices/pci0000:00/0000:00:04.0 eth1
netparent="" add_dev pci 0000:00:05.0 devices/pci0000:00/0000:00:05.0 eth3 eth4  # two ports, one function
netparent="" add_dev pci 0000:00:06.0 devices/pci0000:00/0000:00:06.0               # bound to DPDK: no interface
guid=f8615163-df3e-46c5-913f-f2d2f965ed0e
netparent="" add_dev vmbus "$guid" "devices/LNXSYSTM:00/LNXSYBUS:00/ACPI0004:00/VMBUS:00/$guid" eth2
mkdir -p "$S/devices/virtual/net/veth9" && ln -sfn "$S/devices/virtual/net/veth9" "$S/class/net/veth9"

# scenario ROUTE4 ROUTE6 ADDRS ROUTES MOUNTS: the fake host's state
scenario() {
  printf '%b' "$1" >"$F/route4"; printf '%b' "$2" >"$F/route6"; printf '%b' "$3" >"$F/addrs"
  printf '%b' "$4" >"$F/routes"; printf '%b' "$5" >"$F/mounts"
}
# expect NAME STATUS PATTERN ARGS...: bind-nic.sh ARGS --dry-run on the fakes
expect() {
  local name=$1 want=$2 pat=$3; shift 3
  local out rc
  out=$(env PATH="$F/bin:$PATH" FAKE_DIR="$F" DPCOPY_SYSFS="$S" DPCOPY_IP="$F/bin/ip" DPCOPY_MOUNTS="$F/mounts" \
        "$root/tools/bind-nic.sh" "$@" --dry-run 2>&1); rc=$?
  if [ "$rc" -eq "$want" ] && grep -qE -- "$pat" <<<"$out" && [ "$(grep -c . <<<"$out")" -eq 1 ]; then
    echo "PASS $name"; pass=$((pass + 1))
  else echo "FAIL $name: status $rc (want $want), output: $out"; fail=$((fail + 1)); fi
}

v4_default='default via 192.0.2.254 dev eth0 proto dhcp src 192.0.2.1 metric 100\n'
eth0_addrs='eth0 inet 192.0.2.1/24\neth0 inet6 fe80::1/64 link\n'
# The issue's probe: the virtio NIC with the default route, by PCI address and by name.
scenario "$v4_default" "" "$eth0_addrs" "" ""
expect "virtio NIC with the default route, by PCI address (issue #13)" 2 \
  "refusing: eth0 \(0000:00:03.0\) carries the default route" 0000:00:03.0
expect "virtio NIC with the default route, by interface name" 2 "refusing: eth0 \(0000:00:03.0\) carries the default route" eth0
# IPv6 only, another table, a multipath nexthop
scenario "" "default via fd00::1 dev eth1 metric 1024 pref medium\n" "" "" ""
expect "plain PCI NIC with the IPv6 default route" 2 "refusing: eth1 \(0000:00:04.0\) carries the default route" 0000:00:04.0
scenario "default table 100 proto static metric 10\n\tnexthop via 192.0.2.9 dev eth2 weight 1\n\tnexthop via 192.0.2.10 dev eth9 weight 1\n" "" "" "" ""
expect "vmbus NIC in a multipath default route" 2 "refusing: eth2 carries the default route" "$guid"
scenario "default via 198.51.100.1 dev eth4\n" "" "" "" ""
expect "a two-port PCI function: the second port's route counts" 2 "refusing: eth4 \(0000:00:05.0\) carries the default route" 0000:00:05.0
# Addresses in use (IPv6 link-local addresses do not count).
scenario "$v4_default" "" "eth1 inet 10.0.0.5/24\n" "" ""
expect "an IPv4 address in use" 2 "refusing: eth1 \(0000:00:04.0\) has an address in use \(10.0.0.5/24\)" 0000:00:04.0
expect "an IPv4 address in use, by name" 2 "has an address in use" eth1
scenario "$v4_default" "" "eth1 inet6 2001:db8::5/64\n" "" ""
expect "a global IPv6 address in use" 2 "has an address in use \(2001:db8::5/64\)" 0000:00:04.0
# Network filesystems: by the route toward the server, or by the client address.
scenario "$v4_default" "" "eth1 inet6 fe80::5/64 link\n" "10.9.9.9 eth1\n" \
  "10.9.9.9:/export /mnt/data nfs4 rw,relatime,vers=4.2,addr=10.9.9.9 0 0\n"
expect "an NFS mount through the NIC" 2 "refusing: eth1 \(0000:00:04.0\) carries the network filesystem mounted at /mnt/data \(nfs4 from 10.9.9.9\)" 0000:00:04.0
scenario "$v4_default" "" "" "10.9.9.8 eth1\n" "//10.9.9.8/share /mnt/smb cifs rw,vers=3.0,addr=10.9.9.8 0 0\n"
expect "a CIFS mount through the NIC" 2 "carries the network filesystem mounted at /mnt/smb \(cifs from 10.9.9.8\)" 0000:00:04.0
# Free devices: what it would run.
scenario "$v4_default" "" "$eth0_addrs\neth1 inet6 fe80::5/64 link\n" "10.9.9.9 eth0\n" \
  "10.9.9.9:/export /mnt/data nfs4 rw,addr=10.9.9.9 0 0\n/dev/vda1 / ext4 rw 0 0\n"
expect "a free plain PCI NIC (link-local address only)" 0 \
  "^would run: modprobe vfio-pci && dpdk-devbind.py --bind vfio-pci 0000:00:04.0$" 0000:00:04.0
expect "a free NIC by name" 0 "dpdk-devbind.py --bind vfio-pci 0000:00:04.0$" eth1
expect "a free two-port function" 0 "dpdk-devbind.py --bind vfio-pci 0000:00:05.0$" 0000:00:05.0
expect "a device without interfaces (already bound)" 0 "dpdk-devbind.py --bind vfio-pci 0000:00:06.0$" 0000:00:06.0
expect "--unbind gives it back to a kernel driver" 0 "^would run: true && dpdk-devbind.py --bind ixgbe 0000:00:06.0$" \
  --unbind 0000:00:06.0 --driver ixgbe
expect "a free vmbus NIC is not for dpdk-devbind.py" 2 "not a PCI device .*uio_hv_generic" "$guid"
expect "a virtual interface goes to net_af_packet" 2 "net_af_packet0,iface=veth9" veth9
expect "an unknown device" 2 "no interface or device '0000:00:09.0'" 0000:00:09.0
# self-check: the guard really looks at the fake tree (the host's eth0 is not eth0 here)
scenario "" "" "" "" ""
expect "the virtio NIC without a route, address or mount is free" 0 "dpdk-devbind.py --bind vfio-pci 0000:00:03.0$" 0000:00:03.0

if [ -s "$calls" ]; then echo "FAIL something ran for real: $(cat "$calls")"; fail=$((fail + 1))
else echo "PASS nothing was bound, loaded or set down"; pass=$((pass + 1)); fi
echo "bind-nic: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
