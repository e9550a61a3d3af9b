#!/usr/bin/python3
# An application that uses gst-apm through GI only for jobs and logs and
# never starts the HTTP server (otlp-headless-test.mjs).  Prints one JSON
# line: the job's traceparent, the URL served (none), and the process's
# thread names (the service thread runs only when OTLP is configured);
# then it starts the server after all and reads /metrics from it.
import json
import os
import urllib.request

import gi
gi.require_version('Apm', '1.0')
from gi.repository import Apm  # noqa: E402


def threads():
    names = []
    for tid in os.listdir('/proc/self/task'):
        with open(f'/proc/self/task/{tid}/comm') as f:
            names.append(f.read().strip())
    return sorted(names)


monitor = Apm.Monitor.get_default()
logger = Apm.Logger.new('uploader')
cid = monitor.start_job_tracking('headless-1')
logger.info('upload received', cid, '{"bytes": 4096}')
logger.warning('slow storage', cid, None)
traceparent = monitor.get_traceparent('headless-1')
monitor.complete_job_tracking('headless-1', 'success', None)
url = monitor.get_url()
names = threads()
# a late start_server(): the running service thread gets its listener
monitor.start_server('127.0.0.1', 0)
late_url = monitor.get_url()
with urllib.request.urlopen(late_url + '/metrics', timeout=10) as r:
    metrics = r.read().decode()
print(json.dumps({'traceparent': traceparent, 'correlation_id': cid,
                  'url': url, 'threads': names, 'late_url': late_url,
                  'jobs_counted': 'apm_jobs_completed_total' in metrics}),
      flush=True)
