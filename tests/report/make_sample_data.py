#!/usr/bin/env python3
"""Writes tests/data/compare_report_sample.json and compare_intervals_sample.jsonl: a made-up but
realistic 30 s comparison run (docs/compare.md schemas) for the HTML report tests. Deterministic;
rerun only to change the sample: python3 tests/report/make_sample_data.py tests/data"""
import json
import math
import random
import sys

HOSTILE = '</script><img src=x onerror="document.body.setAttribute(\'data-pwned\',\'1\')">'
UPPER_US = sorted({max(1, round(10 ** (k / 10))) for k in range(0, 71)})  # 1 us .. 10 s

# endpoint, protocol, exchanges, online median ms, target slowdown, differing pairs, length mismatches
ENDPOINTS = [
    ('GET /users/{id}', 'http', 6000, 0.40, 1.2, [('200', '404', 40)], 3),
    ('POST /orders', 'http', 3000, 1.10, 1.1, [('200', '500', 12)], 0),
    ('GET /search', 'http', 2500, 2.00, 3.5, [], 0),
    ('GET /static/{id}', 'http', 2000, 0.20, 1.0, [], 9),
    ('GET', 'redis', 1200, 0.08, 1.3, [('$', 'nil', 7)], 0),
    ('SELECT', 'postgresql', 295, 0.90, 1.2, [], 0),
    ('GET /x' + HOSTILE, 'http', 3, 0.50, 1.0, [('200', '<b>502</b>', 3)], 0),
]
SAME = {'http': '200', 'redis': '$', 'postgresql': 'ok'}


def histogram(rng, n, median_ms):
    counts = [0] * len(UPPER_US)
    for _ in range(n):
        us = median_ms * 1000 * math.exp(rng.gauss(0, 0.6))
        i = next((i for i, u in enumerate(UPPER_US) if us <= u), len(UPPER_US) - 1)
        counts[i] += 1
    return counts


def percentiles(counts):
    total, out, cum = sum(counts), {}, 0
    targets = {'p50': 0.5, 'p90': 0.9, 'p99': 0.99, 'p999': 0.999}
    for i, c in enumerate(counts):
        cum += c
        for k, q in targets.items():
            if k not in out and total and cum >= q * total:
                out[k] = UPPER_US[i] / 1000
    return out


def sample(endpoint, protocol, online, target, rng, k):
    path = endpoint.split(' ', 1)[-1].replace('{id}', str(17 + k))
    request = f"{endpoint.split(' ')[0]} {path} HTTP/1.1" if protocol == 'http' else f'{endpoint} key:{k}'
    return {'endpoint': endpoint, 'protocol': protocol, 'request': request, 'online_status': online,
            'target_status': target, 'online_bytes': 612 + k, 'target_bytes': 153 + k,
            'online_ms': round(rng.uniform(0.2, 2), 3), 'target_ms': round(rng.uniform(0.2, 3), 3),
            'replica': k % 2}


def endpoint_entry(rng, spec):
    name, protocol, n, median, slow, pairs, mismatches = spec
    same_status = SAME[protocol]
    differing = sum(c for _, _, c in pairs)
    online, target = histogram(rng, n, median), histogram(rng, n, median * slow)
    statuses = [{'online': same_status, 'target': same_status, 'count': n - differing}]
    statuses += [{'online': o, 'target': t, 'count': c} for o, t, c in pairs]
    samples = [sample(name, protocol, o, t, rng, k) for o, t, c in pairs for k in range(min(3, c))][:3]
    return {'endpoint': name, 'protocol': protocol, 'exchanges': n, 'same_status': n - differing,
            'different_status': differing, 'length_mismatch': mismatches, 'unknown_status': 0,
            'statuses': statuses,
            'latency_ms': {'online': percentiles(online), 'target': percentiles(target)},
            'histogram': {'online': online, 'target': target}, 'samples': samples}


def compare_object(endpoints):
    total = lambda key: sum(e[key] for e in endpoints)
    online = [sum(col) for col in zip(*(e['histogram']['online'] for e in endpoints))]
    target = [sum(col) for col in zip(*(e['histogram']['target'] for e in endpoints))]
    pairs = {}
    for e in endpoints:
        for p in e['statuses']:
            pairs[(p['online'], p['target'])] = pairs.get((p['online'], p['target']), 0) + p['count']
    return {'exchanges': total('exchanges') + 2, 'compared': total('exchanges'),
            'same_status': total('same_status'), 'different_status': total('different_status'),
            'length_mismatch': total('length_mismatch'), 'unknown_status': 2,
            'latency_ms': {'online': percentiles(online), 'target': percentiles(target)},
            'histogram': {'upper_us': UPPER_US, 'online': online, 'target': target},
            'statuses': [{'online': o, 'target': t, 'count': c} for (o, t), c in
                         sorted(pairs.items(), key=lambda kv: -kv[1])],
            'endpoints': endpoints, 'endpoints_other': 0,
            'diffs_logged': total('different_status'), 'diffs_not_logged': 0}


def intervals(rng, compare):
    lines, captured, sent, requests, lost, exchanges, different = [], 0, 0, 0, 0, 0, 0
    for t in range(1, 31):
        per_s = 500 + 20 * math.sin(t / 4) + rng.uniform(-10, 10)
        captured += round(per_s * 4); sent += round(per_s * 4 * 0.995); requests += round(per_s)
        lost += 25 if t in (12, 13) else 0
        exchanges = min(compare['exchanges'], exchanges + round(per_s))
        different = round(compare['different_status'] * t / 30)
        lines.append({'t': float(t), 'time': f'2026-12-07T10:00:{t:02d}Z', 'captured': captured,
                      'sent': sent, 'requests': requests, 'lost': lost, 'filtered': 3 * t,
                      'sessions': 50 + t % 7,
                      'rates': {'captured_per_s': round(per_s * 4, 1), 'sent_per_s': round(per_s * 4 * 0.995, 1),
                                'requests_per_s': round(per_s, 1)},
                      'compare': {'exchanges': exchanges, 'same_status': exchanges - different,
                                  'different_status': different, 'length_mismatch': round(12 * t / 30)}})
    return lines


def main(out_dir):
    rng = random.Random(15)
    compare = compare_object([endpoint_entry(rng, spec) for spec in ENDPOINTS])
    report = {'version': '0.1.0', 'mode': 'offline', 'input': 'captures/prod-' + HOSTILE + '.pcap',
              'end': 'input done', 'exit_status': 0, 'elapsed_s': 30.2, 'workers': 2,
              'drops_total': 140, 'lost_total': 50, 'filtered_total': 90,
              'lost': {'drop_rx_nombuf': 50}, 'filtered': {'drop_captured_not_tcp': 90},
              'compare': compare}
    with open(f'{out_dir}/compare_report_sample.json', 'w') as f:
        json.dump(report, f, indent=1)
        f.write('\n')
    with open(f'{out_dir}/compare_intervals_sample.jsonl', 'w') as f:
        for line in intervals(rng, compare):
            f.write(json.dumps(line) + '\n')


if __name__ == '__main__':
    main(sys.argv[1] if len(sys.argv) > 1 else 'tests/data')
