#!/usr/bin/env bash
# tools/bind-nic.sh — hands a NIC to DPDK (vfio-pci) or gives it back to the kernel.
# A wrapper around DPDK's dpdk-devbind.py that refuses to take the interface that
# carries the default route (you would cut yourself off the machine).
#
#   tools/bind-nic.sh IFACE|PCI [--driver vfio-pci] [--dry-run]
#   tools/bind-nic.sh --unbind PCI --driver KERNEL_DRIVER     (e.g. ixgbe, i40e, mlx5_core)
#   tools/bind-nic.sh --status
set -uo pipefail
source "$(dirname "$0")/lib/common.sh"
driver=vfio-pci; dry=0; dev=""; unbind=0
while [ $# -gt 0 ]; do
  case "$1" in
    --driver) driver=$2; shift ;;
    --dry-run) dry=1 ;;
    --unbind) unbind=1 ;;
    --status) exec dpdk-devbind.py --status-dev net ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    -*) echo "bind-nic.sh: unknown option '$1'" >&2; exit 2 ;;
    *) [ -z "$dev" ] || { echo "bind-nic.sh: one device at a time" >&2; exit 2; }; dev=$1 ;;
  esac
  shift
done
[ -n "$dev" ] || { echo "bind-nic.sh: which interface or PCI address? (see --status)" >&2; exit 2; }

# Resolve an interface name to its PCI address, and a PCI address to its interface (if any).
iface=""; pci=""
if [ -e "/sys/class/net/$dev" ]; then
  iface=$dev
else
  pci=$dev
  for n in /sys/bus/pci/devices/"$pci"/net/*; do [ -e "$n" ] && iface=$(basename "$n"); done
fi
# The interfaces that carry a default route (IPv4 or IPv6) are never taken.
mapfile -t routed < <({ ip -4 route show default; ip -6 route show default; } 2>/dev/null | sed -nE 's/.* dev ([^ ]+).*/\1/p' | sort -u)
for r in "${routed[@]}"; do
  if [ -n "$iface" ] && [ "$r" = "$iface" ]; then
    echo "bind-nic.sh: refusing: $iface${pci:+ ($pci)} carries the default route; binding it to DPDK would cut this machine off the network" >&2
    exit 2
  fi
done
if [ -z "$pci" ]; then
  pci=$(basename "$(readlink -f "/sys/class/net/$iface/device" 2>/dev/null)" 2>/dev/null)
  [[ $pci =~ ^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-9a-f]$ ]] || {
    echo "bind-nic.sh: $iface is not a PCI device (virtual interface?): use --vdev net_af_packet0,iface=$iface instead" >&2; exit 2; }
fi
if [ $unbind -eq 0 ]; then
  cmd=(dpdk-devbind.py --bind "$driver" "$pci")
  [ "$driver" = vfio-pci ] && pre=(modprobe vfio-pci) || pre=(true)
else
  cmd=(dpdk-devbind.py --bind "$driver" "$pci"); pre=(true)
fi
if [ $dry -eq 1 ]; then echo "would run: ${pre[*]} && ${cmd[*]}"; exit 0; fi
dpcopy_require_root "$@"
[ -n "$iface" ] && ip link set "$iface" down 2>/dev/null
"${pre[@]}" && "${cmd[@]}" || { echo "bind-nic.sh: dpdk-devbind.py failed" >&2; exit 1; }
echo "$pci${iface:+ ($iface)} is now bound to $driver"
