// What belongs to a pipeline run arrives with it, at the test collector
// (otlp-receiver.mjs):
// - an alert that fires for the pipeline while it runs is an event of the
//   run's span (a rule from the configuration file with a threshold the
//   run crosses at once: apm_pipeline_state >= 4, PLAYING);
// - GStreamer debug lines bridged with gst-debug= while the run plays
//   carry the run's trace and span ids, also for a short run that ends
//   before the service thread writes its lines.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import assert from 'node:assert/strict';
import { Receiver, waitFor } from './otlp-receiver.mjs';

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'apm-otlp-ctx-'));

function run(args, env, ms) {
  return new Promise((resolve, reject) => {
    const child = spawn('gst-launch-1.0', args, { env: { ...process.env, ...env } });
    let err = '';
    child.stderr.on('data', (d) => { err += d; });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`gst-launch-1.0 ran over ${ms} ms: ${err}`)); }, ms);
    child.on('exit', (code) => { clearTimeout(timer); resolve({ code, err }); });
  });
}

const rx = new Receiver();
try {
  const port = await rx.listen();
  const env = { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`, OTEL_SERVICE_NAME: 'run-context' };

  // an alert during a 4 s live run: evaluated each second
  const config = path.join(work, 'apm.json');
  fs.writeFileSync(config, JSON.stringify({ alert_interval: 1, rules: [
    { name: 'run_playing', metric: 'apm_pipeline_state', aggregation: 'last', window: 5,
      op: '>=', threshold: 4, for: 0, severity: 'warning', message: '{{pipeline}} is playing' }] }));
  const live = await run(['-q', 'audiotestsrc', 'is-live=true', 'num-buffers=400', 'samplesperbuffer=441', '!',
    'audio/x-raw,rate=44100,channels=1', '!', 'fakesink', 'sync=true'],
  { ...env, GST_TRACERS: `apm(port=0,quiet=true,config=${config})` }, 20000);
  assert.equal(live.code, 0, `the live run failed: ${live.err}`);
  const liveRun = await waitFor(() => rx.spans.find((s) => s.name.startsWith('pipeline ')), 5000, 'the live run\'s span');
  const alert = liveRun.events.find((e) => e.attributes.rule === 'run_playing' && / firing: /.test(e.name));
  assert.ok(alert, `the alert is an event of the run's span: ${liveRun.events.map((e) => e.name)}`);
  assert.match(alert.name, /^alert run_playing-\d+ firing: \S+ is playing$/);
  assert.equal(alert.attributes.severity, 'warning');
  assert.equal(alert.attributes['log.level'], 'warning');
  assert.equal(alert.attributes['gstreamer.apm.component'], 'alerts');
  assert.ok(alert.time >= liveRun.start && alert.time <= liveRun.end, 'the alert fired within the run');
  console.log(`alert as a span event of ${liveRun.name}: PASS`);

  // a short run's bridged debug lines: basesrc says it pauses at EOS from
  // its streaming thread, while the run plays (a sink that syncs: 50
  // buffers take a second of PLAYING, so EOS never comes before the run
  // has started, as it could on a loaded machine at full speed)
  for (let i = 0; i < 3; i++) {
    rx.spans.length = 0;
    rx.logs.length = 0;
    const short = await run(['-q', 'audiotestsrc', 'num-buffers=50', '!', 'fakesink', 'sync=true'],
      { ...env, GST_TRACERS: 'apm(port=0,quiet=true,gst-debug=basesrc:4)' }, 20000);
    assert.equal(short.code, 0, `the short run failed: ${short.err}`);
    const shortRun = await waitFor(() => rx.spans.find((s) => s.name.startsWith('pipeline ')), 5000, 'the short run\'s span');
    const eos = await waitFor(() => rx.logs.find((l) => l.attributes['gstreamer.apm.component'] === 'gstreamer'
      && /pausing after .* = eos/.test(l.body)), 5000, 'basesrc\'s EOS line');
    assert.equal(eos.attributes.category, 'basesrc');
    assert.equal(eos.traceId, shortRun.traceId, `attempt ${i + 1}: the debug line carries the run's trace id`);
    assert.equal(eos.spanId, shortRun.spanId, `attempt ${i + 1}: and its span id`);
    // lines before the run (preroll, READY -> PAUSED) belong to no run
    const seek = rx.logs.find((l) => l.attributes.category === 'basesrc' && /^seeking: /.test(l.body));
    assert.ok(seek, 'the preroll\'s seek line is bridged');
    assert.equal(seek.traceId, null, 'a line before the run has no trace id');
  }
  assert.deepEqual(rx.errors, []);
  console.log('bridged debug lines of 3 short runs carry their run\'s trace and span ids: PASS');
} finally {
  await rx.close();
  fs.rmSync(work, { recursive: true, force: true });
}
