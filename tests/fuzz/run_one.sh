#!/usr/bin/env bash
# Runs one libFuzzer harness for a time budget and prints one line about it.
#
#   tests/fuzz/run_one.sh NAME EXE SECONDS WORK-DIR [extra libFuzzer flags...]
#
# Seeds come from tests/fuzz/seeds.py NAME (regenerated every run); the corpus grows in
# WORK-DIR/corpus/NAME and is reused by the next run. A crash leaves its input in
# WORK-DIR/crashes/NAME/ and makes the exit status non-zero. The last line is
#   fuzz_NAME: OK|CRASH, E execs in S s (R/s), cov C, ft F, corpus N

set -uo pipefail

name=$1 exe=$2 secs=$3 work=$4
shift 4
here=$(cd "$(dirname "$0")" && pwd)
seeds=$work/seeds/$name corpus=$work/corpus/$name crashes=$work/crashes/$name
mkdir -p "$corpus" "$crashes"
rm -rf "$seeds"
python3 "$here/seeds.py" "$name" "$seeds" || { echo "fuzz_$name: seed generation failed"; exit 1; }
log=$work/fuzz_$name.log

# -timeout: an input running over 10 s is a hang (a crash). rss_limit keeps a shared
# machine safe. Standard input is closed: a harness must never wait on it.
ASAN_OPTIONS=${ASAN_OPTIONS:-}:detect_leaks=1:abort_on_error=1 \
UBSAN_OPTIONS=${UBSAN_OPTIONS:-}:print_stacktrace=1:halt_on_error=1 \
"$exe" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=8192 -print_final_stats=1 \
    -artifact_prefix="$crashes/" "$@" "$corpus" "$seeds" </dev/null >"$log" 2>&1
rc=$?

execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n1)
last=$(grep -E '^#[0-9]+' "$log" | tail -n1)
cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
ncorp=$(ls "$corpus" | wc -l)
if [ $rc -eq 0 ]; then
  echo "fuzz_$name: OK, ${execs:-0} execs in $secs s (${rate:-0}/s), cov ${cov:-?}, ft ${ft:-?}, corpus $ncorp"
else
  grep -E 'ERROR: |fuzz invariant broken|runtime error|SUMMARY|Test unit written|^ *#[0-9]+ 0x' "$log" | head -n 30 >&2
  echo "fuzz_$name: CRASH (exit $rc), log $log, input in $crashes/"
fi
exit $rc
