#!/usr/bin/python3
# "Two processes, one trace", the application's side (otlp-trace-test.mjs):
# an API server's job (through GI) makes a WAV file, then hands it to a
# gst-launch-1.0 transcode to FLAC with the job's TRACEPARENT, and ends.
# argv: WAV path, FLAC path.  Prints the job's traceparent.
import os
import subprocess
import sys
import time

import gi
gi.require_version('Apm', '1.0')
from gi.repository import Apm  # noqa: E402

wav, flac = sys.argv[1], sys.argv[2]
monitor = Apm.Monitor.get_default()
monitor.start_server('127.0.0.1', 0)
monitor.start_job_tracking_full('upload-1', None, {'tenant': 't1'})

# the upload, as a recorded stage
plain = {k: v for k, v in os.environ.items() if not k.startswith('OTEL_')}
plain.pop('GST_TRACERS', None)
t0 = time.monotonic()
subprocess.run(['gst-launch-1.0', '-q', 'audiotestsrc', 'num-buffers=40',
                'samplesperbuffer=1102', '!',
                'audio/x-raw,rate=44100,channels=2,format=S16LE', '!',
                'wavenc', '!', 'filesink', 'location=' + wav],
               env=plain, check=True, timeout=20)
monitor.record_job_stage('upload-1', 'upload', time.monotonic() - t0,
                         {'store': 'local'})

# the transcode, in another process that continues the job's trace
traceparent = monitor.get_traceparent('upload-1')
env = dict(os.environ, TRACEPARENT=traceparent,
           GST_TRACERS='apm(port=0,quiet=true)',
           OTEL_SERVICE_NAME='transcoder')
t0 = time.monotonic()
subprocess.run(['gst-launch-1.0', '-q', 'filesrc', 'location=' + wav, '!',
                'wavparse', '!', 'audioconvert', '!', 'flacenc', '!',
                'filesink', 'location=' + flac],
               env=env, check=True, timeout=20)
monitor.record_job_stage('upload-1', 'transcode', time.monotonic() - t0,
                         None)
monitor.complete_job_tracking('upload-1', 'success', None)
print(traceparent, flush=True)
