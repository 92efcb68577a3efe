#!/usr/bin/env bash
# check_html_report.sh HTML_FILE [SCREENSHOT_PNG]
# Opens an --html-report page in headless Chromium with the network off and checks, in the DOM
# Chromium dumps after the page's scripts ran, that every chart was drawn with the points its
# embedded data implies (check_html_dom.py), that the status table has a row per status pair,
# and that hostile strings from the data are shown as text and never ran. With SCREENSHOT_PNG,
# the same launch also writes a 1280x2000 screenshot there (a test artefact; its path is printed).
# Exit 0 when the page is right, 1 with the reasons when not, 2 on usage or a missing Chromium.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[ $# -ge 1 ] && [ $# -le 2 ] || { echo "usage: $(basename "$0") HTML_FILE [SCREENSHOT_PNG]" >&2; exit 2; }
html=$1
screenshot=${2:-}
[ -f "$html" ] || { echo "check_html_report: no such file: $html" >&2; exit 2; }
chromium=${CHROMIUM:-chromium}
command -v "$chromium" >/dev/null 2>&1 ||
  { echo "check_html_report: $chromium not found (apt-get install chromium)" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
url=$(python3 -c 'import pathlib, sys; print(pathlib.Path(sys.argv[1]).resolve().as_uri())' "$html")

# The network off: a network namespace of our own when we may make one (root, or user
# namespaces), and in any case no name resolves and every proxied fetch goes nowhere.
netns=()
if unshare -rn true 2>/dev/null; then netns=(unshare -rn); elif unshare -n true 2>/dev/null; then netns=(unshare -n); fi
args=(--headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run
      --no-default-browser-check --disable-extensions --disable-sync --disable-background-networking
      --disable-component-update --hide-scrollbars --mute-audio
      "--user-data-dir=$work/profile" '--host-resolver-rules=MAP * ~NOTFOUND'
      --proxy-server=127.0.0.1:9 --dump-dom)
if [ -n "$screenshot" ]; then
  mkdir -p "$(dirname "$screenshot")"
  rm -f "$screenshot"
  args+=("--screenshot=$screenshot" --window-size=1280,2000)
fi

started=$(date +%s)
timeout 100 "${netns[@]}" "$chromium" "${args[@]}" "$url" >"$work/dom.html" 2>"$work/chromium.log"
rc=$?
echo "check_html_report: chromium ran $(( $(date +%s) - started )) s (exit $rc)${netns:+, in its own network namespace}"
if [ $rc -ne 0 ] || [ ! -s "$work/dom.html" ]; then
  echo "check_html_report: FAIL: chromium dumped no DOM (exit $rc); its log:" >&2
  tail -n 20 "$work/chromium.log" >&2
  exit 1
fi

fail=0
python3 "$here/check_html_dom.py" "$work/dom.html" || fail=1
if [ -n "$screenshot" ]; then
  if [ -s "$screenshot" ] && head -c 8 "$screenshot" | grep -q PNG; then
    echo "check_html_report: screenshot $screenshot ($(stat -c %s "$screenshot") bytes)"
  else
    echo "check_html_report: FAIL: no screenshot written to $screenshot" >&2
    fail=1
  fi
fi
[ $fail -eq 0 ] && echo "check_html_report: ok: $html"
exit $fail
