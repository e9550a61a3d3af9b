#!/usr/bin/python3
"""refparse.py TEXT_FILE OPENMETRICS_FILE: both scrapes of one process parse
with python3-prometheus-client's reference parsers (the text 0.0.4 one and
the OpenMetrics one), and carry the same families.  Prints a summary line;
exits 1 with the parser's message otherwise."""
import sys

from prometheus_client.openmetrics.parser import \
    text_string_to_metric_families as parse_openmetrics
from prometheus_client.parser import text_string_to_metric_families as parse_text


def main(text_path, om_path):
    try:
        text = list(parse_text(open(text_path, encoding="utf-8").read()))
    except ValueError as e:
        print("text 0.0.4: %s" % e)
        return 1
    try:
        om = list(parse_openmetrics(open(om_path, encoding="utf-8").read()))
    except ValueError as e:
        print("OpenMetrics: %s" % e)
        return 1
    # the text parser names a counter family with its _total
    names_text = {f.name[:-len("_total")] if f.type == "counter"
                  and f.name.endswith("_total") else f.name for f in text}
    names_om = {f.name for f in om}
    if names_text != names_om:
        print("families differ: text only %s, OpenMetrics only %s"
              % (sorted(names_text - names_om)[:5],
                 sorted(names_om - names_text)[:5]))
        return 1
    print("reference parsers: %d families, %d OpenMetrics samples"
          % (len(om), sum(len(f.samples) for f in om)))
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
