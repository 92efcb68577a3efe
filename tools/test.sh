#!/usr/bin/env bash
# tools/test.sh — installs what is missing, builds, runs every test.
# Ends with a line "N passed, N failed"; exits non-zero on any failure.
#   build/      the product build (DPDK apps, integration and e2e tests, benchmarks; the
#               unit-test executables are left out: -Dunit_tests=false)
#   build-san/  ASan+UBSan build of the pure code; the unit tests run here
#   build-fuzz/ clang + libFuzzer + ASan/UBSan: each fuzz harness runs 20 s (suite fuzz;
#               longer runs: tools/fuzz.sh, docs/fuzzing.md)
# Options: --unit (unit and lint suites only), --suite NAME (one meson suite; `--suite package`:
# the Debian package built, installed, checked and purged, 5-6 min of the full run).
set -uo pipefail
source "$(dirname "$0")/lib/common.sh"
dpcopy_require_root "$@"
cd "$DPCOPY_ROOT"

only_unit=0; suite=""
while [ $# -gt 0 ]; do
  case "$1" in
    --unit) only_unit=1 ;;
    --suite) suite=$2; shift ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "test.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
  shift
done

dpcopy_install_packages || exit 1
# each phase says when it starts (seconds since test.sh began): the full run must stay well
# inside CI's 90 minutes (under 45 on a 2-CPU machine: README.md)
at() { echo "+${SECONDS}s"; }

dpcopy_log "$(at) building build-san/ (ASan+UBSan, unit tests)"
# -O1 and line tables only (-g1): ASan's own advice, and 2.5 times faster to compile than
# -O2 -g (21 min of the full run before); stack traces keep their files and lines
dpcopy_build build-san -Ddpdk=disabled -Db_sanitize=address,undefined -Db_lundef=false -Dbench=false \
  -Doptimization=1 -Ddebug=false -Dcpp_args=-g1 || exit 1
if [ $only_unit -eq 0 ]; then
  dpcopy_log "$(at) building build/ (product)"
  dpcopy_build build -Ddpdk=enabled -Dunit_tests=false || exit 1
fi
if [ $only_unit -eq 0 ] || [ "$suite" = fuzz ]; then
  dpcopy_log "$(at) building build-fuzz/ (clang, libFuzzer harnesses)"
  (export CXX=clang++; dpcopy_build build-fuzz -Ddpdk=disabled -Dtests=disabled -Dbench=false -Dfuzz=enabled \
    -Db_sanitize=address,undefined -Db_lundef=false) || exit 1
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

run_suite() {  # dir, meson test args...
  local dir=$1; shift
  dpcopy_log "$(at) tests in $dir/: $*"
  meson test -C "$dir" --no-rebuild --print-errorlogs --num-processes 2 "$@"
  return 0  # the summary decides
}

rm -f build-san/meson-logs/testlog.json build/meson-logs/testlog.json build-fuzz/meson-logs/testlog.json
logs=()
if [ -n "$suite" ]; then
  if [ "$suite" = unit ]; then run_suite build-san --suite unit; logs+=(build-san/meson-logs/testlog.json)
  elif [ "$suite" = fuzz ]; then run_suite build-fuzz --suite fuzz; logs+=(build-fuzz/meson-logs/testlog.json)
  else run_suite build --suite "$suite"; logs+=(build/meson-logs/testlog.json); fi
else
  run_suite build-san --suite unit --suite lint; logs+=(build-san/meson-logs/testlog.json)
  if [ $only_unit -eq 0 ]; then
    run_suite build --no-suite unit --no-suite lint; logs+=(build/meson-logs/testlog.json)
    run_suite build-fuzz --suite fuzz; logs+=(build-fuzz/meson-logs/testlog.json)
  fi
fi

dpcopy_log "$(at) done: $((SECONDS / 60)) min $((SECONDS % 60)) s"
python3 "$DPCOPY_ROOT/tools/lib/summarize.py" "${logs[@]}"
