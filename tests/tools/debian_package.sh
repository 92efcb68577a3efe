#!/usr/bin/env bash
# The Debian package (debian/): built with `dpkg-buildpackage -b -us -uc` in a clean copy of
# the source (tracked and new files, no build directories), installed with dpkg -i into a
# container-less chroot (an overlay of this machine's / whose writes go to a tmpfs, so the
# machine itself is never touched), checked there, then purged there. Checks: the files every operator needs are in it; it holds
# exactly what `meson install` installs from the same build (man pages compressed); the
# installed programs run (--version), `man -w` finds the pages and they render, the units
# pass `systemd-analyze verify`, the helpers and the completion work; purging removes it all.
# Needs root, overlayfs, dpkg-buildpackage (dpkg-dev, debhelper) and the build dependencies;
# skips (77) without them, or when a dpcopy package is already installed (the chroot would
# inherit it).
# Prints "debian-package: N passed, N failed" and the time each step took.
#
#   tests/tools/debian_package.sh        (meson test --suite package)
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
pass=0; fail=0
ok() { echo "PASS $1"; pass=$((pass + 1)); }
bad() { echo "FAIL $1"; fail=$((fail + 1)); }
check() {  # check NAME CMD...: passes when CMD succeeds
  local name=$1; shift
  local out
  if out=$("$@" 2>&1); then ok "$name"; else bad "$name: $(tail -5 <<<"$out")"; fi
}
skip() { echo "SKIP: $*"; exit 77; }

[ "$(id -u)" -eq 0 ] || skip "needs root (dpkg -i)"
for t in dpkg-buildpackage dh git dpkg-checkbuilddeps; do
  command -v "$t" >/dev/null || skip "$t is not installed (tools/lib/common.sh lists debhelper, dpkg-dev)"
done
git -C "$root" rev-parse --git-dir >/dev/null 2>&1 || skip "$root is not a git checkout (the clean copy is made from it)"
if dpkg-query -W -f='${Status}' dpcopy 2>/dev/null | grep -q 'installed'; then
  skip "a dpcopy package is already installed: not touching it"
fi
(cd "$root" && dpkg-checkbuilddeps) || skip "build dependencies missing (above)"

tmp=$(mktemp -d /tmp/dpcopy-deb.XXXXXX)
R="$tmp/root"  # the chroot: / overlaid, writes to $tmp/layer (a tmpfs)
cleanup() {
  for m in "$R/sys" "$R/dev" "$R/proc" "$R" "$tmp/layer"; do mountpoint -q "$m" && umount -l "$m"; done
  rm -rf "$tmp"
}
trap cleanup EXIT
t0=$(date +%s)
step() { echo "  ($1: $(( $(date +%s) - t0 )) s since the start)"; }

# ---- a clean copy: tracked files as they are in the work tree, plus new files not ignored;
# no build directory (any directory holding meson-private/) --------------------------------
version=$(sed -nE "s/^  version: '([^']+)',?$/\1/p" "$root/meson.build" | head -1)
src="$tmp/dpcopy-$version"
mkdir -p "$src"
builddirs=$(find "$root" -maxdepth 2 -name meson-private -type d -printf '%h\n' | sed "s|^$root/||")
(cd "$root" && git ls-files -z --cached --others --exclude-standard |
  grep -zv -e '^debian/dpcopy/' -e '^debian/\.debhelper/' -e '^obj-' |
  { if [ -n "$builddirs" ]; then grep -zv -F "$(printf '%s/\n' $builddirs)"; else cat; fi; } |
  while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
  tar --null -T - -cf - | tar -xf - -C "$src") || { echo "FAIL copying the source"; exit 1; }
[ -f "$src/debian/control" ] && [ -f "$src/meson.build" ] && ! find "$src" -name meson-private -type d | grep -q . &&
  ok "clean copy of the source (no build directory)" || bad "clean copy of the source"
check "debian/changelog's version is the project's ($version)" \
  bash -c "[ \"\$(cd '$src' && dpkg-parsechangelog -S Version)\" = '$version' ]"

# ---- build -----------------------------------------------------------------------------
jobs=$(nproc); [ "$jobs" -gt 2 ] && jobs=2
if (cd "$src" && DEB_BUILD_OPTIONS="nocheck parallel=$jobs" nice -n 10 dpkg-buildpackage -b -us -uc) \
    >"$tmp/build.log" 2>&1; then ok "dpkg-buildpackage -b -us -uc"
else bad "dpkg-buildpackage: $(tail -20 "$tmp/build.log")"; exit 1; fi
step "package built"
deb=$(ls "$tmp"/dpcopy_"$version"_*.deb 2>/dev/null | head -1)
[ -n "$deb" ] && ok "dpcopy_${version}_*.deb made" || { bad "no dpcopy_${version}_*.deb in $tmp"; exit 1; }

# ---- what `meson install` installs from the same build = what the package holds ---------
obj=$(find "$src" -maxdepth 1 -name 'obj-*' -type d | head -1)
dest="$tmp/destdir"
if meson install -C "$obj" --no-rebuild --destdir "$dest" >"$tmp/install.log" 2>&1; then
  ok "meson install --destdir from the package's build"
else bad "meson install: $(tail -5 "$tmp/install.log")"; fi
(cd "$dest" && find . -type f -o -type l | sed 's|^\.||' | sort) >"$tmp/meson.list"
dpkg-deb --fsys-tarfile "$deb" | tar -t | sed 's|^\./|/|' | grep -v '/$' | sort >"$tmp/deb.list"
# The package adds its Debian files (copyright, changelog) and compresses the man pages.
sed -E 's|^(/usr/share/man/.*)$|\1.gz|' "$tmp/meson.list" | sort >"$tmp/meson.want"
grep -vE '^/usr/share/doc/dpcopy/(copyright|changelog\.gz)$' "$tmp/deb.list" >"$tmp/deb.have"
if diff -u "$tmp/meson.want" "$tmp/deb.have" >"$tmp/diff.txt"; then
  ok "the package holds exactly what meson install installs ($(wc -l <"$tmp/deb.have") files)"
else bad "package and meson install differ (- meson only, + package only): $(grep -E '^[-+]/' "$tmp/diff.txt")"; fi

# ---- install into the chroot -------------------------------------------------------------
mkdir -p "$tmp/layer" "$R"
if mount -t tmpfs -o size=1g dpcopy-deb "$tmp/layer" && mkdir -p "$tmp/layer/upper" "$tmp/layer/work" &&
   mount -t overlay dpcopy-deb -o "lowerdir=/,upperdir=$tmp/layer/upper,workdir=$tmp/layer/work" "$R" &&
   mount -t proc proc "$R/proc" && mount --bind /dev "$R/dev" && mount --bind -o ro /sys "$R/sys"; then
  ok "chroot: / overlaid on a tmpfs"
else bad "chroot: cannot mount the overlay (overlayfs needed)"; exit 1; fi
inroot() { chroot "$R" "$@"; }
cp "$deb" "$R/tmp/" && debname="/tmp/$(basename "$deb")"
if inroot dpkg -i "$debname" >"$tmp/dpkg.log" 2>&1; then ok "dpkg -i (in the chroot)"
else bad "dpkg -i: $(tail -10 "$tmp/dpkg.log")"; exit 1; fi
step "installed"
# Every file an operator needs (a file missing from meson's install set fails here too).
need=(/usr/bin/dpcopy /usr/bin/dpintercept
  /usr/share/man/man1/dpcopy.1.gz /usr/share/man/man1/dpintercept.1.gz
  /usr/lib/systemd/system/dpcopy.service /usr/lib/systemd/system/dpcopy@.service
  /usr/lib/systemd/system/dpintercept.service
  /usr/share/bash-completion/completions/dpcopy /usr/share/bash-completion/completions/dpintercept
  /usr/lib/dpcopy/setup-hugepages.sh /usr/lib/dpcopy/bind-nic.sh /usr/lib/dpcopy/lib/common.sh
  /usr/share/doc/dpcopy/README.md /usr/share/doc/dpcopy/deploy.md /usr/share/doc/dpcopy/cli.md
  /usr/share/doc/dpcopy/operations.md /usr/share/doc/dpcopy/reports.md /usr/share/doc/dpcopy/report.schema.json
  /usr/share/doc/dpcopy/copyright
  /usr/share/doc/dpcopy/examples/dpcopy.conf.example /usr/share/doc/dpcopy/examples/dpintercept.conf.example
  /usr/share/doc/dpcopy/examples/grafana-dashboard.json /usr/share/doc/dpcopy/examples/http.pcap)
inroot dpkg -L dpcopy >"$tmp/dpkg-L.txt"
missing=""
for f in "${need[@]}"; do
  grep -qxF "$f" "$tmp/dpkg-L.txt" && [ -e "$R$f" ] || missing+=" $f"
done
[ -z "$missing" ] && ok "dpkg -L lists every needed file (${#need[@]}), all on disk" || bad "missing:$missing"
check "setup-hugepages.sh and bind-nic.sh are executable" test -x "$R/usr/lib/dpcopy/setup-hugepages.sh" -a -x "$R/usr/lib/dpcopy/bind-nic.sh"
check "this machine itself is untouched (no /usr/bin/dpcopy outside the chroot)" test ! -e /usr/bin/dpcopy

check "dpcopy --version" inroot bash -c "/usr/bin/dpcopy --version | grep -qx 'dpcopy $version'"
check "dpintercept --version" inroot bash -c "/usr/bin/dpintercept --version | grep -qx 'dpintercept $version'"
check "man -w dpcopy" inroot bash -c "[ \"\$(man -w dpcopy)\" = /usr/share/man/man1/dpcopy.1.gz ]"
check "man -w dpintercept" inroot bash -c "[ \"\$(man -w dpintercept)\" = /usr/share/man/man1/dpintercept.1.gz ]"
check "man dpcopy renders (EXIT STATUS, --report)" inroot bash -c "MANWIDTH=100 man dpcopy 2>/dev/null | grep -q '^EXIT STATUS' && MANWIDTH=100 man dpcopy 2>/dev/null | grep -q -- '--report'"
mkdir -p "$R/tmp/units"
ln -s /usr/lib/systemd/system/dpcopy@.service "$R/tmp/units/dpcopy@0.service"  # the template, as an instance
for u in /usr/lib/systemd/system/dpcopy.service /tmp/units/dpcopy@0.service /usr/lib/systemd/system/dpintercept.service; do
  check "systemd-analyze verify $(basename "$u") (installed): no complaint" inroot bash -c \
    "out=\$(systemd-analyze verify '$u' 2>&1); [ -z \"\$out\" ] || { echo \"\$out\"; exit 1; }"
done
check "units name the installed paths, nothing under /usr/local" inroot bash -c \
  "! grep -l /usr/local /usr/lib/systemd/system/dpcopy.service /usr/lib/systemd/system/dpcopy@.service /usr/lib/systemd/system/dpintercept.service"
check "the unit's ExecStartPre helper runs (--dry-run)" inroot bash -c \
  "/usr/lib/dpcopy/setup-hugepages.sh --size 64M --dry-run | grep -qE 'would run: dpdk-hugepages.py|nothing to do'"
check "bind-nic.sh finds its lib/common.sh (--help)" inroot bash -c "/usr/lib/dpcopy/bind-nic.sh --help 2>&1 | grep -q 'hands a NIC to DPDK'"
check "bash completion loads for both programs" inroot bash -c \
  "source /usr/share/bash-completion/completions/dpcopy && complete -p dpcopy dpintercept >/dev/null"

# ---- purge -----------------------------------------------------------------------------
if inroot dpkg --purge dpcopy >"$tmp/purge.log" 2>&1; then ok "dpkg --purge dpcopy (in the chroot)"
else bad "dpkg --purge: $(tail -5 "$tmp/purge.log")"; fi
left=""
for f in "${need[@]}"; do [ -e "$R$f" ] && left+=" $f"; done
[ -z "$left" ] && ok "purged: none of its files is left" || bad "left after purge:$left"
step "done"
echo "debian-package: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
