#!/usr/bin/env bash
# The pure core (lib/rewrite, lib/proto, lib/session) must not include any DPDK header,
# and nothing outside lib/dpdk_io and apps/*/main*.cpp may either.
set -u
root=${1:-.}
fail=0
while IFS= read -r hit; do
  echo "layering: DPDK header in pure code: $hit"; fail=1
done < <(grep -RnE '#\s*include\s*[<"](rte_|generic/rte_)' "$root/lib/rewrite" "$root/lib/proto" "$root/lib/session" "$root/apps/common" 2>/dev/null)
while IFS= read -r hit; do
  echo "layering: rte_exit outside main: $hit"; fail=1
done < <(grep -RnE '\brte_exit\s*\(' "$root/lib" 2>/dev/null)
# a deliberate self-check so this test cannot pass vacuously
probe=$(mktemp -d); mkdir -p "$probe/lib/rewrite"; echo '#include <rte_mbuf.h>' > "$probe/lib/rewrite/x.hpp"
if ! grep -RqE '#\s*include\s*[<"](rte_|generic/rte_)' "$probe/lib/rewrite"; then echo "layering: self-check failed"; fail=1; fi
rm -rf "$probe"
[ -d "$root/lib/rewrite" ] || { echo "layering: $root/lib/rewrite missing"; fail=1; }
[ $fail -eq 0 ] && echo "layering: ok"
exit $fail
