#!/usr/bin/env bash
# html_report_chromium.sh RENDER_SAMPLE DATA_DIR ARTIFACTS_DIR (meson test html_report_chromium)
# Renders the sample comparison report, checks it in headless Chromium (check_html_report.sh)
# keeping its screenshot in ARTIFACTS_DIR, then checks a broken copy of the page and expects
# the check to fail. Two Chromium launches, 5-10 s each on two CPUs.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[ $# -eq 3 ] || { echo "usage: $(basename "$0") RENDER_SAMPLE DATA_DIR ARTIFACTS_DIR" >&2; exit 2; }
render=$1 data=$2 artifacts=$3
mkdir -p "$artifacts"
page=$artifacts/compare_report_sample.html

"$render" "$data/compare_report_sample.json" "$data/compare_intervals_sample.jsonl" "$page" >/dev/null || exit 1
# The page's data block is the input, and every chart of the sample has data to draw.
python3 - "$page" "$data/compare_report_sample.json" "$data/compare_intervals_sample.jsonl" <<'PY' || exit 1
import json, re, sys
html = open(sys.argv[1], encoding='utf-8').read()
block = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', html, re.S)
embedded = json.loads(block.group(1)) if block else None
report = json.load(open(sys.argv[2], encoding='utf-8'))
intervals = [json.loads(l) for l in open(sys.argv[3], encoding='utf-8') if l.strip()]
if embedded != {'report': report, 'intervals': intervals}:
    sys.exit('FAIL: the page does not embed the sample report and intervals as they are')
PY
out=$("$here/check_html_report.sh" "$page" "$artifacts/compare_report_sample.png" 2>&1)
rc=$?
printf '%s\n' "$out"
[ $rc -eq 0 ] || { echo "FAIL: the sample report"; exit 1; }
if grep -q 'no data' <<<"$out"; then echo "FAIL: a chart of the sample report has no data"; exit 1; fi

# A broken copy the check must fail, for each of the reasons given: the call that draws the
# rates and loss charts removed (every other chart drawn, the script runs to its end), and
# the endpoint names of the diverging endpoints put in the DOM as markup (d3's .html).
expect_failure() {  # page, what the failure must mention...
  local page=$1 out rc reason
  shift
  out=$("$here/check_html_report.sh" "$page" 2>&1)
  rc=$?
  printf '%s\n' "$out" | sed 's/^/  (must fail) /'
  [ $rc -eq 1 ] || { echo "FAIL: the check exited $rc on $page"; return 1; }
  for reason in "$@"; do
    grep -q -- "$reason" <<<"$out" || { echo "FAIL: the check did not find in $page: $reason"; return 1; }
  done
}
broken=$artifacts/compare_report_broken.html
python3 - "$page" "$broken" <<'PY' || exit 1
import re, sys
html = open(sys.argv[1], encoding='utf-8').read()
html, m = re.subn(r'\n  drawOverTime\(intervals\);', '', html, count=1)
html, k = re.subn(r"box\.append\('h3'\)\.text\((text\(e\.endpoint\) \+ \(e\.protocol)", r"box.append('h3').html(\1", html, count=1)
if (m, k) != (1, 1):
    sys.exit('html_report_chromium: the page has no drawOverTime call or no diverging endpoint h3')
open(sys.argv[2], 'w', encoding='utf-8').write(html)
PY
expect_failure "$broken" 'rates-chart: no data-points attribute' 'loss-chart: no data-points attribute' \
  'an <img> element is in the DOM' 'data-pwned is set' || exit 1
echo "html_report_chromium: ok (the sample passes; a page missing charts and showing data as markup fails)"
