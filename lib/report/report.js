// lib/report/report.js: draws the --html-report page (lib/report/README.md) with d3 v3 from the
// JSON in <script id="report-data">: {"report": <the --report object>, "intervals": [<the
// --stats-file lines>]}. The data comes from captures: every string from it reaches the DOM
// through d3's .text() or .attr() (textContent, attribute values), never as markup.
// Each chart container gets data-points="N": the number of points its paths hold.
(function () {
  'use strict';

  var MAX_ENDPOINT_CDFS = 6;
  var MAX_DIVERGING = 10;
  var fmtCount = d3.format(',');
  var fmtPercent = d3.format('.1%');
  var fmtMsValue = d3.format('.3g');

  function isObject(v) { return v !== null && typeof v === 'object' && !Array.isArray(v); }
  function num(v) { return typeof v === 'number' && isFinite(v) ? v : null; }
  function text(v) { return v === null || v === undefined ? '' : String(v); }
  function count(v) { return num(v) === null ? '–' : fmtCount(v); }
  function ms(v) { return num(v) === null ? '–' : fmtMsValue(v) + ' ms'; }
  function arrow(a, b) { return a + ' → ' + b; }
  // One decimal, but never rounded to 0 % or 100 % when it is not.
  function fmtShare(v) {
    if (v > 0 && v < 0.001) return '<0.1%';
    if (v < 1 && v > 0.999) return '>99.9%';
    return fmtPercent(v);
  }

  function readData() {
    var node = document.getElementById('report-data');
    try {
      var parsed = JSON.parse(node ? node.textContent : '{}');
      return isObject(parsed) ? parsed : {};
    } catch (e) {
      return {};
    }
  }

  function showEmpty(selection, message) {
    selection.append('p').attr('class', 'empty').text(message);
    selection.attr('data-points', 0);
  }

  // ---- headline ------------------------------------------------------------------------

  function tile(parent, label, value, bad) {
    var t = parent.append('div').attr('class', bad ? 'tile bad' : 'tile');
    t.append('div').attr('class', 'label').text(label);
    t.append('div').attr('class', 'value').text(value);
  }

  function percentile(latency, side, key) {
    return isObject(latency) && isObject(latency[side]) ? num(latency[side][key]) : null;
  }

  function drawHeadline(report, compare) {
    var section = d3.select('#headline');
    if (!compare) {
      showEmpty(section, 'No comparison in this report: its --report JSON has no "compare" object.');
    } else {
      var tiles = section.append('div').attr('class', 'tiles');
      var compared = num(compare.compared) !== null ? compare.compared : num(compare.exchanges);
      var same = num(compare.same_status);
      tile(tiles, 'exchanges', count(compare.exchanges));
      tile(tiles, 'same status', compared && same !== null ? fmtShare(same / compared) : '–',
           compared && same !== null && same < compared);
      tile(tiles, 'different status', count(compare.different_status), compare.different_status > 0);
      tile(tiles, 'length mismatches', count(compare.length_mismatch), compare.length_mismatch > 0);
      tile(tiles, 'status unknown', count(compare.unknown_status));
      [['p50', 'p50'], ['p99', 'p99'], ['p99.9', 'p999']].forEach(function (p) {
        tile(tiles, 'latency ' + p[0] + ' online → target',
             arrow(ms(percentile(compare.latency_ms, 'online', p[1])),
                   ms(percentile(compare.latency_ms, 'target', p[1]))));
      });
      section.attr('data-points', tiles.selectAll('.tile').size());
    }
    drawRunLine(section, report);
  }

  // A few figures of the run itself, those the report has.
  function drawRunLine(section, report) {
    var parts = [];
    [['version', 'dpcopy '], ['mode', 'mode '], ['input', 'input ']].forEach(function (f) {
      if (typeof report[f[0]] === 'string') parts.push(f[1] + report[f[0]]);
    });
    if (num(report.elapsed_s) !== null) parts.push(fmtMsValue(report.elapsed_s) + ' s');
    if (num(report.workers) !== null) parts.push(count(report.workers) + ' workers');
    if (num(report.lost_total) !== null) parts.push(count(report.lost_total) + ' lost');
    if (num(report.filtered_total) !== null) parts.push(count(report.filtered_total) + ' filtered');
    if (parts.length) section.append('div').attr('class', 'run').text(parts.join(' · '));
  }

  // ---- line charts ---------------------------------------------------------------------

  // series: [{name, points: [[x, y], ...]}]; opts: {width, height, xLog, xLabel, yLabel,
  // yFormat, yMax}. Draws one path per series with points; returns the points drawn.
  function lineChart(container, series, opts) {
    var drawn = series.filter(function (s) { return s.points.length > 0; });
    var all = [].concat.apply([], drawn.map(function (s) { return s.points; }));
    if (!all.length) return 0;
    var m = {top: 24, right: 16, bottom: 40, left: 64};
    var w = opts.width - m.left - m.right, h = opts.height - m.top - m.bottom;
    var xDomain = d3.extent(all, function (p) { return p[0]; });
    if (xDomain[0] === xDomain[1]) xDomain = opts.xLog ? [xDomain[0] / 2, xDomain[1] * 2] : [xDomain[0] - 1, xDomain[1] + 1];
    var x = (opts.xLog ? d3.scale.log() : d3.scale.linear()).domain(xDomain).range([0, w]);
    var yMax = opts.yMax || d3.max(all, function (p) { return p[1]; }) || 1;
    var y = d3.scale.linear().domain([0, yMax]).range([h, 0]).nice();
    var svg = container.append('svg').attr('width', opts.width).attr('height', opts.height)
      .append('g').attr('transform', 'translate(' + m.left + ',' + m.top + ')');
    var xAxis = d3.svg.axis().scale(x).orient('bottom').ticks(6);
    if (opts.xLog) xAxis.tickFormat(x.tickFormat(opts.width > 500 ? 6 : 4, d3.format('.2g')));
    svg.append('g').attr('class', 'axis x-axis').attr('transform', 'translate(0,' + h + ')').call(xAxis);
    svg.append('g').attr('class', 'axis y-axis')
      .call(d3.svg.axis().scale(y).orient('left').ticks(5).tickFormat(opts.yFormat || d3.format('s')));
    svg.append('text').attr('class', 'axis-label').attr('x', w).attr('y', h + 34)
      .attr('text-anchor', 'end').text(opts.xLabel);
    svg.append('text').attr('class', 'axis-label').attr('transform', 'rotate(-90)')
      .attr('x', 0).attr('y', -50).attr('text-anchor', 'end').text(opts.yLabel);
    var line = d3.svg.line().x(function (p) { return x(p[0]); }).y(function (p) { return y(p[1]); });
    var total = 0;
    series.forEach(function (s, i) {
      if (!s.points.length) return;
      svg.append('path').attr('class', 'series s' + i).attr('data-series', s.name)
        .attr('data-points', s.points.length).attr('d', line(s.points));
      total += s.points.length;
    });
    drawLegend(svg, series);
    return total;
  }

  // One row above the plot area.
  function drawLegend(svg, series) {
    var legend = svg.append('g').attr('class', 'legend').attr('transform', 'translate(0,-12)');
    var x = 0;
    series.forEach(function (s, i) {
      if (!s.points.length) return;
      var g = legend.append('g').attr('transform', 'translate(' + x + ',0)');
      g.append('rect').attr('class', 's' + i).attr('width', 12).attr('height', 3).attr('y', -4);
      g.append('text').attr('x', 16).attr('y', 0).text(s.name);
      x += 30 + 7 * s.name.length;
    });
  }

  // ---- latency CDFs ----------------------------------------------------------------------

  function firstLastNonZero(arrays) {
    var lo = Infinity, hi = -Infinity;
    arrays.forEach(function (a) {
      a.forEach(function (c, i) {
        if (num(c) > 0) { lo = Math.min(lo, i); hi = Math.max(hi, i); }
      });
    });
    return [lo, hi];
  }

  // CDF points (latency in ms, fraction at or below) for buckets lo..hi with a usable bound;
  // none when the side has no counts.
  function cdfPoints(upperUs, counts, lo, hi) {
    var total = d3.sum(counts, function (c) { return num(c) > 0 ? c : 0; });
    var points = [], cumulative = 0;
    if (!total) return points;
    for (var i = 0; i <= hi && i < counts.length; ++i) {
      cumulative += num(counts[i]) > 0 ? counts[i] : 0;
      var upper = num(upperUs[i]);
      if (i >= lo && upper !== null && upper > 0) points.push([upper / 1000, cumulative / total]);
    }
    return points;
  }

  function cdfSeries(upperUs, histogram) {
    if (!Array.isArray(upperUs) || !isObject(histogram)) return [];
    var sides = ['online', 'target'].map(function (side) {
      return Array.isArray(histogram[side]) ? histogram[side].slice(0, upperUs.length) : [];
    });
    var range = firstLastNonZero(sides);
    return sides.map(function (counts, i) {
      return {name: i === 0 ? 'online' : 'target', points: cdfPoints(upperUs, counts, range[0], range[1])};
    });
  }

  function cdfChart(container, upperUs, histogram, size) {
    var n = lineChart(container, cdfSeries(upperUs, histogram), {
      width: size[0], height: size[1], xLog: true, xLabel: 'latency (ms, log scale)',
      yLabel: 'fraction of exchanges', yMax: 1, yFormat: d3.format('.0%')});
    if (!n) showEmpty(container, 'No latency histogram for this.');
    container.attr('data-points', n);
    return n;
  }

  function byExchanges(a, b) { return (num(b.exchanges) || 0) - (num(a.exchanges) || 0); }

  function drawLatency(compare) {
    var overall = d3.select('#cdf-overall');
    var multiples = d3.select('#cdf-endpoints').attr('data-charts', 0);
    if (!compare || !isObject(compare.histogram)) {
      showEmpty(overall, 'No latency histogram in this report.');
      return;
    }
    var upperUs = compare.histogram.upper_us;
    cdfChart(overall, upperUs, compare.histogram, [900, 320]);
    var endpoints = (Array.isArray(compare.endpoints) ? compare.endpoints : [])
      .filter(function (e) { return isObject(e) && cdfSeries(upperUs, e.histogram).some(function (s) { return s.points.length; }); })
      .sort(byExchanges).slice(0, MAX_ENDPOINT_CDFS);
    endpoints.forEach(function (e, i) {
      var box = multiples.append('div');
      box.append('h3').text(text(e.endpoint) + ' (' + count(e.exchanges) + ' exchanges)');
      cdfChart(box.append('div').attr('id', 'cdf-endpoint-' + i).attr('class', 'chart'),
               upperUs, e.histogram, [380, 220]);
    });
    multiples.attr('data-charts', endpoints.length);
  }

  // ---- status table ----------------------------------------------------------------------

  function statusTable(parent, pairs, total) {
    var table = parent.append('table');
    var head = table.append('thead').append('tr');
    ['online', 'target', 'count', 'share'].forEach(function (h, i) {
      head.append('th').attr('class', i > 1 ? 'num' : null).text(h);
    });
    var body = table.append('tbody');
    pairs.forEach(function (p) {
      var row = body.append('tr').attr('class', text(p.online) === text(p.target) ? null : 'differs');
      row.append('td').attr('class', 'text').text(text(p.online));
      row.append('td').attr('class', 'text').text(text(p.target));
      row.append('td').attr('class', 'num').text(count(p.count));
      row.append('td').attr('class', 'num').text(total && num(p.count) !== null ? fmtShare(p.count / total) : '–');
    });
    return table;
  }

  function drawStatusTable(compare) {
    var container = d3.select('#status-pairs');
    var pairs = compare && Array.isArray(compare.statuses) ? compare.statuses.filter(isObject) : [];
    if (!pairs.length) {
      showEmpty(container, compare ? 'No status pairs in this report.' : 'No comparison in this report.');
      container.attr('data-rows', 0);
      return;
    }
    pairs = pairs.slice().sort(function (a, b) { return (num(b.count) || 0) - (num(a.count) || 0); });
    var total = d3.sum(pairs, function (p) { return num(p.count) || 0; });
    statusTable(container, pairs, total).attr('id', 'status-table');
    container.attr('data-rows', pairs.length).attr('data-points', pairs.length);
  }

  // ---- over time ---------------------------------------------------------------------------

  function field(line, path) {
    var v = line;
    for (var i = 0; i < path.length; ++i) v = isObject(v) ? v[path[i]] : undefined;
    return num(v);
  }

  // [t, value] for each interval with both.
  function seriesOf(intervals, path) {
    var points = [];
    intervals.forEach(function (line) {
      var t = field(line, ['t']), v = field(line, path);
      if (t !== null && v !== null) points.push([t, v]);
    });
    return points;
  }

  // The lines hold running totals: their increase per second since the previous line (or t = 0).
  function perSecond(points) {
    var prev = [0, 0];
    return points.map(function (p) {
      var dt = p[0] - prev[0];
      var rate = dt > 0 ? Math.max(0, p[1] - prev[1]) / dt : 0;
      prev = p;
      return [p[0], rate];
    });
  }

  function timeChart(id, series, yLabel, emptyMessage) {
    var container = d3.select(id);
    var n = lineChart(container, series, {width: 580, height: 260, xLabel: 'time since start (s)', yLabel: yLabel});
    if (!n) showEmpty(container, emptyMessage);
    container.attr('data-points', n);
  }

  function drawOverTime(intervals) {
    if (!intervals.length) {
      var none = 'No status intervals in this report (run dpcopy with --stats-file to plot rates and loss).';
      showEmpty(d3.select('#rates-chart'), none);
      showEmpty(d3.select('#loss-chart'), none);
      return;
    }
    timeChart('#rates-chart', [
      {name: 'captured packets/s', points: seriesOf(intervals, ['rates', 'captured_per_s'])},
      {name: 'sent packets/s', points: seriesOf(intervals, ['rates', 'sent_per_s'])},
      {name: 'requests/s', points: seriesOf(intervals, ['rates', 'requests_per_s'])}
    ], 'per second', 'The status intervals hold no rates.');
    timeChart('#loss-chart', [
      {name: 'lost/s', points: perSecond(seriesOf(intervals, ['lost']))},
      {name: 'filtered/s', points: perSecond(seriesOf(intervals, ['filtered']))},
      {name: 'different status/s', points: perSecond(seriesOf(intervals, ['compare', 'different_status']))}
    ], 'per second', 'The status intervals hold no loss counters.');
  }

  // ---- diverging endpoints -------------------------------------------------------------------

  function divergence(e) { return (num(e.different_status) || 0) + (num(e.length_mismatch) || 0); }

  function endpointFigures(e) {
    var lat = e.latency_ms;
    return count(e.exchanges) + ' exchanges · ' + count(e.different_status) + ' different status · ' +
      count(e.length_mismatch) + ' length mismatches · p50 ' +
      arrow(ms(percentile(lat, 'online', 'p50')), ms(percentile(lat, 'target', 'p50'))) + ' · p99 ' +
      arrow(ms(percentile(lat, 'online', 'p99')), ms(percentile(lat, 'target', 'p99')));
  }

  var SAMPLE_COLUMNS = [
    ['request', function (s) { return text(s.request); }, 'text'],
    ['online', function (s) { return text(s.online_status); }, 'text'],
    ['target', function (s) { return text(s.target_status); }, 'text'],
    ['bytes online → target', function (s) { return arrow(count(s.online_bytes), count(s.target_bytes)); }, 'num'],
    ['latency online → target', function (s) { return arrow(ms(s.online_ms), ms(s.target_ms)); }, 'num'],
    ['replica', function (s) { return count(s.replica); }, 'num']
  ];

  function samplesTable(parent, samples) {
    var table = parent.append('table').attr('class', 'samples');
    var head = table.append('thead').append('tr');
    SAMPLE_COLUMNS.forEach(function (c) { head.append('th').attr('class', c[2]).text(c[0]); });
    var body = table.append('tbody');
    samples.forEach(function (s) {
      var row = body.append('tr');
      SAMPLE_COLUMNS.forEach(function (c) { row.append('td').attr('class', c[2]).text(c[1](s)); });
    });
  }

  function drawEndpoint(parent, e) {
    var box = parent.append('div').attr('class', 'endpoint');
    box.append('h3').text(text(e.endpoint) + (e.protocol ? ' [' + text(e.protocol) + ']' : ''));
    box.append('div').attr('class', 'figures').text(endpointFigures(e));
    var pairs = Array.isArray(e.statuses) ? e.statuses.filter(isObject) : [];
    var differing = pairs.filter(function (p) { return text(p.online) !== text(p.target); });
    if (differing.length) statusTable(box, differing, num(e.exchanges));
    var samples = Array.isArray(e.samples) ? e.samples.filter(isObject) : [];
    if (samples.length) samplesTable(box, samples);
    else box.append('p').attr('class', 'note').text('No samples kept for this endpoint.');
    return samples.length;
  }

  function drawDiverging(compare) {
    var container = d3.select('#diverging-endpoints').attr('data-samples', 0);
    if (!compare) {
      showEmpty(container, 'No comparison in this report.');
      return;
    }
    var endpoints = (Array.isArray(compare.endpoints) ? compare.endpoints : [])
      .filter(function (e) { return isObject(e) && divergence(e) > 0; })
      .sort(function (a, b) {
        return (num(b.different_status) || 0) - (num(a.different_status) || 0) || divergence(b) - divergence(a);
      }).slice(0, MAX_DIVERGING);
    if (!endpoints.length) {
      showEmpty(container, 'No endpoint diverges: every compared exchange had the same status and length.');
      return;
    }
    var samples = 0;
    endpoints.forEach(function (e) { samples += drawEndpoint(container, e); });
    container.attr('data-points', endpoints.length).attr('data-samples', samples);
    var notes = [];
    if (num(compare.endpoints_other) > 0) notes.push(count(compare.endpoints_other) + ' exchanges counted as "other" (endpoint table full)');
    if (num(compare.diffs_not_logged) > 0) notes.push(count(compare.diffs_not_logged) + ' differing exchanges not logged');
    if (notes.length) container.append('p').attr('class', 'note').text(notes.join('; ') + '.');
  }

  var data = readData();
  var report = isObject(data.report) ? data.report : {};
  var compare = isObject(report.compare) ? report.compare : null;
  var intervals = Array.isArray(data.intervals) ? data.intervals.filter(isObject) : [];
  drawHeadline(report, compare);
  drawLatency(compare);
  drawStatusTable(compare);
  drawOverTime(intervals);
  drawDiverging(compare);
  document.body.setAttribute('data-rendered', 'true');
})();
