#!/usr/bin/env bash
# tools/bind-nic.sh — hands a NIC to DPDK (vfio-pci) or gives it back to the kernel.
# A wrapper around DPDK's dpdk-devbind.py that refuses a device (PCI, virtio, vmbus)
# any of whose interfaces carries a default route (IPv4 or IPv6), has an address in
# use, or carries a mounted network filesystem: you would cut yourself off.
#
#   tools/bind-nic.sh IFACE|PCI [--driver vfio-pci] [--dry-run]
#   tools/bind-nic.sh --unbind PCI --driver KERNEL_DRIVER     (e.g. ixgbe, i40e, mlx5_core)
#   tools/bind-nic.sh --status
# Environment (tests): DPCOPY_SYSFS (default /sys), DPCOPY_IP (the `ip` command),
# DPCOPY_MOUNTS (default /proc/mounts).
set -uo pipefail
source "$(dirname "$0")/lib/common.sh"
sysfs=${DPCOPY_SYSFS:-/sys}; ip_cmd=${DPCOPY_IP:-ip}; mounts=${DPCOPY_MOUNTS:-/proc/mounts}
driver=vfio-pci; dry=0; dev=""; unbind=0
while [ $# -gt 0 ]; do
  case "$1" in
    --driver) [ $# -ge 2 ] || { echo "bind-nic.sh: --driver needs a driver name" >&2; exit 2; }; driver=$2; shift ;;
    --dry-run) dry=1 ;;
    --unbind) unbind=1 ;;
    --status) exec dpdk-devbind.py --status-dev net ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    -*) echo "bind-nic.sh: unknown option '$1'" >&2; exit 2 ;;
    *) [ -z "$dev" ] || { echo "bind-nic.sh: one device at a time" >&2; exit 2; }; dev=$1 ;;
  esac
  shift
done
[ -n "$dev" ] || { echo "bind-nic.sh: which interface or PCI address? (see --status)" >&2; exit 2; }
refuse() { echo "bind-nic.sh: refusing: $*" >&2; exit 2; }
pci_re='^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-9a-f]$'

# ---- the device and every interface it carries --------------------------------------
# An interface name leads to its device (for a virtio NIC the virtioN child of the PCI
# function); a bus address (PCI or vmbus) to its device directory. A device's interfaces
# are found anywhere below it: net/ directly (plain PCI, vmbus) or under virtioN/.
devdir=""; ifaces=()
if [ -e "$sysfs/class/net/$dev" ]; then
  ifaces=("$dev")
  [ -e "$sysfs/class/net/$dev/device" ] && devdir=$(readlink -f "$sysfs/class/net/$dev/device")
else
  for bus in pci vmbus; do
    [ -e "$sysfs/bus/$bus/devices/$dev" ] && devdir=$(readlink -f "$sysfs/bus/$bus/devices/$dev")
  done
  [ -n "$devdir" ] || { echo "bind-nic.sh: no interface or device '$dev' (see --status)" >&2; exit 2; }
fi
pci=""
if [ -n "$devdir" ]; then
  # the PCI function: the device itself, or the nearest parent that is one (virtio)
  d=$devdir
  while [ -n "$d" ] && [ "$d" != / ] && [ "$d" != "$sysfs" ]; do
    if [[ $(basename "$d") =~ $pci_re ]]; then pci=$(basename "$d"); devdir=$d; break; fi
    d=$(dirname "$d")
  done
  # (find does not follow the driver/subsystem links: no cycles)
  while IFS= read -r n; do
    [[ " ${ifaces[*]} " == *" $n "* ]] || ifaces+=("$n")
  done < <(find "$devdir" -mindepth 2 -maxdepth 5 -path '*/net/*' -type d -printf '%P\n' 2>/dev/null |
           awk -F/ '$(NF-1) == "net" { print $NF }')
fi
what() { echo "$1${pci:+ ($pci)}"; }

# ---- interfaces in use --------------------------------------------------------------
# default routes (IPv4 and IPv6, any routing table; multipath nexthops included)
mapfile -t routed < <({ "$ip_cmd" -4 route show table all default; "$ip_cmd" -6 route show table all default; } 2>/dev/null |
  grep -oE ' dev [^ ]+' | awk '{ print $2 }' | sort -u)
# network filesystems: the interface toward each server (ip route get), or the one that
# holds the mount's clientaddr=
netfs='^(nfs|nfs4|cifs|smb3|smbfs|ceph|glusterfs|fuse\.glusterfs|fuse\.sshfs|afs|lustre|ocfs2|gfs2)$'
declare -A mount_dev=()
while read -r src mnt fstype opts _; do
  [[ $fstype =~ $netfs ]] || continue
  servers=$(grep -oE '(^|,)(addr|mountaddr)=[^,]+' <<<"$opts" | sed 's/.*=//')
  # the server of SOURCE: host:/path, //host/share, user@host:/path, [v6addr]:/path
  host=${src#//}; [[ $host =~ ^[^/:]*@ ]] && host=${host#*@}
  if [[ $host == \[* ]]; then host=${host#[}; host=${host%%]*}; else host=${host%%[:/]*}; fi
  [ -n "$host" ] && servers+=" $(getent ahosts "$host" 2>/dev/null | awk '{ print $1; exit }')"
  for s in $servers; do
    n=$("$ip_cmd" route get "$s" 2>/dev/null | grep -oE ' dev [^ ]+' | awk '{ print $2; exit }')
    [ -n "$n" ] && mount_dev[$n]+="${mount_dev[$n]:+, }$mnt ($fstype from $s)"
  done
  client=$(grep -oE '(^|,)clientaddr=[^,]+' <<<"$opts" | sed 's/.*=//')
  if [ -n "$client" ]; then
    n=$("$ip_cmd" -o addr show 2>/dev/null | awk -v a="$client" '{ split($4, p, "/"); if (p[1] == a) print $2 }' | head -1)
    [ -n "$n" ] && mount_dev[$n]+="${mount_dev[$n]:+, }$mnt ($fstype, client address $client)"
  fi
done < <(cat "$mounts" 2>/dev/null)

for i in "${ifaces[@]}"; do
  for r in "${routed[@]}"; do
    [ "$r" = "$i" ] && refuse "$(what "$i") carries the default route; binding it to DPDK would cut this machine off the network"
  done
  # addresses other than IPv6 link-local ones (every interface that is up has one)
  addrs=$("$ip_cmd" -o addr show dev "$i" 2>/dev/null | awk '$3 == "inet" || ($3 == "inet6" && $0 !~ / scope link/) { print $4 }' | paste -sd, -)
  [ -n "$addrs" ] && refuse "$(what "$i") has an address in use ($addrs); remove it first (ip addr flush dev $i) if the NIC is really free"
  [ -n "${mount_dev[$i]:-}" ] && refuse "$(what "$i") carries the network filesystem mounted at ${mount_dev[$i]}"
done

if [ -z "$pci" ]; then
  if [ -z "$devdir" ]; then
    echo "bind-nic.sh: ${ifaces[0]} is not a PCI device (virtual interface?): use --vdev net_af_packet0,iface=${ifaces[0]} instead" >&2
  else
    echo "bind-nic.sh: $dev is not a PCI device ($devdir): dpdk-devbind.py binds PCI devices only (a Hyper-V vmbus NIC goes to uio_hv_generic with driverctl, see docs/deploy.md)" >&2
  fi
  exit 2
fi
cmd=(dpdk-devbind.py --bind "$driver" "$pci")
if [ $unbind -eq 0 ] && [ "$driver" = vfio-pci ]; then pre=(modprobe vfio-pci); else pre=(true); fi
if [ $dry -eq 1 ]; then echo "would run: ${pre[*]} && ${cmd[*]}"; exit 0; fi
dpcopy_require_root "$@"
for i in "${ifaces[@]}"; do "$ip_cmd" link set "$i" down 2>/dev/null; done
"${pre[@]}" && "${cmd[@]}" || { echo "bind-nic.sh: dpdk-devbind.py failed" >&2; exit 1; }
echo "$pci${ifaces[0]:+ (${ifaces[*]})} is now bound to $driver"
