#!/usr/bin/env bash
# The pure core (lib/rewrite, lib/proto, lib/session, lib/compare), the shared counter
# machinery (lib/counters) and the control protocol (lib/control) must not include any DPDK header,
# and nothing outside lib/dpdk_io and apps/*/main*.cpp may either. lib/control includes
# only lib/control, lib/counters, lib/rewrite, lib/session and two DPDK-free headers of
# lib/dpdk_io (host_stack.hpp, run_stats.hpp); lib/counters includes nothing of lib/;
# lib/metrics and lib/report include nothing of the project but themselves;
# lib/compare includes only lib/compare, lib/session and lib/rewrite; lib/mirror (pure) only
# lib/mirror, lib/counters and lib/rewrite/bytes.hpp.
set -u
root=${1:-.}
fail=0
while IFS= read -r hit; do
  echo "layering: DPDK header in pure code: $hit"; fail=1
done < <(grep -RnE '#\s*include\s*[<"](rte_|generic/rte_)' "$root/lib/rewrite" "$root/lib/mirror" "$root/lib/proto" "$root/lib/session" "$root/lib/compare" "$root/lib/counters" "$root/lib/control" "$root/apps/common" 2>/dev/null)
while IFS= read -r hit; do
  echo "layering: lib/control includes outside its layer: $hit"; fail=1
done < <(grep -RnE '#\s*include\s*"lib/' "$root/lib/control" 2>/dev/null |
         grep -vE '"lib/(control|counters|rewrite|session)/|"lib/dpdk_io/(host_stack|run_stats)\.hpp"')
while IFS= read -r hit; do
  echo "layering: lib/compare includes outside its layer: $hit"; fail=1
done < <(grep -RnE '#\s*include\s*"lib/' "$root/lib/compare" 2>/dev/null | grep -vE '"lib/(compare|session|rewrite)/')
while IFS= read -r hit; do
  echo "layering: lib/mirror includes outside its layer: $hit"; fail=1
done < <(grep -RnE '#\s*include\s*"lib/' "$root/lib/mirror" 2>/dev/null | grep -vE '"lib/(mirror|counters)/|"lib/rewrite/bytes\.hpp"')
while IFS= read -r hit; do
  echo "layering: lib/counters includes project code: $hit"; fail=1
done < <(grep -RnE '#\s*include\s*"lib/' "$root/lib/counters" 2>/dev/null)
while IFS= read -r hit; do
  echo "layering: lib/metrics includes DPDK or project code: $hit"; fail=1
done < <(grep -RnE '#\s*include\s*("lib/|[<"](rte_|generic/rte_))' "$root/lib/metrics" 2>/dev/null | grep -v '"lib/metrics/')
while IFS= read -r hit; do
  echo "layering: lib/report includes DPDK or project code: $hit"; fail=1
done < <(grep -RnE '#\s*include\s*("lib/|[<"](rte_|generic/rte_))' "$root/lib/report" 2>/dev/null | grep -v '"lib/report/')
while IFS= read -r hit; do
  echo "layering: rte_exit outside main: $hit"; fail=1
done < <(grep -RnE '\brte_exit\s*\(' "$root/lib" 2>/dev/null)
# a deliberate self-check so this test cannot pass vacuously
probe=$(mktemp -d); mkdir -p "$probe/lib/rewrite"; echo '#include <rte_mbuf.h>' > "$probe/lib/rewrite/x.hpp"
if ! grep -RqE '#\s*include\s*[<"](rte_|generic/rte_)' "$probe/lib/rewrite"; then echo "layering: self-check failed"; fail=1; fi
rm -rf "$probe"
for d in rewrite mirror control counters metrics report compare; do
  [ -d "$root/lib/$d" ] || { echo "layering: $root/lib/$d missing"; fail=1; }
done
[ $fail -eq 0 ] && echo "layering: ok"
exit $fail
