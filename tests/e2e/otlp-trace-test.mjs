// "Two processes, one trace": a Python program (GI) starts a job and runs
// gst-launch-1.0 with the job's TRACEPARENT to transcode a WAV file to
// FLAC (tests/e2e/otlp_job.py).  Both processes export to the test
// collector; it must see one trace: the job's span (service api-server),
// its recorded stages below it, the pipeline run's span (service
// transcoder) as its child, and the run's element spans below that.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import assert from 'node:assert/strict';
import { Receiver, waitFor } from './otlp-receiver.mjs';

const here = path.dirname(new URL(import.meta.url).pathname);
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'apm-otlp-trace-'));
const rx = new Receiver();

try {
  const port = await rx.listen();
  const env = { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
    OTEL_SERVICE_NAME: 'api-server', OTEL_BSP_SCHEDULE_DELAY: '200' };
  delete env.GST_TRACERS;
  const out = await new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/python3', [path.join(here, 'otlp_job.py'),
      path.join(work, 'in.wav'), path.join(work, 'out.flac')], { env });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const t = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`over 40 s: ${stderr}`)); }, 40000);
    child.on('exit', (code) => { clearTimeout(t); code === 0 ? resolve(stdout) : reject(new Error(`exit ${code}: ${stderr}`)); });
  });
  assert.ok(fs.statSync(path.join(work, 'out.flac')).size > 1000, 'the FLAC file was written');
  const [, traceId, jobSpanId] = out.trim().split('-');
  assert.deepEqual(rx.errors, []);

  const job = await waitFor(() => rx.spans.find((s) => s.name === 'job upload-1'), 5000, 'the job span');
  assert.equal(job.traceId, traceId, 'the job span is in the traceparent\'s trace');
  assert.equal(job.spanId, jobSpanId, 'the traceparent names the job span');
  assert.equal(job.parentSpanId, null, 'the job is the trace root');
  assert.equal(job.resource['service.name'], 'api-server');
  assert.equal(job.attributes['gstreamer.job.label.tenant'], 't1');
  assert.equal(job.status.code, 1);

  const run = rx.spans.find((s) => s.name.startsWith('pipeline '));
  assert.ok(run, `the run's span: ${rx.spans.map((s) => s.name)}`);
  assert.equal(run.resource['service.name'], 'transcoder', 'the run comes from the other process');
  assert.notEqual(run.resource['process.pid'], job.resource['process.pid']);
  assert.equal(run.traceId, traceId, 'one trace');
  assert.equal(run.parentSpanId, job.spanId, 'the run is the job\'s child');
  assert.ok(run.start >= job.start && run.end <= job.end, 'the run lies within the job');
  assert.ok(run.attributes['gstreamer.bytes_read'] > 0);

  const stages = rx.spans.filter((s) => s.parentSpanId === job.spanId && s.name.startsWith('stage '));
  assert.deepEqual(stages.map((s) => s.name).sort(), ['stage transcode', 'stage upload']);
  const upload = stages.find((s) => s.name === 'stage upload');
  assert.equal(upload.attributes['gstreamer.stage.label.store'], 'local');
  assert.ok(upload.end <= run.start, 'the upload came before the transcode');
  const elements = rx.spans.filter((s) => s.parentSpanId === run.spanId);
  assert.ok(elements.some((s) => s.name === 'element flacenc0'), `the run's elements: ${elements.map((s) => s.name)}`);
  for (const s of rx.spans) assert.equal(s.traceId, traceId, `${s.name} is in the one trace`);

  // the two processes' log records carry the same trace
  const logs = rx.logs.filter((l) => l.traceId === traceId);
  assert.ok(logs.some((l) => l.resource['service.name'] === 'transcoder' && l.spanId === run.spanId));
  assert.ok(logs.some((l) => l.resource['service.name'] === 'api-server' && l.spanId === job.spanId));
  console.log(`one trace ${traceId}: ${rx.spans.length} spans from 2 processes: PASS`);
} finally {
  await rx.close();
  fs.rmSync(work, { recursive: true, force: true });
}
