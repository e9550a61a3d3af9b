// OTLP export end to end, in both encodings (http/protobuf, http/json):
// gst-launch-1.0 runs under the apm tracer with OTEL_* set, transcodes a
// short tone to WAV through two apmonitors (a stage span), then fails a
// second pipeline and makes a third one's sink drop late buffers (QoS); the test collector (otlp-receiver.mjs) decodes with
// OpenTelemetry's definitions, and we check what a user would see in
// Jaeger or Tempo: the run's span and its status, its children (the
// stage, the elements), its events, the log records with its trace and
// span ids, the resource and the headers.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import assert from 'node:assert/strict';
import { Receiver, waitFor } from './otlp-receiver.mjs';

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'apm-otlp-'));

function run(args, env, ms) {
  return new Promise((resolve, reject) => {
    const child = spawn('gst-launch-1.0', args, { env: { ...process.env, ...env } });
    let err = '';
    child.stderr.on('data', (d) => { err += d; });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`gst-launch-1.0 ran over ${ms} ms: ${err}`)); }, ms);
    child.on('exit', (code) => { clearTimeout(timer); resolve({ code, err }); });
  });
}

async function check(protocol) {
  const rx = new Receiver();
  const port = await rx.listen();
  const env = {
    GST_TRACERS: 'apm(port=0,quiet=true)',
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
    OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
    OTEL_SERVICE_NAME: 'otlp-e2e',
    OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=test,team=audio%20ops',
    OTEL_EXPORTER_OTLP_HEADERS: 'x-test-token=a%20b%3Dc',
  };
  const wav = path.join(work, `out-${protocol.replace('/', '-')}.wav`);
  const ok = await run(['-q', 'audiotestsrc', 'num-buffers=40', 'samplesperbuffer=441', '!',
    'audio/x-raw,rate=44100,channels=1', '!', 'apmonitor', 'name=m1', '!', 'audioconvert', '!',
    'apmonitor', 'name=m2', 'span-from=m1', 'span-name=convert', '!', 'wavenc', '!',
    'filesink', `location=${wav}`], env, 20000);
  assert.equal(ok.code, 0, `the pipeline failed: ${ok.err}`);
  // the export happened before exit (the flush at exit is bounded to 2 s)
  assert.ok(rx.spans.length > 0, `no span arrived (stderr: ${ok.err})`);

  const bad = await run(['-q', 'filesrc', `location=${path.join(work, 'missing.wav')}`, '!', 'fakesink'],
    env, 20000);
  assert.notEqual(bad.code, 0, 'the pipeline reading a missing file should fail');
  // a sink that drops late buffers (20 ms of work per 10 ms buffer): QoS;
  // the endpoint from the tracer's param this time (an empty variable is
  // an unset one), and GStreamer's debug log bridged
  const late = await run(['-q', 'audiotestsrc', 'num-buffers=30', 'samplesperbuffer=441', '!',
    'identity', 'sleep-time=20000', '!', 'fakesink', 'sync=true', 'qos=true', 'max-lateness=5000000'],
  { ...env, OTEL_EXPORTER_OTLP_ENDPOINT: '',
    GST_TRACERS: `apm(port=0,quiet=true,otlp-endpoint=http://127.0.0.1:${port},gst-debug=GST_STATES:4)` }, 20000);
  assert.equal(late.code, 0, `the late pipeline failed: ${late.err}`);
  assert.deepEqual(rx.errors, [], 'every request decodes');

  // requests: the encoding asked, the headers given
  const traceReqs = rx.requests.filter((r) => r.path === '/v1/traces');
  assert.ok(traceReqs.length >= 2, 'a traces request from each process');
  for (const r of rx.requests) {
    assert.equal(r.encoding, protocol === 'http/json' ? 'json' : 'protobuf', `${r.path} encoding`);
    assert.equal(r.headers['x-test-token'], 'a b=c', 'OTEL_EXPORTER_OTLP_HEADERS, percent-decoded');
    assert.match(r.headers['user-agent'] || '', /^gst-apm\//);
  }

  // the successful run: one span per run, named after its pipeline
  const runs = rx.spans.filter((s) => s.name.startsWith('pipeline '));
  assert.equal(runs.length, 3, `three runs, got ${runs.map((s) => s.name)}`);
  const qosRun = runs.find((s) => s.events.some((e) => /QoS: fakesink0 late by/.test(e.name)));
  assert.ok(qosRun, `the late run has a QoS event: ${runs.map((s) => s.events.map((e) => e.name))}`);
  const qos = qosRun.events.find((e) => /QoS/.test(e.name));
  assert.equal(qos.attributes['log.level'], 'warning');
  assert.ok(qos.attributes['qos_messages'] >= 1);
  assert.equal(qos.attributes['element'], 'fakesink0');
  const good = runs.find((s) => s.status.code === 1 && s !== qosRun);
  const failed = runs.find((s) => s.status.code === 2);
  assert.ok(good, 'the transcode run has status OK');
  assert.ok(failed, 'the failing run has status ERROR');
  assert.match(good.traceId, /^[0-9a-f]{32}$/);
  assert.match(good.spanId, /^[0-9a-f]{16}$/);
  assert.notEqual(good.traceId, failed.traceId, 'each run is its own trace (no TRACEPARENT)');
  assert.equal(good.resource['service.name'], 'otlp-e2e');
  assert.equal(good.resource['deployment.environment'], 'test');
  assert.equal(good.resource['team'], 'audio ops');
  assert.equal(good.resource['telemetry.sdk.name'], 'gst-apm');
  assert.equal(good.resource['process.executable.name'], 'gst-launch-1.0');
  assert.ok(good.resource['process.pid'] > 0);
  assert.equal(good.scope.name, 'gst-apm');
  const a = good.attributes;
  assert.equal(a['gstreamer.job.status'], 'success');
  assert.equal(a['gstreamer.pipeline'], good.name.slice('pipeline '.length));
  assert.ok(a['gstreamer.bytes_written'] > 40 * 441 * 2, `bytes written: ${a['gstreamer.bytes_written']}`);
  assert.ok(Math.abs(a['gstreamer.media_seconds'] - 0.4) < 0.05, `media seconds: ${a['gstreamer.media_seconds']}`);
  assert.ok(a['gstreamer.realtime_factor'] > 1, 'faster than real time');
  assert.ok(good.end > good.start, 'the span has a duration');
  // the correlation id is the trace id (32 hex, or a UUID's 32 hex digits)
  assert.equal(a['gstreamer.job.correlation_id'].replace(/-/g, ''), good.traceId);
  // events: the state changes of the run
  assert.ok(good.events.some((e) => /PAUSED -> PLAYING/.test(e.name)), `state change events: ${good.events.map((e) => e.name)}`);
  for (const e of good.events) assert.ok(e.time >= good.start - 1000000000n && e.time <= good.end + 1000000000n, 'event within the run');

  // children: the apmonitor stage span, the elements' summaries
  const kids = rx.spans.filter((s) => s.parentSpanId === good.spanId);
  for (const k of kids) assert.equal(k.traceId, good.traceId, 'children share the trace');
  const stage = kids.find((s) => s.name === 'apmonitor span convert');
  assert.ok(stage, `the stage span is a child: ${kids.map((s) => s.name)}`);
  assert.ok(stage.attributes['gstreamer.span.buffers'] > 0);
  assert.ok(stage.attributes['gstreamer.span.latency.p95'] >= 0, 'latency percentiles');
  const conv = kids.find((s) => s.name === 'element audioconvert0');
  assert.ok(conv, `an element summary: ${kids.map((s) => s.name)}`);
  assert.equal(conv.attributes['gstreamer.factory'], 'audioconvert');
  assert.ok(conv.attributes['gstreamer.element.buffers'] >= 40);
  assert.ok(conv.attributes['gstreamer.element.own_time.p95'] >= 0);
  assert.equal(new Set(rx.spans.map((s) => s.spanId)).size, rx.spans.length, 'span ids are unique');

  // the failed run: its error as status and exception event
  assert.match(failed.status.message, /^filesrc0: (Resource not found|Could not open)/);
  assert.equal(failed.attributes['error.type'], 'gstreamer.error');
  assert.ok(failed.events.some((e) => e.name === 'exception' && e.attributes['exception.message']));

  // log records: with severity, body, and the run's trace and span ids
  await waitFor(() => rx.logs.length > 0, 5000, 'log records');
  const ofRun = rx.logs.filter((l) => l.traceId === good.traceId);
  assert.ok(ofRun.length >= 2, `log records of the run: ${ofRun.length}`);
  for (const l of ofRun) assert.equal(l.spanId, good.spanId, 'a run\'s log record carries its span id');
  const done = ofRun.find((l) => /completed/.test(l.body));
  assert.ok(done, 'the run\'s completion is a log record');
  assert.equal(done.severityNumber, 9);
  assert.equal(done.severityText, 'info');
  assert.equal(done.attributes['gstreamer.apm.component'], 'jobs');
  const err = rx.logs.find((l) => l.traceId === failed.traceId && l.severityNumber === 17);
  assert.ok(err, 'the failed run has an ERROR log record with its trace id');
  assert.ok(rx.logs.some((l) => l.traceId === null), 'lines without a job have no trace id');
  const bridged = rx.logs.filter((l) => l.attributes['gstreamer.apm.component'] === 'gstreamer');
  assert.ok(bridged.some((l) => l.attributes.category === 'GST_STATES' && l.severityNumber === 9 && l.body),
    'GStreamer\'s debug lines are log records');

  // metrics: the /metrics families, sent once more at exit
  const byName = (n) => rx.metrics.filter((m) => m.name === n);
  const completed = byName('apm_jobs_completed_total');
  assert.ok(completed.length >= 2, 'each process exported its metrics at exit');
  for (const m of completed) {
    assert.ok(m.sum, 'a counter is a sum');
    assert.equal(m.sum.aggregationTemporality, 2, 'cumulative');
    assert.equal(m.sum.isMonotonic, true);
    assert.ok(m.sum.dataPoints.every((p) => p.attributes.some((a) => a.key === 'status')));
  }
  const success = completed.flatMap((m) => m.sum.dataPoints)
    .filter((p) => p.attributes.some((a) => a.key === 'status' && a.value.stringValue === 'success'));
  assert.ok(success.some((p) => p.asDouble === 1), 'the successful run is counted');
  const hist = byName('apm_job_processing_seconds').flatMap((m) => m.histogram.dataPoints);
  assert.ok(hist.length > 0, 'histograms are exported');
  for (const p of hist) {
    assert.equal(p.bucketCounts.length, p.explicitBounds.length + 1, 'one more bucket than bounds');
    assert.equal(p.bucketCounts.reduce((a, b) => a + Number(b), 0), Number(p.count), 'buckets add up to the count');
  }
  assert.ok(hist.some((p) => Number(p.count) === 1 && p.sum > 0));
  assert.equal(byName('apm_job_processing_seconds')[0].unit, 's');

  await rx.close();
  console.log(`${protocol}: ${rx.spans.length} spans, ${rx.logs.length} log records, ` +
    `${rx.metrics.length} metrics, ` +
    `${rx.requests.length} requests: PASS`);
}

// the configuration file's "otlp" block, where the environment is silent
async function checkConfigFile() {
  const rx = new Receiver();
  const port = await rx.listen();
  const file = path.join(work, 'apm.json');
  fs.writeFileSync(file, JSON.stringify({ otlp: { endpoint: `http://127.0.0.1:${port}`,
    protocol: 'http/json', headers: { 'x-from-file': 'yes, it is' }, service_name: 'from-file',
    resource_attributes: { 'deployment.environment': 'file' } } }));
  const r = await run(['-q', 'audiotestsrc', 'num-buffers=5', '!', 'fakesink'],
    { GST_TRACERS: `apm(port=0,quiet=true,config=${file})`, OTEL_EXPORTER_OTLP_ENDPOINT: '',
      OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip' }, 20000);
  assert.equal(r.code, 0, r.err);
  assert.ok(rx.requests.length > 0, `nothing exported with the file's endpoint: ${r.err}`);
  for (const q of rx.requests) {
    assert.equal(q.encoding, 'json', 'the file\'s protocol');
    assert.equal(q.headers['x-from-file'], 'yes, it is', 'the file\'s headers');
    assert.equal(q.gzip, true, 'OTEL_EXPORTER_OTLP_COMPRESSION=gzip');
  }
  const span = rx.spans.find((x) => x.name.startsWith('pipeline '));
  assert.equal(span.resource['service.name'], 'from-file');
  assert.equal(span.resource['deployment.environment'], 'file');
  await rx.close();
  console.log(`configuration file's otlp block: ${rx.requests.length} requests: PASS`);
}

try {
  await check('http/protobuf');
  await check('http/json');
  await checkConfigFile();
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}
