#!/usr/bin/env bash
# Builds and runs the libFuzzer harness of lib/proto/mysql_auth (tests/fuzz/fuzz_mysql.cpp).
#
#   tests/fuzz/run_mysql.sh [SECONDS] [WORK-DIR]      (default: 60 s, /tmp/dpcopy-fuzz-mysql)
#
# clang++ with -fsanitize=fuzzer,address,undefined; seeds are every TCP stream and MySQL
# packet of the recorded logins in tests/proto/data (tests/fuzz/mysql_seeds.py). The corpus
# grows in WORK-DIR/corpus and is reused by the next run; a crash leaves WORK-DIR/crash-* and
# a non-zero exit. Needs: clang, libclang-rt-dev (libFuzzer), libssl-dev, python3.
# The harness's checks also run in the unit tests (tests/proto, under g++ with ASan/UBSan).
set -euo pipefail

secs=${1:-60}
work=${2:-/tmp/dpcopy-fuzz-mysql}
root=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$work/corpus"
clang++ -std=c++20 -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined \
    -fno-sanitize-recover=undefined -I"$root" \
    "$root/tests/fuzz/fuzz_mysql.cpp" "$root/lib/proto/mysql_packets.cpp" "$root/lib/proto/mysql_auth.cpp" \
    -lcrypto -o "$work/fuzz_mysql"
python3 "$root/tests/fuzz/mysql_seeds.py" "$work/seeds" "$root"/tests/proto/data/*.pcap
cd "$work"
./fuzz_mysql -max_total_time="$secs" -max_len=4096 -print_final_stats=1 corpus seeds
