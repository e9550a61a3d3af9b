#!/usr/bin/env python3
"""Queries a real Prometheus server and checks a Grafana dashboard against
it.  Standard library only.  Used by prometheus-e2e.sh and
grafana-panels.sh (through prom-lib.sh).

  promcheck.py wait URL DEADLINE_S EXPR...
      polls /api/v1/query until every EXPR has returned, at least once, a
      non-empty result with a non-NaN value; an invalid EXPR (status error)
      fails at once.
  promcheck.py scrape-health URL N_TARGETS
      every target of the server is up with no scrape error, there are
      N_TARGETS of them, and the server dropped no sample as a duplicate,
      out of order or out of bounds.
  promcheck.py dashboard-lint DASHBOARD
      static checks of a dashboard meant for file provisioning.
  promcheck.py panels URL DEADLINE_S DASHBOARD [--allow-empty TITLE]...
      dashboard-lint, then every template variable query and every panel
      target expression, with the variables substituted, through `wait`.
"""

import json
import math
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

DS = {'type': 'prometheus', 'uid': '${DS_PROMETHEUS}'}
# what the panel test substitutes for Grafana's built-in variables
BUILTINS = {
    '__rate_interval': '10s',
    '__interval': '2s',
    '__interval_ms': '2000',
    '__range': '1m',
    '__range_s': '60',
    '__range_ms': '60000',
}


def fail(msg):
    print('promcheck: FAIL: %s' % msg, file=sys.stderr)
    sys.exit(1)


def log(msg):
    print('promcheck: %s' % msg, file=sys.stderr)


def http_json(url, timeout=5):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return json.load(r)
    except urllib.error.HTTPError as e:
        # Prometheus answers 400/422 with a JSON body for bad expressions
        try:
            return json.load(e)
        except ValueError:
            return {'status': 'error', 'error': 'HTTP %d' % e.code}


def query(base, expr):
    url = '%s/api/v1/query?%s' % (base, urllib.parse.urlencode(
        {'query': expr}))
    return http_json(url)


def usable(result):
    """(ok, description) for a successful /api/v1/query answer."""
    data = result.get('data', {})
    rtype = data.get('resultType')
    res = data.get('result')
    if rtype == 'scalar':
        values = [res[1]]
    elif rtype == 'vector':
        values = [item['value'][1] for item in res]
    else:
        return False, 'result type %s (an instant vector or scalar is ' \
            'expected)' % rtype
    if not values:
        return False, 'empty result'
    good = [v for v in values if not math.isnan(float(v))]
    if not good:
        return False, '%d series, all NaN' % len(values)
    return True, '%d series, %d non-NaN' % (len(values), len(good))


def wait_exprs(base, deadline_s, named, allow_empty=()):
    """named: list of (name, expr).  Latches each expression's first usable
    answer.  Fails at once on a status error."""
    deadline = time.monotonic() + deadline_s
    pending = dict(named)
    last = {}
    while True:
        for name, expr in list(pending.items()):
            r = query(base, expr)
            if r.get('status') != 'success':
                fail('%s: invalid expression: %s\n    %s'
                     % (name, r.get('error', r), expr))
            ok, desc = usable(r)
            last[name] = desc
            if ok:
                log('ok: %s (%s)' % (name, desc))
                del pending[name]
        if not [n for n in pending if n not in allow_empty]:
            break
        if time.monotonic() >= deadline:
            break
        time.sleep(0.5)
    bad = [n for n in pending if n not in allow_empty]
    for n in pending:
        if n in allow_empty:
            log('allowed empty: %s (%s)' % (n, last.get(n)))
    if bad:
        fail('no usable result within %d s for:\n%s' % (deadline_s, '\n'.join(
            '  %s: %s\n    %s' % (n, last.get(n), dict(named)[n])
            for n in bad)))


def cmd_wait(argv):
    base, deadline = argv[0], float(argv[1])
    wait_exprs(base, deadline, [(e, e) for e in argv[2:]])


def cmd_scrape_health(argv):
    base, n_targets = argv[0], int(argv[1])
    t = http_json(base + '/api/v1/targets?state=active')
    targets = t.get('data', {}).get('activeTargets', [])
    if len(targets) != n_targets:
        fail('%d active targets, expected %d' % (len(targets), n_targets))
    for tg in targets:
        if tg.get('health') != 'up' or tg.get('lastError'):
            fail('target %s: health %s, last error %r' % (
                tg.get('scrapeUrl'), tg.get('health'), tg.get('lastError')))
        log('target %s up (last scrape %.1f ms)' % (
            tg.get('scrapeUrl'), 1000 * tg.get('lastScrapeDuration', 0)))
    with urllib.request.urlopen(base + '/metrics', timeout=5) as r:
        own = r.read().decode()
    for m in ('prometheus_target_scrapes_sample_duplicate_timestamp_total',
              'prometheus_target_scrapes_sample_out_of_order_total',
              'prometheus_target_scrapes_sample_out_of_bounds_total',
              'prometheus_target_scrapes_exceeded_sample_limit_total'):
        v = re.search(r'^%s(?:\{[^}]*\})? (\S+)$' % m, own, re.M)
        if not v:
            fail('prometheus does not export %s' % m)
        if float(v.group(1)) != 0:
            fail('%s = %s: samples were dropped' % (m, v.group(1)))
    log('no sample dropped (duplicate, out of order, out of bounds)')


# ---------------------------------------------------------------- dashboard

def all_panels(panels):
    for p in panels:
        yield p
        for sub in p.get('panels', []) or []:
            yield sub


def dashboard_lint(path):
    with open(path, encoding='utf-8') as f:
        d = json.load(f)
    problems = []
    for key in ('title', 'uid', 'schemaVersion', 'panels', 'templating'):
        if key not in d:
            problems.append('no "%s"' % key)
    if '__inputs' in d:
        problems.append('"__inputs" works for manual import only: use the '
                        'DS_PROMETHEUS datasource variable for provisioning')
    if d.get('id') is not None:
        problems.append('"id" must be null in a provisioned dashboard')
    variables = {v.get('name'): v for v in d.get('templating', {})
                 .get('list', [])}
    ds = variables.get('DS_PROMETHEUS')
    if not ds or ds.get('type') != 'datasource' or \
            ds.get('query') != 'prometheus':
        problems.append('no datasource variable DS_PROMETHEUS '
                        '(type "datasource", query "prometheus")')
    pv = variables.get('pipeline')
    if not pv or 'label_values(apm_pipeline_state' not in \
            json.dumps(pv.get('query', '')) or pv.get('type') != 'query':
        problems.append('no query variable "pipeline" from '
                        'label_values(apm_pipeline_state..., pipeline)')
    for name, v in variables.items():
        if v.get('type') == 'query' and v.get('datasource') != DS:
            problems.append('variable %s: datasource %r, expected %r'
                            % (name, v.get('datasource'), DS))
    ids = set()
    n_targets = 0
    for p in all_panels(d.get('panels', [])):
        title = p.get('title', '?')
        pid = p.get('id')
        if pid in ids:
            problems.append('panel %r: id %r used twice' % (title, pid))
        ids.add(pid)
        gp = p.get('gridPos', {})
        if not all(k in gp for k in ('x', 'y', 'w', 'h')):
            problems.append('panel %r: incomplete gridPos' % title)
        if p.get('type') == 'row':
            continue
        if p.get('datasource') != DS:
            problems.append('panel %r: datasource %r, expected %r'
                            % (title, p.get('datasource'), DS))
        targets = p.get('targets') or []
        if not targets:
            problems.append('panel %r: no targets' % title)
        refids = set()
        for t in targets:
            n_targets += 1
            if t.get('datasource') != DS:
                problems.append('panel %r target %s: datasource %r, '
                                'expected %r' % (title, t.get('refId'),
                                                 t.get('datasource'), DS))
            if not (t.get('expr') or '').strip():
                problems.append('panel %r target %s: no expr'
                                % (title, t.get('refId')))
            if t.get('refId') in refids or not t.get('refId'):
                problems.append('panel %r: refId %r missing or used twice'
                                % (title, t.get('refId')))
            refids.add(t.get('refId'))
    if problems:
        fail('%s:\n  %s' % (path, '\n  '.join(problems)))
    log('%s: %d panels, %d targets, %d variables: static checks pass'
        % (path, len(ids), n_targets, len(variables)))
    return d


def substitute(expr, variables):
    """Grafana variables to what the test queries: query variables match
    everything (.*), built-ins get fixed durations."""
    values = dict(BUILTINS)
    for v in variables:
        if v.get('type') == 'query':
            values[v['name']] = '.*'
        elif v.get('type') in ('interval', 'custom', 'constant'):
            cur = v.get('current', {}).get('value') or v.get('query', '')
            values[v['name']] = str(cur).split(',')[0]

    def repl(m):
        name = m.group(1) or m.group(2) or m.group(3)
        if name in values:
            return values[name]
        return m.group(0)
    out = re.sub(r'\$\{(\w+)(?::\w+)?\}|\[\[(\w+)\]\]|\$(\w+)', repl, expr)
    if '$' in out:
        fail('unknown variable left in %r' % out)
    return out


def variable_exprs(variables):
    """label_values(SELECTOR, LABEL) -> (name, 'count by (LABEL) (SELECTOR)')
    so that a usable answer means the variable has values."""
    out = []
    for v in variables:
        if v.get('type') != 'query':
            continue
        q = v.get('query')
        if isinstance(q, dict):
            q = q.get('query', '')
        m = re.fullmatch(r'\s*label_values\((.*),\s*(\w+)\s*\)\s*', q or '')
        if not m:
            fail('variable %s: unsupported query %r' % (v['name'], q))
        sel = substitute(m.group(1), variables)
        out.append(('variable $%s' % v['name'],
                    'count by (%s) (%s)' % (m.group(2), sel)))
    return out


def cmd_dashboard_lint(argv):
    dashboard_lint(argv[0])


def cmd_panels(argv):
    base, deadline, path = argv[0], float(argv[1]), argv[2]
    allow = []
    rest = argv[3:]
    while rest:
        if rest[0] == '--allow-empty' and len(rest) > 1:
            allow.append(rest[1])
            rest = rest[2:]
        else:
            fail('unknown argument %r' % rest[0])
    d = dashboard_lint(path)
    variables = d['templating']['list']
    named = variable_exprs(variables)
    titles = set()
    for p in all_panels(d['panels']):
        if p.get('type') == 'row':
            continue
        titles.add(p['title'])
        for t in p['targets']:
            named.append(('%s [%s]' % (p['title'], t['refId']),
                          substitute(t['expr'], variables)))
    # every metric a panel names must exist, also where "or vector(0)" or a
    # filter would hide a misspelt name behind a usable answer
    metrics = {}
    for n, e in list(named):
        for m in re.findall(r'([a-zA-Z_:][a-zA-Z0-9_:]*)\{', e):
            metrics.setdefault(m, n)
    for m, n in sorted(metrics.items()):
        named.append(('metric %s (in %s)' % (m, n), 'count(%s)' % m))
    allow_names = set()
    for a in allow:
        if a not in titles:
            fail('--allow-empty %r: no such panel' % a)
        allow_names |= {n for n, _ in named if n.startswith(a + ' [')}
    log('%d expressions (%d allowed to stay empty)'
        % (len(named), len(allow_names)))
    wait_exprs(base, deadline, named, allow_names)


def main(argv):
    cmds = {'wait': cmd_wait, 'scrape-health': cmd_scrape_health,
            'dashboard-lint': cmd_dashboard_lint, 'panels': cmd_panels}
    if len(argv) < 2 or argv[1] not in cmds:
        print(__doc__, file=sys.stderr)
        return 2
    cmds[argv[1]](argv[2:])
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
