#!/usr/bin/env bash
# tools/setup-hugepages.sh — reserves and mounts hugepages for dpcopy/dpintercept.
# A wrapper around DPDK's dpdk-hugepages.py that is idempotent and says what it did.
#
#   tools/setup-hugepages.sh [--size 1G] [--pagesize 2M] [--dir /dev/hugepages] [--dry-run]
#   tools/setup-hugepages.sh --show
#
# --size is the total to reserve (default 1G: enough for one dpcopy with the default
# pools). When that much is already reserved and mounted, nothing changes.
# Tests and CI do not need this: they run DPDK with --no-huge.
set -uo pipefail
# lib/common.sh sits next to it: tools/lib/ in the tree, <prefix>/lib/dpcopy/lib/ installed
source "$(dirname "$0")/lib/common.sh" || { echo "setup-hugepages.sh: cannot read $(dirname "$0")/lib/common.sh" >&2; exit 2; }
size=1G; pagesize=2M; dir=/dev/hugepages; dry=0; show=0
while [ $# -gt 0 ]; do
  case "$1" in
    --size) size=$2; shift ;;
    --pagesize) pagesize=$2; shift ;;
    --dir) dir=$2; shift ;;
    --dry-run) dry=1 ;;
    --show) show=1 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "setup-hugepages.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
  shift
done
valid_size() { [[ $1 =~ ^[0-9]+[KkMmGg]$ ]] || { echo "setup-hugepages.sh: invalid size '$1' (use e.g. 512M, 1G)" >&2; exit 2; }; }
to_kb() {  # 1G, 512M, 2048K -> KiB (validated before)
  local v=${1%[KkMmGg]} u=${1: -1}
  case "$u" in K|k) echo "$v" ;; M|m) echo $((v * 1024)) ;; *) echo $((v * 1024 * 1024)) ;; esac
}
valid_size "$size"; valid_size "$pagesize"
want_kb=$(to_kb "$size"); page_kb=$(to_kb "$pagesize")
nr_file=/sys/kernel/mm/hugepages/hugepages-${page_kb}kB/nr_hugepages
[ -e "$nr_file" ] || { echo "setup-hugepages.sh: this kernel has no ${pagesize} hugepages ($nr_file missing)" >&2; exit 2; }
have_pages=$(cat "$nr_file")
want_pages=$(( (want_kb + page_kb - 1) / page_kb ))
mounted=0; grep -qs " $dir hugetlbfs " /proc/mounts && mounted=1
if [ $show -eq 1 ]; then
  echo "hugepages of $pagesize: $have_pages reserved ($((have_pages * page_kb / 1024)) MiB); hugetlbfs on $dir: $([ $mounted = 1 ] && echo yes || echo no)"
  exit 0
fi
if [ "$have_pages" -ge "$want_pages" ] && [ $mounted -eq 1 ]; then
  echo "nothing to do: $have_pages pages of $pagesize already reserved (want $want_pages) and hugetlbfs is mounted on $dir"
  exit 0
fi
cmd=(dpdk-hugepages.py --pagesize "$pagesize" --reserve "$size" --directory "$dir")
[ $mounted -eq 0 ] && cmd+=(--mount)
if [ $dry -eq 1 ]; then echo "would run: ${cmd[*]}"; exit 0; fi
dpcopy_require_root "$@"
command -v dpdk-hugepages.py >/dev/null || dpcopy_install_packages || exit 1
mkdir -p "$dir"
"${cmd[@]}" || { echo "setup-hugepages.sh: dpdk-hugepages.py failed" >&2; exit 1; }
now=$(cat "$nr_file")
echo "reserved $now pages of $pagesize ($((now * page_kb / 1024)) MiB; was $have_pages) and mounted hugetlbfs on $dir"
[ "$now" -ge "$want_pages" ] || { echo "setup-hugepages.sh: the kernel gave only $now of $want_pages pages (memory fragmented? try at boot: hugepages=$want_pages on the kernel command line)" >&2; exit 1; }
