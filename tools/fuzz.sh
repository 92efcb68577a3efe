#!/usr/bin/env bash
# tools/fuzz.sh — builds the libFuzzer harnesses (tests/fuzz, clang, ASan+UBSan) in
# build-fuzz/ and runs each in turn for a time budget; see docs/fuzzing.md.
#   --time SECONDS   budget of each harness (default 60)
#   --only NAME      one harness: parse, decap, control, capture, options, engine, mysql, compare
#   --work DIR       corpora, seeds, logs and crash inputs (default /var/tmp/dpcopy-fuzz);
#                    the corpora grow from run to run
#   --jobs N         libFuzzer workers per harness (default 1)
# Prints one line per harness (executions, coverage, features, corpus size) and exits
# non-zero when any harness crashed or broke an invariant (its input is in WORK/crashes/NAME/).
set -uo pipefail
source "$(dirname "$0")/lib/common.sh"
cd "$DPCOPY_ROOT"

secs=60 only="" work=/var/tmp/dpcopy-fuzz jobs=1
all=(parse decap control capture options engine mysql compare)
while [ $# -gt 0 ]; do
  case "$1" in
    --time) secs=$2; shift ;;
    --only) only=$2; shift ;;
    --work) work=$2; shift ;;
    --jobs) jobs=$2; shift ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "fuzz.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
  shift
done
case "$secs" in ''|*[!0-9]*) echo "fuzz.sh: --time wants whole seconds, not '$secs'" >&2; exit 2 ;; esac
if [ -n "$only" ]; then
  case " ${all[*]} " in *" $only "*) all=("$only") ;; *) echo "fuzz.sh: unknown harness '$only' (${all[*]})" >&2; exit 2 ;; esac
fi
command -v clang++ >/dev/null || { echo "fuzz.sh: clang++ not found (Debian: clang libclang-rt-dev)" >&2; exit 2; }

if [ ! -f build-fuzz/build.ninja ]; then
  dpcopy_log "configuring build-fuzz/ (clang, libFuzzer, ASan+UBSan)"
  CXX=clang++ meson setup build-fuzz "$DPCOPY_ROOT" -Ddpdk=disabled -Dtests=disabled -Dbench=false \
    -Dfuzz=enabled -Db_sanitize=address,undefined -Db_lundef=false >build-fuzz.setup.log 2>&1 ||
    { cat build-fuzz.setup.log >&2; exit 1; }
fi
targets=()
for n in "${all[@]}"; do targets+=("tests/fuzz/fuzz_$n"); done
ninja -C build-fuzz "${targets[@]}" >build-fuzz.ninja.log 2>&1 || { tail -n 60 build-fuzz.ninja.log >&2; exit 1; }

mkdir -p "$work"
extra=()
[ "$jobs" -gt 1 ] && extra=(-fork="$jobs")
failed=0
for n in "${all[@]}"; do
  tests/fuzz/run_one.sh "$n" "build-fuzz/tests/fuzz/fuzz_$n" "$secs" "$work" "${extra[@]}" || failed=1
done
exit $failed
