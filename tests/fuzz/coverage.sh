#!/usr/bin/env bash
# Line and region coverage that a harness's corpus reaches in the code it targets (clang
# source-based coverage; no sanitizers, so the figures are about dpcopy's code only).
#
#   tests/fuzz/coverage.sh NAME [WORK-DIR]     (default WORK-DIR: /var/tmp/dpcopy-fuzz)
#
# Builds WORK-DIR/cov/fuzz_NAME with -fprofile-instr-generate -fcoverage-mapping, runs it
# once over WORK-DIR/corpus/NAME and WORK-DIR/seeds/NAME (tools/fuzz.sh fills them), and
# prints llvm-cov's per-file report for the target's files and a TOTAL line.
set -euo pipefail

name=$1 work=${2:-/var/tmp/dpcopy-fuzz}
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
rewrite=(lib/rewrite/{build,checksum,headers,parse,rewrite,types}.cpp)
proto=(lib/proto/mysql_auth.cpp lib/proto/mysql_packets.cpp)
case "$name" in
  parse)   srcs=("${rewrite[@]}"); libs=(); files=(lib/rewrite/parse.cpp lib/rewrite/headers.cpp lib/rewrite/rewrite.cpp lib/rewrite/checksum.cpp) ;;
  control) srcs=(lib/control/control_codec.cpp); libs=(-lsodium); files=(lib/control/control_codec.cpp) ;;
  capture) srcs=(lib/dpdk_io/capture.cpp "${rewrite[@]}"); libs=(-lpcap); files=(lib/dpdk_io/capture.cpp lib/rewrite/parse.cpp) ;;
  options) srcs=(apps/common/{app_options,client_pool,option_parser,shared_options,split_argv,values}.cpp
                 apps/copy/options.cpp apps/intercept/options.cpp "${rewrite[@]}" "${proto[@]}")
           libs=(-lboost_program_options -lpcap -lcrypto)
           files=(apps/common/*.cpp apps/copy/options.cpp apps/intercept/options.cpp) ;;
  engine)  # the engine's seam files form one unit (lib/session/engine_impl.hpp)
           mkdir -p "$work"; for f in lib/session/engine*.cpp; do echo "#include \"$f\""; done > "$work/engine_unit.cpp"
           srcs=("$work/engine_unit.cpp" lib/session/{mysql_login,tuple_alloc}.cpp "${rewrite[@]}" "${proto[@]}"); libs=(-lcrypto)
           files=(lib/session/engine*.cpp lib/session/engine_impl.hpp lib/session/close_memory.hpp lib/session/tuple_alloc.cpp lib/session/mysql_login.cpp) ;;
  mysql)   srcs=("${proto[@]}"); libs=(-lcrypto); files=("${proto[@]}") ;;
  *) echo "coverage.sh: unknown harness '$name'" >&2; exit 2 ;;
esac
out=$work/cov
mkdir -p "$out"
[ -d build-fuzz ] || { echo "coverage.sh: run tools/fuzz.sh first (build-fuzz/ holds dpcopy_version.hpp)" >&2; exit 2; }
clang++ -std=c++20 -O1 -g -fprofile-instr-generate -fcoverage-mapping -fsanitize=fuzzer -I"$root" -Ibuild-fuzz \
  "tests/fuzz/fuzz_$name.cpp" "${srcs[@]}" "${libs[@]}" -o "$out/fuzz_$name"
dirs=()
for d in "$work/corpus/$name" "$work/seeds/$name"; do [ -d "$d" ] && dirs+=("$d"); done
LLVM_PROFILE_FILE="$out/$name.profraw" "$out/fuzz_$name" -runs=0 "${dirs[@]}" </dev/null >"$out/$name.log" 2>&1
llvm-profdata merge -sparse "$out/$name.profraw" -o "$out/$name.profdata"
llvm-cov report "$out/fuzz_$name" -instr-profile="$out/$name.profdata" "${files[@]}"
