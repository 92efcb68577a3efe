#!/usr/bin/env bash
# html_report_chromium.sh RENDER_SAMPLE DATA_DIR ARTIFACTS_DIR (meson test html_report_chromium)
# Renders the sample comparison report, checks it in headless Chromium (check_html_report.sh)
# keeping its screenshot in ARTIFACTS_DIR, then checks two copies of the page with charts
# missing and expects the check to fail on both. Three Chromium launches, ~5 s each.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[ $# -eq 3 ] || { echo "usage: $(basename "$0") RENDER_SAMPLE DATA_DIR ARTIFACTS_DIR" >&2; exit 2; }
render=$1 data=$2 artifacts=$3
mkdir -p "$artifacts"
page=$artifacts/compare_report_sample.html

"$render" "$data/compare_report_sample.json" "$data/compare_intervals_sample.jsonl" "$page" >/dev/null || exit 1
"$here/check_html_report.sh" "$page" "$artifacts/compare_report_sample.png" || { echo "FAIL: the sample report"; exit 1; }

# Two broken copies, each of which the check must fail, for the reasons given:
# the chart library's script emptied (nothing can be drawn); and the call that draws the
# rates and loss charts removed (every other chart drawn, the script runs to its end) with
# the endpoint names put in the DOM as markup (d3's .html) instead of text.
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
no_library=$artifacts/compare_report_no_chart_library.html
time_charts_gone_names_as_markup=$artifacts/compare_report_time_charts_gone_names_as_markup.html
python3 - "$page" "$no_library" "$time_charts_gone_names_as_markup" <<'PY' || exit 1
import re, sys
html = open(sys.argv[1], encoding='utf-8').read()
stub, n = re.subn(r'(<script id="chart-library">).*?(</script>)', r'\1\2', html, count=1, flags=re.S)
partial, m = re.subn(r'\n  drawOverTime\(intervals\);', '', html, count=1)
partial, k = re.subn(r"box\.append\('h3'\)\.text\((text\(e\.endpoint\) \+ \(e\.protocol)", r"box.append('h3').html(\1", partial, count=1)
if (n, m, k) != (1, 1, 1):
    sys.exit('html_report_chromium: the page has no chart-library script, drawOverTime call or endpoint h3')
open(sys.argv[2], 'w', encoding='utf-8').write(stub)
open(sys.argv[3], 'w', encoding='utf-8').write(partial)
PY
fail=0
expect_failure "$no_library" 'cdf-overall: no data-points attribute' || fail=1
expect_failure "$time_charts_gone_names_as_markup" 'rates-chart: no data-points attribute' 'loss-chart: no data-points attribute' \
  'an <img> element is in the DOM' 'data-pwned is set' || fail=1
[ $fail -eq 0 ] && echo "html_report_chromium: ok (the sample passes; pages missing charts fail)"
exit $fail
