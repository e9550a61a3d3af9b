// An automated recovery seen in the trace: gst-launch-1.0 under the apm
// tracer with recovery="stall:restart" and OTLP export; the pipeline plays
// but its sink never gets a buffer (identity drops them all), so it stalls,
// and the monitor restarts it.  The failed run's span must end in error with
// the recovery as an event, and the next run must follow as a new span of
// the same pipeline (the event is the run's end, logged with its
// correlation id: "job pipeline0#1 failed: stall: automated recovery by
// restart").
import { spawn } from 'node:child_process';
import assert from 'node:assert/strict';
import { Receiver, waitFor } from './otlp-receiver.mjs';

const rx = new Receiver();
const port = await rx.listen();
const child = spawn('gst-launch-1.0', ['-q', 'audiotestsrc', 'is-live=true', '!',
  'identity', 'drop-probability=1.0', '!', 'fakesink', 'async=false'], {
  env: {
    ...process.env,
    GST_TRACERS: 'apm(port=0,quiet=true,recovery="stall:restart,max=2,backoff=0")',
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
    OTEL_BSP_SCHEDULE_DELAY: '200',
    OTEL_SERVICE_NAME: 'otlp-recovery-e2e',
  },
});
let err = '';
child.stderr.on('data', (d) => { err += d; });
try {
  const isRecovery = (e) => /automated recovery by restart/.test(e.name);
  const failedRun = await waitFor(() => rx.spans.find((s) => s.name.startsWith('pipeline ')
    && s.events.some(isRecovery)), 25000, `a run span with the recovery event (stderr: ${err})`);
  assert.equal(failedRun.status.code, 2, 'the stalled run ends in error');
  const ev = failedRun.events.find(isRecovery);
  assert.equal(ev.attributes['status'], 'failed');
  assert.match(ev.attributes['error'], /^stall: automated recovery by restart/);
  assert.equal(ev.attributes['pipeline'], 'pipeline0');
  assert.match(failedRun.status.message || '', /stall/);
  // the stall is named in the span's error, and the next run is a span of
  // its own once it too has ended (the second attempt restarts it)
  const next = await waitFor(() => rx.spans.find((s) => s.name === failedRun.name
    && s.spanId !== failedRun.spanId), 25000, 'the next run\'s span');
  assert.notEqual(next.traceId, failedRun.traceId, 'each run is a trace of its own');
  console.log(`recovery event on ${failedRun.name} (${failedRun.traceId}); next run ${next.traceId}: PASS`);
} finally {
  child.kill('SIGKILL');
  await rx.close();
}
