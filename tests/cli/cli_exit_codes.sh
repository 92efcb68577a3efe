#!/usr/bin/env bash
# Exit statuses of the dpcopy and dpintercept binaries, and proof that bad
# input never starts EAL (no runtime directory appears).
# usage: cli_exit_codes.sh DPCOPY DPINTERCEPT
set -u
dpcopy=${1:?dpcopy binary}
dpintercept=${2:?dpintercept binary}
fail=0
prefix="clicodes-$$-$RANDOM"
if [ "$(id -u)" -eq 0 ]; then rundir_base=/var/run/dpdk; else rundir_base="${XDG_RUNTIME_DIR:-/tmp}/dpdk"; fi
rundir="$rundir_base/$prefix"
ns=""
tmp=$(mktemp -d)
cleanup() {
  rm -rf "$tmp" "$rundir"
  [ -n "$ns" ] && ip netns del "$ns" 2>/dev/null
}
trap cleanup EXIT

printf '\xd4\xc3\xb2\xa1\x02\x00\x04\x00' > "$tmp/in.pcap"
echo 'not a capture' > "$tmp/notpcap"
printf 'transfer = 80-10.0.0.2:80\nbogus = 1\n' > "$tmp/bad.conf"
mkfifo "$tmp/fifo"  # no writer: a plain open() for reading would wait forever
printf 'transfer = 80-10.0.0.2:80\npcap = %s\n' "$tmp/fifo" > "$tmp/fifo-pcap.conf"

rte_existed=0; [ -e "$rundir_base/rte" ] && rte_existed=1

# expect STATUS PATTERN -- COMMAND...: status, one stderr line matching PATTERN
# for errors, no EAL runtime directory.
expect() {
  local want=$1 pattern=$2; shift 3
  local out err rc
  # a hang (issue #13: FIFOs, Boost's %token% loop) is a failure, not a stuck test
  out=$(timeout 20 "$@" 2>"$tmp/err"); rc=$?
  err=$(cat "$tmp/err")
  if [ "$rc" -ne "$want" ]; then
    echo "FAIL: status $rc, want $want: $*"; echo "  stderr: $err"; fail=1; return
  fi
  if [ "$want" -eq 2 ]; then
    if [ "$(printf '%s\n' "$err" | grep -c .)" -ne 1 ]; then
      echo "FAIL: want exactly one error line: $*"; echo "  stderr: $err"; fail=1
    fi
    if ! printf '%s' "$err" | grep -qE -- "$pattern"; then
      echo "FAIL: stderr does not match '$pattern': $*"; echo "  stderr: $err"; fail=1
    fi
    if [ -e "$rundir" ]; then
      echo "FAIL: EAL runtime directory $rundir created for bad input: $*"; fail=1; rm -rf "$rundir"
    fi
  elif ! printf '%s' "$out" | grep -qE -- "$pattern"; then
    echo "FAIL: stdout does not match '$pattern': $*"; fail=1
  fi
  echo "ok: $rc $*"
}

P=(--file-prefix "$prefix")
# Bad input: status 2, one line, no EAL.
expect 2 "unrecognised option '--bogus'" -- "$dpcopy" "${P[@]}" -- -x 80-10.0.0.2:80 --bogus
expect 2 "invalid value '80-10.0.0.256:80' for option --transfer" -- "$dpcopy" "${P[@]}" -- -x 80-10.0.0.256:80
expect 2 "missing required option -x" -- "$dpcopy" "${P[@]}" --
expect 2 "missing required option -x" -- "$dpcopy" "${P[@]}" -x 80-10.0.0.2:80
expect 2 "for option --multiply" -- "$dpcopy" "${P[@]}" -- -x 80-10.0.0.2:80 -n 0
expect 2 "for option --vlan: bad VLAN ID '4095'" -- "$dpcopy" "${P[@]}" -- -x 80-10.0.0.2:80 --vlan 4095
expect 2 "for option --vlan: at most two VLAN IDs" -- "$dpcopy" "${P[@]}" -- -x 80-10.0.0.2:80 --vlan 1,2,3
expect 2 "for option --pcap: no such file" -- "$dpcopy" "${P[@]}" -- -x 80-10.0.0.2:80 -i "$tmp/missing.pcap"
expect 2 "for option --pcap: not a pcap" -- "$dpcopy" "${P[@]}" -- -x 80-10.0.0.2:80 -i "$tmp/notpcap"
expect 2 "--loop needs -i" -- "$dpcopy" "${P[@]}" -- -x 80-10.0.0.2:80 --loop 2
expect 2 "for option --key-file" -- "$dpcopy" "${P[@]}" -- -x 80-10.0.0.2:80 --key-file "$tmp/nokey"
expect 2 "unrecognised option 'bogus'" -- "$dpcopy" "${P[@]}" -- --config "$tmp/bad.conf"
expect 2 "unexpected argument 'stray'" -- "$dpcopy" "${P[@]}" -- -x 80-10.0.0.2:80 stray
expect 2 "invalid value 'tcp and' for option --filter: " -- "$dpcopy" "${P[@]}" -- -x 80-10.0.0.2:80 -F 'tcp and'
expect 2 "missing required option --ip" -- "$dpintercept" "${P[@]}" --
expect 2 "for option --filter" -- "$dpintercept" "${P[@]}" -- --ip 10.0.0.3/24 -F 'tcp and'
expect 2 "unrecognised option '--bogus'" -- "$dpintercept" "${P[@]}" -- --ip 10.0.0.3/24 --bogus
expect 2 "for option --payload-bytes" -- "$dpintercept" "${P[@]}" -- --ip 10.0.0.3/24 --payload-bytes 1461
# Issue #13: input that used to hang. FIFOs as input files, both programs ...
expect 2 "invalid value '$tmp/fifo' for option --pcap: is a FIFO" -- "$dpcopy" "${P[@]}" -- -x 80-10.0.0.2:80 -i "$tmp/fifo"
expect 2 "invalid value '$tmp/fifo' for option --config: is a FIFO" -- "$dpcopy" "${P[@]}" -- --config "$tmp/fifo"
expect 2 "for option --pcap \(config file $tmp/fifo-pcap.conf\): is a FIFO" -- "$dpcopy" "${P[@]}" -- --config "$tmp/fifo-pcap.conf"
expect 2 "invalid value '$tmp/fifo' for option --key-file: is a FIFO" -- "$dpcopy" "${P[@]}" -- -x 80-10.0.0.2:80 --key-file "$tmp/fifo"
expect 2 "for option --key-file: is a FIFO" -- "$dpintercept" "${P[@]}" -- --ip 10.0.0.3/24 --key-file "$tmp/fifo"
expect 2 "for option --config: is a FIFO" -- "$dpintercept" "${P[@]}" -- --config "$tmp/fifo"
# ... option names Boost's error templates loop on (100 % CPU forever) ...
expect 2 "invalid option '--%canonical_option%'" -- "$dpcopy" "${P[@]}" -- --%canonical_option%
expect 2 "invalid option '--%canonical_option%'" -- "$dpintercept" "${P[@]}" -- --%canonical_option%
expect 2 "invalid option '-x%option%'|for option --transfer" -- "$dpcopy" "${P[@]}" -- -x%option%
printf 'transfer = 80-10.0.0.2:80\n%%canonical_option%% = 1\n' > "$tmp/pct.conf"
expect 2 "invalid line 2: bad option name" -- "$dpcopy" "${P[@]}" -- --config "$tmp/pct.conf"
# ... and a map whose target is its own online service.
expect 2 "sends the copies to the online service itself" -- "$dpcopy" "${P[@]}" -- -x 10.1.1.1:80-10.1.1.1:80
# Without --file-prefix too (EAL's default prefix "rte").
expect 2 "for option --transfer" -- "$dpcopy" -- -x 80-10.0.0.256:80
if [ $rte_existed -eq 0 ] && [ -e "$rundir_base/rte" ]; then
  echo "FAIL: $rundir_base/rte appeared after bad input"; fail=1
fi

# Help and version: status 0, no EAL.
expect 0 "EAL options: dpcopy --help" -- "$dpcopy" -- --help
expect 0 "EAL options: dpcopy --help" -- "$dpcopy" -- -x bad -h
expect 0 "^dpcopy [0-9]" -- "$dpcopy" --version
expect 0 "^dpcopy [0-9]" -- "$dpcopy" -- --version
expect 0 "EAL options: dpintercept --help" -- "$dpintercept" -- --help
expect 0 "^dpintercept [0-9]" -- "$dpintercept" --version
# EAL's own help, with ours appended by the usage hook.
expect 0 "Usage: dpcopy \[EAL options\] -- \[dpcopy options\]" -- "$dpcopy" "${P[@]}" --help
expect 0 "Usage: dpintercept \[EAL options\]" -- "$dpintercept" "${P[@]}" -h
[ -e "$rundir" ] && { echo "FAIL: EAL --help created $rundir"; fail=1; rm -rf "$rundir"; }

# Positive control: valid options do start EAL (on a null vdev, inside a
# private network namespace), so the directory check above can fail.
if [ "$(id -u)" -eq 0 ] && ns="clicodes$$" && ip netns add "$ns" 2>/dev/null; then
  EAL=(--no-huge -m 256 --no-pci -l 0 --vdev net_null0 "${P[@]}")
  # sigint_when_ready OUT PATTERN CMD...: runs CMD in the namespace, sends SIGINT once OUT
  # holds PATTERN (EAL's start takes seconds on a loaded machine; at most 60 s), sets rc, out
  sigint_when_ready() {
    local file=$1 pattern=$2 pid; shift 2
    ip netns exec "$ns" "$@" >"$file" 2>&1 &
    pid=$!
    for _ in $(seq 600); do
      grep -q "$pattern" "$file" && break
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    sleep 0.5
    kill -INT "$pid" 2>/dev/null
    wait "$pid"; rc=$?; out=$(cat "$file")
  }
  # live copying (no -i) runs until SIGINT (here still waiting for its next hop's ARP reply)
  sigint_when_ready "$tmp/live.out" "dpcopy: live copying from port 0" "$dpcopy" "${EAL[@]}" -- -x 80-10.0.0.2:80 --ip 10.0.0.3/24
  if [ $rc -ne 0 ] || ! grep -q "dpcopy: live copying from port 0" <<<"$out" || ! grep -q "summary after .* (interrupted)" <<<"$out"; then
    echo "FAIL: valid live dpcopy run stopped by SIGINT: status $rc"; echo "$out" | tail -5; fail=1
  else
    echo "ok: valid live dpcopy starts EAL, runs until SIGINT, status 0"
  fi
  [ -e "$rundir" ] || { echo "FAIL: self-check: EAL ran but $rundir is missing"; fail=1; }
  rm -rf "$rundir"
  out=$(ip netns exec "$ns" "$dpcopy" "${EAL[@]}" -- -x 80-10.0.0.2:80 --rx-port 5 2>"$tmp/err"); rc=$?
  if [ $rc -ne 2 ] || ! grep -q "for option --rx-port: no such DPDK port" "$tmp/err"; then
    echo "FAIL: --rx-port 5 with one port: status $rc"; cat "$tmp/err"; fail=1
  else
    echo "ok: --rx-port of a missing DPDK port: status 2"
  fi
  rm -rf "$rundir"
  # A valid dpintercept runs until SIGINT, then exits 0.
  sigint_when_ready "$tmp/icpt.out" "dpintercept: .*control port" "$dpintercept" "${EAL[@]}" -- --ip 10.0.0.3/24
  if [ $rc -ne 0 ] || ! grep -q "dpintercept: port" <<<"$out"; then
    echo "FAIL: valid dpintercept run stopped by SIGINT: status $rc"; echo "$out" | tail -5; fail=1
  else
    echo "ok: valid dpintercept runs until SIGINT (status 0)"
  fi
  rm -rf "$rundir"
  out=$(ip netns exec "$ns" "$dpcopy" --no-huge --bogus-eal "${P[@]}" -- -x 80-10.0.0.2:80 2>&1); rc=$?
  if [ $rc -ne 2 ]; then echo "FAIL: bad EAL option: status $rc, want 2"; fail=1; else echo "ok: bad EAL option: status 2"; fi
  rm -rf "$rundir"
else
  echo "note: not root or no netns: the positive EAL control was skipped"
fi

[ $fail -eq 0 ] && echo "cli_exit_codes: ok"
exit $fail
