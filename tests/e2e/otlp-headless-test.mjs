// Export without the HTTP server: a Python program (GI) that only tracks a
// job and logs, and never calls start_server, exports the job's span and
// its log records to the test collector, and exits promptly (the flush at
// exit is bounded); a start_server() after that adds the listener.  Without
// OTLP configured, the same program starts no service thread at all.
import { spawn } from 'node:child_process';
import path from 'node:path';
import assert from 'node:assert/strict';
import { Receiver, waitFor } from './otlp-receiver.mjs';

const here = path.dirname(new URL(import.meta.url).pathname);

// runs the app; resolves with its JSON line, the time from that line to
// its exit (ms) and its stderr
function runApp(env) {
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/python3', [path.join(here, 'otlp_headless_app.py')], { env });
    let stdout = '', stderr = '', printedAt = 0;
    child.stdout.on('data', (d) => { stdout += d; if (!printedAt && stdout.includes('\n')) printedAt = Date.now(); });
    child.stderr.on('data', (d) => { stderr += d; });
    const t = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`over 20 s: ${stderr}`)); }, 20000);
    child.on('exit', (code) => {
      clearTimeout(t);
      if (code !== 0) return reject(new Error(`exit ${code}: ${stderr}`));
      resolve({ out: JSON.parse(stdout.trim()), exitMs: Date.now() - printedAt, stderr });
    });
  });
}

const base = { ...process.env };
delete base.GST_TRACERS;
for (const k of Object.keys(base)) if (k.startsWith('OTEL_')) delete base[k];

const rx = new Receiver();
try {
  // no OTLP: nothing runs
  const plain = await runApp(base);
  assert.equal(plain.out.url, null, 'no server');
  assert.ok(!plain.out.threads.includes('apm-service'),
    `no service thread without OTLP: ${plain.out.threads}`);

  for (const protocol of ['http/protobuf', 'http/json']) {
    rx.spans.length = 0;
    rx.logs.length = 0;
    const port = rx.port || await rx.listen();
    const { out, exitMs, stderr } = await runApp({ ...base,
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`, OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
      OTEL_SERVICE_NAME: 'headless-app' });
    assert.equal(out.url, null, 'the program never served HTTP');
    assert.ok(out.threads.includes('apm-service'), `the export runs on the service thread: ${out.threads}`);
    assert.match(out.late_url, /^http:\/\/127\.0\.0\.1:\d+$/, 'a later start_server() serves');
    assert.ok(out.jobs_counted, 'and its /metrics has the job');
    const [, traceId, spanId] = out.traceparent.split('-');
    assert.equal(out.correlation_id, traceId);
    // the flush at exit is bounded (2 s) and the collector answers at once
    assert.ok(exitMs < 3000, `exit took ${exitMs} ms after the job ended`);
    assert.deepEqual(rx.errors, []);
    const job = await waitFor(() => rx.spans.find((s) => s.name === 'job headless-1'), 5000,
      `the job span (stderr: ${stderr})`);
    assert.equal(job.traceId, traceId);
    assert.equal(job.spanId, spanId);
    assert.equal(job.status.code, 1, 'status OK');
    assert.equal(job.resource['service.name'], 'headless-app');
    const mine = rx.logs.filter((l) => l.traceId === traceId);
    const upload = mine.find((l) => l.body === 'upload received');
    assert.ok(upload, `the app's log record: ${mine.map((l) => l.body)}`);
    assert.equal(upload.spanId, spanId, 'with the job\'s span id');
    assert.equal(upload.severityText, 'info');
    assert.equal(upload.attributes['gstreamer.apm.component'], 'uploader');
    const slow = mine.find((l) => l.body === 'slow storage');
    assert.ok(slow && slow.severityNumber === 13, 'the warning, at WARN severity');
    console.log(`${protocol}: job span and ${mine.length} log records without a server, exit ${exitMs} ms: PASS`);
  }
} finally {
  await rx.close();
}
