#!/usr/bin/env python3
"""check_html_dom.py DOM_HTML: checks the DOM Chromium dumped from an --html-report page
(check_html_report.sh runs it). The expected figures come from the page's own data block
(<script id="report-data">), computed here independently of lib/report/report.js' code:

- every chart container carries data-points equal to the points its data implies, and its
  svg paths hold exactly that many points, with axis ticks; a chart with no data says so;
- the status table has one row per status pair; the diverging endpoints and samples are all shown;
- no string from the data became markup: no <img> element, no data-pwned attribute anywhere,
  and the endpoint names (hostile ones included) appear as text.
Prints one line per check; exit 1 with the reasons when any fails."""
import json
import math
import re
import sys
from html.parser import HTMLParser

VOID = {'area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'source', 'track', 'wbr'}
MAX_ENDPOINT_CDFS, MAX_DIVERGING = 6, 10


class Node:
    def __init__(self, tag, attrs, parent):
        self.tag, self.attrs, self.parent, self.children, self.text = tag, dict(attrs), parent, [], []

    def walk(self):
        yield self
        for c in self.children:
            yield from c.walk()

    def all_text(self):
        return ''.join(t for n in self.walk() for t in n.text)


class Tree(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node('#root', [], None)
        self.cur = self.root

    def handle_starttag(self, tag, attrs):
        node = Node(tag, attrs, self.cur)
        self.cur.children.append(node)
        if tag not in VOID:
            self.cur = node

    def handle_startendtag(self, tag, attrs):
        self.cur.children.append(Node(tag, attrs, self.cur))

    def handle_endtag(self, tag):
        n = self.cur
        while n is not self.root and n.tag != tag:
            n = n.parent
        if n is not self.root:
            self.cur = n.parent

    def handle_data(self, data):
        self.cur.text.append(data)


def num(v):
    return v if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) else None


# ---- what the data implies (docs/compare.md schemas) ------------------------------------------

def cdf_points(upper, histogram):
    """Points per side: buckets from the first to the last non-zero of either side, with a bound > 0."""
    if not isinstance(upper, list) or not isinstance(histogram, dict):
        return [0, 0]
    sides = [histogram.get(s) if isinstance(histogram.get(s), list) else [] for s in ('online', 'target')]
    sides = [s[:len(upper)] for s in sides]
    nonzero = [i for s in sides for i, c in enumerate(s) if (num(c) or 0) > 0]
    if not nonzero:
        return [0, 0]
    lo, hi = min(nonzero), max(nonzero)
    out = []
    for s in sides:
        if not any((num(c) or 0) > 0 for c in s):
            out.append(0)
            continue
        out.append(sum(1 for i in range(lo, min(hi, len(s) - 1) + 1) if (num(upper[i]) or 0) > 0))
    return out


def series_points(intervals, path):
    n = 0
    for line in intervals:
        v = line
        for key in path:
            v = v.get(key) if isinstance(v, dict) else None
        n += num(line.get('t')) is not None and num(v) is not None
    return n


def expected_charts(data):
    report = data.get('report') if isinstance(data.get('report'), dict) else {}
    compare = report.get('compare') if isinstance(report.get('compare'), dict) else None
    intervals = [i for i in data.get('intervals', []) if isinstance(i, dict)]
    exp = {}
    hist = compare.get('histogram') if compare else None
    upper = hist.get('upper_us') if isinstance(hist, dict) else None
    exp['cdf-overall'] = sum(cdf_points(upper, hist)) if isinstance(hist, dict) else 0
    endpoints = [e for e in (compare.get('endpoints') or []) if isinstance(e, dict)] if compare else []
    if isinstance(hist, dict):
        drawn = [e for e in endpoints if sum(cdf_points(upper, e.get('histogram'))) > 0]
        drawn.sort(key=lambda e: -(num(e.get('exchanges')) or 0))
        for i, e in enumerate(drawn[:MAX_ENDPOINT_CDFS]):
            exp[f'cdf-endpoint-{i}'] = sum(cdf_points(upper, e.get('histogram')))
    exp['rates-chart'] = sum(series_points(intervals, ['rates', k])
                             for k in ('captured_per_s', 'sent_per_s', 'requests_per_s'))
    exp['loss-chart'] = sum(series_points(intervals, p) for p in (['lost'], ['filtered'], ['compare', 'different_status']))
    return exp, compare, endpoints


def diverging(endpoints):
    """As the page picks them: most different statuses first, then most divergence; ten at most."""
    diff = lambda e: num(e.get('different_status')) or 0
    div = lambda e: diff(e) + (num(e.get('length_mismatch')) or 0)
    return sorted((e for e in endpoints if div(e) > 0), key=lambda e: (-diff(e), -div(e)))[:MAX_DIVERGING]


# ---- checks ---------------------------------------------------------------------------------

def path_points(d):
    return len(re.findall(r'[ML]', d or ''))


def check_chart(by_id, cid, expected, errors):
    box = by_id.get(cid)
    if box is None:
        return errors.append(f'{cid}: chart container missing')
    shown = box.attrs.get('data-points')
    if shown is None:
        return errors.append(f'{cid}: no data-points attribute: the chart was not drawn')
    if int(shown) != expected:
        return errors.append(f'{cid}: data-points={shown}, the data implies {expected}')
    paths = [n for n in box.walk() if n.tag == 'path' and 'series' in n.attrs.get('class', '')]
    in_paths = sum(path_points(p.attrs.get('d')) for p in paths)
    if expected == 0:
        if not any(n.attrs.get('class') == 'empty' for n in box.walk()):
            errors.append(f'{cid}: no data, and no message saying so')
        return print(f'  {cid}: no data, says so')
    # a line has two points at least, unless the data has one point per series (a short run)
    least = 1 if expected <= len(paths) else 2
    if in_paths != expected or any(path_points(p.attrs.get('d')) < least for p in paths):
        return errors.append(f'{cid}: svg paths hold {in_paths} points in {len(paths)} paths, expected {expected}')
    ticks = [n for n in box.walk() if 'tick' in n.attrs.get('class', '').split()]
    if len(ticks) < 4:
        return errors.append(f'{cid}: {len(ticks)} axis ticks')
    print(f'  {cid}: {len(paths)} paths, {in_paths} points, {len(ticks)} ticks')


def check_tables(by_id, compare, endpoints, errors):
    pairs = [p for p in (compare.get('statuses') or []) if isinstance(p, dict)] if compare else []
    table = by_id.get('status-table')
    rows = [n for n in table.walk() if n.tag == 'tr' and n.parent.tag == 'tbody'] if table else []
    if len(rows) != len(pairs) or (pairs and table is None):
        errors.append(f'status table: {len(rows)} rows, {len(pairs)} status pairs in the data')
    else:
        print(f'  status table: {len(rows)} rows')
    box = by_id.get('diverging-endpoints')
    want = diverging(endpoints)
    samples = sum(len([s for s in (e.get('samples') or []) if isinstance(s, dict)]) for e in want)
    if box is None or box.attrs.get('data-points', '0') != str(len(want)) or box.attrs.get('data-samples') != str(samples):
        errors.append(f'diverging endpoints: shown {box.attrs if box else None}, expected {len(want)} endpoints, {samples} samples')
    else:
        print(f'  diverging endpoints: {len(want)}, {samples} samples')
    text = box.all_text() if box else ''
    for e in want:
        if str(e.get('endpoint', '')) not in text:
            errors.append(f'diverging endpoints: {e.get("endpoint")!r} not shown as text')


def check_not_markup(root, errors):
    nodes = list(root.walk())
    if any(n.tag == 'img' for n in nodes):
        errors.append('an <img> element is in the DOM: a string from the data became markup')
    if any(k.startswith('data-pwned') for n in nodes for k in n.attrs):
        errors.append('data-pwned is set: script from the data ran')
    body = next((n for n in nodes if n.tag == 'body'), None)
    if body is None or body.attrs.get('data-rendered') != 'true':
        errors.append('the report script did not run to its end (no body data-rendered="true")')


def main(path):
    tree = Tree()
    with open(path, encoding='utf-8', errors='replace') as f:
        tree.feed(f.read())
    by_id = {n.attrs['id']: n for n in tree.root.walk() if 'id' in n.attrs}
    errors = []
    block = by_id.get('report-data')
    if block is None:
        print('check_html_dom: FAIL: no report-data block', file=sys.stderr)
        return 1
    data = json.loads(block.all_text())
    expected, compare, endpoints = expected_charts(data)
    check_not_markup(tree.root, errors)
    for cid, n in expected.items():
        check_chart(by_id, cid, n, errors)
    check_tables(by_id, compare, endpoints, errors)
    for e in errors:
        print(f'check_html_dom: FAIL: {e}', file=sys.stderr)
    return 1 if errors else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
