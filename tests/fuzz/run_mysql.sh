#!/usr/bin/env bash
# Kept for old habits: fuzz_mysql now builds and runs like every harness (tools/fuzz.sh).
#   tests/fuzz/run_mysql.sh [SECONDS] [WORK-DIR]
exec "$(dirname "$0")/../../tools/fuzz.sh" --only mysql --time "${1:-60}" ${2:+--work "$2"}
