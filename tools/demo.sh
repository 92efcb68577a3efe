#!/usr/bin/env bash
# tools/demo.sh — the README's first command: installs what is missing, builds,
# and replays config/samples/http.pcap against nginx in a private namespace rig.
# The replay rig arrives with the offline-replay issue (#4); until then this
# script builds the product, shows what it will run, and exits 2.
set -uo pipefail
source "$(dirname "$0")/lib/common.sh"
dpcopy_require_root "$@"
cd "$DPCOPY_ROOT"
dpcopy_install_packages || exit 1
dpcopy_build build -Ddpdk=enabled || exit 1
echo "dpcopy built: $(build/apps/copy/dpcopy -- --version 2>/dev/null || echo '?')"
echo "demo: the offline replay demo (nginx target in a namespace rig) is not implemented yet (issue 4)" >&2
exit 2
