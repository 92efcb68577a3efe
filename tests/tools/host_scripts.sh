#!/usr/bin/env bash
# Tests of the bare-metal helper scripts that change nothing on the host:
# bind-nic.sh refuses the default-route interface (checked inside a namespace this
# test makes, whose default route goes through a veth), setup-hugepages.sh validates
# its arguments and is idempotent in --dry-run; `meson install --destdir` puts what the
# systemd unit (config/dpcopy.service) runs at the paths it names.
# Prints "host-scripts: N passed, N failed".
#
#   tests/tools/host_scripts.sh [BUILD_DIR [apps|no-apps]]   (meson test passes both)
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-}; apps=${2:-no-apps}
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
expect "setup-hugepages without its lib/common.sh says so" 2 "cannot read .*/lib/common.sh" \
  bash -c "cp '$root/tools/setup-hugepages.sh' '$RIG_TMP/' && '$RIG_TMP/setup-hugepages.sh' --show"

# ---- the unit's paths are what `meson install` produces ----------------------------
# The unit is written for the default prefix, /usr/local: install into a DESTDIR and
# run what ExecStartPre names, as systemd would (plus --dry-run), and find ExecStart's
# binary and the Documentation= file.
unit="$root/config/dpcopy.service"
unit_value() { sed -nE "s/^$1=//p" "$unit" | head -1; }
pre=$(unit_value ExecStartPre); start_bin=$(unit_value ExecStart | awk '{print $1}')
doc=$(unit_value Documentation | sed 's|^file://||')
prefix=""
[ -n "$build" ] && prefix=$(meson introspect "$build" --buildoptions 2>/dev/null |
  python3 -c 'import json, sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "prefix"))' 2>/dev/null)
if [ -z "$build" ]; then echo "SKIP install checks: no build directory given"
elif [ "$prefix" != /usr/local ]; then echo "SKIP install checks: $build has prefix '$prefix'; the unit names /usr/local"
else
  dest="$RIG_TMP/destdir"
  if meson install -C "$build" --no-rebuild --destdir "$dest" >"$RIG_TMP/install.log" 2>&1; then
    echo "PASS meson install --destdir"; pass=$((pass + 1))
  else echo "FAIL meson install --destdir: $(tail -5 "$RIG_TMP/install.log")"; fail=$((fail + 1)); fi
  # ExecStartPre=/usr/local/lib/dpcopy/setup-hugepages.sh --size 1G: the installed copy runs
  # and finds its lib/common.sh (it exits 2 without it, see above)
  read -r -a pre_cmd <<<"$pre"
  expect "unit's ExecStartPre (${pre_cmd[0]}) is installed and runs (--dry-run)" 0 "would run: dpdk-hugepages.py|nothing to do" \
    "$dest${pre_cmd[0]}" "${pre_cmd[@]:1}" --dry-run
  expect "installed setup-hugepages.sh --help" 0 "setup-hugepages.sh" "$dest${pre_cmd[0]}" --help
  if [ "$apps" = apps ]; then
    expect "unit's ExecStart binary ($start_bin) is installed" 0 "^dpcopy [0-9]" "$dest$start_bin" --version
    expect "dpintercept is installed next to it" 0 "^dpintercept [0-9]" "$dest$(dirname "$start_bin")/dpintercept" --version
  fi
  expect "unit's Documentation= ($doc) is installed" 0 "^# Deploying dpcopy" head -1 "$dest$doc"
  # every unit installed where systemd looks (<prefix>/lib/systemd/system), its paths on
  # this prefix, and accepted by systemd-analyze verify once pointed at the DESTDIR (the
  # template through an instance, dpcopy@0)
  mkdir -p "$RIG_TMP/units"
  for u in dpcopy.service dpcopy@.service dpintercept.service; do
    f="$dest/usr/local/lib/systemd/system/$u"
    expect "$u is installed in <prefix>/lib/systemd/system" 0 "ExecStart=/usr/local/bin/dp" cat "$f"
    sed "s|/usr/local/|$dest/usr/local/|g" "$f" >"$RIG_TMP/units/$u"
  done
  ln -sf dpcopy@.service "$RIG_TMP/units/dpcopy@0.service"
  if command -v systemd-analyze >/dev/null; then
    for u in dpcopy.service dpcopy@0.service dpintercept.service; do
      expect "systemd-analyze verify $u (installed paths): no complaint" 0 "^clean$" \
        bash -c "out=\$(systemd-analyze verify '$RIG_TMP/units/$u' 2>&1); [ -z \"\$out\" ] && echo clean || { echo \"\$out\"; exit 1; }"
    done
  else echo "SKIP systemd-analyze: not installed"; fi
  expect "example configs are installed" 0 "dpintercept.conf.example" ls "$dest/usr/local/share/doc/dpcopy/examples"
  if [ "$apps" = apps ] && command -v help2man >/dev/null; then
    # man pages made from --help: every option of the help is in the page, which renders
    for prog in dpcopy dpintercept; do
      page="$dest/usr/local/share/man/man1/$prog.1"
      expect "man $prog renders" 0 "^EXIT STATUS" bash -c "MANWIDTH=100 man -l '$page' 2>/dev/null"
      missing=$("$dest/usr/local/bin/$prog" -- --help | grep -oE -- '--[a-z][a-z0-9-]+' | sort -u |
        while read -r o; do MANWIDTH=200 man -l "$page" 2>/dev/null | grep -q -- "$o" || echo "$o"; done)
      expect "man $prog has every option of $prog -- --help" 0 "^all$" bash -c "[ -z '$missing' ] && echo all || echo 'missing: $missing'"
    done
  fi
  # bash completion: EAL options before --, the program's own after it (from its --help)
  comp="$dest/usr/local/share/bash-completion/completions"
  complete_words() {  # PROG WORDS...: what completing the last word offers
    PATH="$dest/usr/local/bin:$PATH" bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1));
      _dpcopy; echo "${COMPREPLY[*]}"' _ "$comp/$1" "$@"
  }
  if [ "$apps" = apps ]; then
    expect "completion: dpcopy -- --tra" 0 "^--transfer$" complete_words dpcopy -- --tra
    expect "completion: dpcopy -- --multi" 0 "^--multiply$" complete_words dpcopy -l 1 -- -x 80-1.1.1.1:80 --multi
    expect "completion: dpcopy --vd (EAL)" 0 "^--vdev$" complete_words dpcopy --vd
    expect "completion: dpintercept -- --pay" 0 "^--payload-bytes$" complete_words dpintercept -- --pay
    expect "completion: dpcopy -- -i FILE" 0 "deploy.md" complete_words dpcopy -- -i "$dest/usr/local/share/doc/dpcopy/dep"
  fi
fi
echo "host-scripts: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
