#!/usr/bin/env python3
"""Checks a Prometheus text exposition (format 0.0.4) for what promtool's
`check metrics` does not catch.  Standard library only.

usage: metrics_lint.py FILE [--expect-label NAME=VALUE]...

FILE is the raw /metrics body (bytes).  --expect-label asks that at least one
apm_pad_buffers_total series has label NAME whose *unescaped* value is exactly
VALUE (taken literally: quotes, backslashes, newlines, any UTF-8), to prove
that label values round-trip through the exposition's escaping.

Prints one line per problem ("lint: ...") and exits 1 if there is any.

Checks:
  - every line is a HELP, TYPE, other comment, blank, or a well-formed sample;
    the body is valid UTF-8
  - metric names match [a-zA-Z_:][a-zA-Z0-9_:]*, label names
    [a-zA-Z_][a-zA-Z0-9_]* and do not start with "__"; no label twice in a
    series
  - label values use only the escapes \\\\ \\" \\n
  - every family has exactly one HELP and one TYPE, both before its samples;
    a family's samples are contiguous (not interleaved with another family's)
  - counters end in _total, and only counters do; no family is named like
    another family's histogram series (X_bucket, X_sum, X_count)
  - a HELP text that starts with a unit ("Seconds ...", "Bytes ...") has that
    unit in the name
  - no duplicate series: same name and same label set twice
  - counters are >= 0 and not NaN
  - histograms, per series (label set without le): buckets with le strictly
    ascending, ending with le="+Inf"; cumulative counts non-decreasing and
    integral; _count present and equal to the +Inf bucket; _sum present; no
    _sum/_count without buckets; every series of a family has the same le set
  - le values are printed exactly: a value in the 6-significant-digit
    exponent form that C's "%g" produces (1.04858e+06) is a rounded bound
"""

import math
import re
import sys

NAME_RE = re.compile(r'[a-zA-Z_:][a-zA-Z0-9_:]*\Z')
LABEL_NAME_RE = re.compile(r'[a-zA-Z_][a-zA-Z0-9_]*\Z')
SAMPLE_NAME_RE = re.compile(r'([a-zA-Z_:][a-zA-Z0-9_:]*)')
PERCENT_G_RE = re.compile(r'[0-9]\.[0-9]{5}e[+-][0-9]+\Z')
TYPES = ('counter', 'gauge', 'histogram', 'summary', 'untyped')
UNIT_WORDS = {'seconds': '_seconds', 'bytes': '_bytes'}


class Problems:
    def __init__(self):
        self.items = []

    def add(self, lineno, msg):
        where = 'line %d: ' % lineno if lineno else ''
        self.items.append('lint: %s%s' % (where, msg))


def parse_float(text):
    """Go's strconv.ParseFloat as Prometheus reads sample values."""
    t = text.strip()
    if t in ('+Inf', 'Inf', '+inf', 'inf'):
        return math.inf
    if t in ('-Inf', '-inf'):
        return -math.inf
    if t in ('NaN', 'nan'):
        return math.nan
    if not re.fullmatch(r'[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?', t):
        raise ValueError(text)
    return float(t)


def parse_labels(text, pos, lineno, probs):
    """Parses '{a="x",b="y"}' starting at text[pos] == '{'.  Returns
    (list of (name, value), new pos) or raises ValueError."""
    assert text[pos] == '{'
    pos += 1
    labels = []
    while True:
        while pos < len(text) and text[pos] == ' ':
            pos += 1
        if pos < len(text) and text[pos] == '}':
            return labels, pos + 1
        m = re.compile(r'[^=\s{}",]*').match(text, pos)
        name = m.group(0)
        pos = m.end()
        if not LABEL_NAME_RE.match(name):
            probs.add(lineno, 'bad label name %r' % name)
        elif name.startswith('__'):
            probs.add(lineno, 'label name %r is reserved (starts with __)'
                      % name)
        if text[pos:pos + 2] != '="':
            raise ValueError('expected =" after label %r' % name)
        pos += 2
        value = []
        while True:
            if pos >= len(text):
                raise ValueError('unterminated label value')
            c = text[pos]
            if c == '\\':
                nxt = text[pos + 1:pos + 2]
                if nxt == 'n':
                    value.append('\n')
                elif nxt in ('\\', '"'):
                    value.append(nxt)
                else:
                    probs.add(lineno, 'bad escape \\%s in the value of label '
                              '%r' % (nxt, name))
                    value.append(nxt)
                pos += 2
            elif c == '"':
                pos += 1
                break
            else:
                value.append(c)
                pos += 1
        labels.append((name, ''.join(value)))
        while pos < len(text) and text[pos] == ' ':
            pos += 1
        if pos < len(text) and text[pos] == ',':
            pos += 1
            continue
        if pos < len(text) and text[pos] == '}':
            return labels, pos + 1
        raise ValueError('expected , or } after the value of label %r' % name)


def family_of(sample_name, types):
    """The declared family a sample name belongs to, or None."""
    for suffix in ('_bucket', '_sum', '_count'):
        if sample_name.endswith(suffix):
            base = sample_name[:-len(suffix)]
            if types.get(base) == 'histogram':
                return base
            if suffix != '_bucket' and types.get(base) == 'summary':
                return base
    if sample_name in types:
        return sample_name
    return None


def lint(body, expect_labels=()):
    probs = Problems()
    try:
        text = body.decode('utf-8')
    except UnicodeDecodeError as e:
        probs.add(0, 'the body is not valid UTF-8: %s' % e)
        text = body.decode('utf-8', 'replace')

    helps = {}          # family -> help text
    types = {}          # family -> type
    type_line = {}
    family_order = []   # families in order of their first line
    closed = set()      # families whose block ended
    current = None
    seen_series = {}    # (name, frozenset(labels)) -> lineno
    samples = []        # (lineno, name, family, labels(list), value)

    def enter(family, lineno):
        nonlocal current
        if family == current:
            return
        if family in closed:
            probs.add(lineno, 'family %s appears again after other families '
                      '(its lines must be contiguous)' % family)
        if current is not None:
            closed.add(current)
        current = family
        if family not in family_order:
            family_order.append(family)

    for lineno, line in enumerate(text.split('\n'), 1):
        if line == '' or line.strip() == '':
            continue
        if line.startswith('#'):
            parts = line.split(None, 3)
            if len(parts) >= 3 and parts[1] in ('HELP', 'TYPE'):
                name = parts[2]
                if not NAME_RE.match(name):
                    probs.add(lineno, 'bad metric name %r' % name)
                enter(name, lineno)
                if parts[1] == 'HELP':
                    if name in helps:
                        probs.add(lineno, 'second HELP for %s' % name)
                    helps[name] = parts[3] if len(parts) > 3 else ''
                    if any(s[2] == name for s in samples):
                        probs.add(lineno, 'HELP for %s after its samples'
                                  % name)
                else:
                    t = parts[3].strip() if len(parts) > 3 else ''
                    if t not in TYPES:
                        probs.add(lineno, 'unknown TYPE %r for %s' % (t, name))
                    if name in types:
                        probs.add(lineno, 'second TYPE for %s' % name)
                    if any(s[2] == name for s in samples):
                        probs.add(lineno, 'TYPE for %s after its samples'
                                  % name)
                    types[name] = t
                    type_line[name] = lineno
            continue
        m = SAMPLE_NAME_RE.match(line)
        if not m:
            probs.add(lineno, 'unparsable line %r' % line[:120])
            continue
        name = m.group(1)
        pos = m.end()
        labels = []
        try:
            if pos < len(line) and line[pos] == '{':
                labels, pos = parse_labels(line, pos, lineno, probs)
            rest = line[pos:].split()
            if len(rest) not in (1, 2):
                raise ValueError('expected a value (and a timestamp)')
            value = parse_float(rest[0])
        except ValueError as e:
            probs.add(lineno, 'bad sample %r: %s' % (line[:120], e))
            continue
        names = [n for n, _ in labels]
        if len(set(names)) != len(names):
            probs.add(lineno, 'a label appears twice in %s' % line[:120])
        family = family_of(name, types)
        if family is None:
            probs.add(lineno, 'sample %s has no TYPE before it' % name)
            family = name
        enter(family, lineno)
        key = (name, frozenset(labels))
        if key in seen_series:
            probs.add(lineno, 'duplicate series %s (first at line %d)'
                      % (line.rsplit(' ', 1)[0], seen_series[key]))
        else:
            seen_series[key] = lineno
        samples.append((lineno, name, family, labels, value))

    # families: HELP and TYPE, naming rules
    all_sample_names = {s[1] for s in samples}
    for fam in family_order:
        if fam not in helps:
            probs.add(0, 'family %s has no HELP' % fam)
        if fam not in types:
            probs.add(0, 'family %s has no TYPE' % fam)
            continue
        t = types[fam]
        if t == 'counter' and not fam.endswith('_total'):
            probs.add(type_line[fam], 'counter %s does not end in _total'
                      % fam)
        if t != 'counter' and fam.endswith('_total'):
            probs.add(type_line[fam], '%s %s ends in _total but is not a '
                      'counter' % (t, fam))
        for suffix in ('_bucket', '_sum', '_count'):
            if fam.endswith(suffix) and \
                    types.get(fam[:-len(suffix)]) in ('histogram', 'summary'):
                probs.add(type_line[fam], 'family %s collides with the %s '
                          'series of %s' % (fam, suffix, fam[:-len(suffix)]))
        if t not in ('histogram', 'summary') and fam not in all_sample_names:
            probs.add(type_line[fam], 'family %s has HELP/TYPE but no '
                      'sample' % fam)
        words = helps.get(fam, '').split()
        first = words[0].lower() if words else ''
        if first in UNIT_WORDS and UNIT_WORDS[first] not in fam:
            probs.add(type_line[fam], '%s: the HELP says the value is in %s '
                      '("%s"), but the name has no %s suffix'
                      % (fam, first, ' '.join(words[:6]),
                         UNIT_WORDS[first]))

    # counters
    for lineno, name, fam, labels, value in samples:
        if types.get(fam) == 'counter' and (math.isnan(value) or value < 0):
            probs.add(lineno, 'counter %s has value %r' % (name, value))

    # histograms
    hist = {}    # (family, frozenset(labels without le)) -> dict
    for lineno, name, fam, labels, value in samples:
        if types.get(fam) != 'histogram':
            continue
        rest = frozenset((n, v) for n, v in labels if n != 'le')
        h = hist.setdefault((fam, rest), {'buckets': [], 'sum': None,
                                          'count': None, 'line': lineno})
        if name == fam + '_bucket':
            le = [v for n, v in labels if n == 'le']
            if not le:
                probs.add(lineno, '%s without le' % name)
                continue
            h['buckets'].append((lineno, le[0], value))
        elif name == fam + '_sum':
            h['sum'] = value
        elif name == fam + '_count':
            h['count'] = (lineno, value)
        else:
            probs.add(lineno, 'sample %s in histogram %s' % (name, fam))

    le_sets = {}
    rounded = {}        # family -> le texts that look rounded by "%g"
    for (fam, rest), h in hist.items():
        desc = '%s{%s}' % (fam, ','.join('%s="%s"' % kv for kv in sorted(rest)))
        bks = h['buckets']
        if not bks:
            probs.add(h['line'], '%s: _sum/_count without buckets' % desc)
            continue
        prev_le, prev_count = -math.inf, 0
        les = []
        for lineno, le_text, count in bks:
            try:
                le = parse_float(le_text)
            except ValueError:
                probs.add(lineno, '%s: le=%r is not a number' % (desc, le_text))
                continue
            if math.isnan(le):
                probs.add(lineno, '%s: le is NaN' % desc)
                continue
            les.append(le_text)
            if le <= prev_le:
                probs.add(lineno, '%s: le=%s not above the previous bucket'
                          % (desc, le_text))
            if PERCENT_G_RE.match(le_text):
                rounded.setdefault(fam, set()).add(le_text)
            if math.isnan(count) or count < 0 or count != int(count):
                probs.add(lineno, '%s: bucket le=%s count %r is not a '
                          'non-negative integer' % (desc, le_text, count))
            if count < prev_count:
                probs.add(lineno, '%s: bucket le=%s count %r below the '
                          'previous bucket (%r): not cumulative'
                          % (desc, le_text, count, prev_count))
            prev_le, prev_count = le, count
        last_le = bks[-1][1]
        if last_le != '+Inf':
            probs.add(bks[-1][0], '%s: the last bucket is le="%s", not '
                      'le="+Inf"' % (desc, last_le))
        if h['sum'] is None:
            probs.add(h['line'], '%s: no _sum' % desc)
        if h['count'] is None:
            probs.add(h['line'], '%s: no _count' % desc)
        elif last_le == '+Inf' and h['count'][1] != bks[-1][2]:
            probs.add(h['count'][0], '%s: _count %r differs from the +Inf '
                      'bucket %r' % (desc, h['count'][1], bks[-1][2]))
        le_sets.setdefault(fam, {}).setdefault(tuple(les), desc)
    for fam, les in sorted(rounded.items()):
        probs.add(0, 'histogram %s: bucket bounds le="%s" look rounded to 6 '
                  'significant digits (C "%%g"): the bounds are not printed '
                  'exactly' % (fam, '", "'.join(
                      sorted(les, key=float))))
    for fam, sets in le_sets.items():
        if len(sets) > 1:
            probs.add(0, 'histogram %s: its series have different bucket '
                      'bounds (%s)' % (fam, '; '.join(sets.values())))

    # label escaping round trip
    for spec in expect_labels:
        lname, _, raw = spec.partition('=')
        want = raw
        if not any(name == 'apm_pad_buffers_total' and (lname, want) in labels
                   for _, name, _, labels, _ in samples):
            probs.add(0, 'no apm_pad_buffers_total series with %s=%r '
                      '(escaping does not round-trip?)' % (lname, want))
    return probs.items, len(samples), len(family_order)


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    expect = []
    args = argv[2:]
    while args:
        if args[0] == '--expect-label' and len(args) > 1:
            expect.append(args[1])
            args = args[2:]
        else:
            print('unknown argument %r' % args[0], file=sys.stderr)
            return 2
    with open(argv[1], 'rb') as f:
        body = f.read()
    problems, n_samples, n_families = lint(body, expect)
    for p in problems:
        print(p)
    print('metrics_lint: %d families, %d samples, %d problems'
          % (n_families, n_samples, len(problems)), file=sys.stderr)
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
