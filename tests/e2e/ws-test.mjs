// WebSocket feed tests against a running service (driven by ws-test.sh).
//
//   node ws-test.mjs rate  --url http://127.0.0.1:PORT --rate R
//       monitoring_update arrives at R per second (measured over ~4 s)
//   node ws-test.mjs cap   --url http://127.0.0.1:PORT --max N
//       N clients are served; one more is closed with 1008; after one
//       leaves, a new one is served again
//   node ws-test.mjs stall --url http://127.0.0.1:PORT --pid PID --rate R
//       a client that does the handshake and then never reads: the service
//       (process PID) must not grow without bound, must keep the other
//       clients on time and must close the stalled one (1008, or the socket)
//
// Every wait is bounded by a deadline.  Exit status 0 on success, 1 on
// failure (the reason on stderr).
import WebSocket from 'ws';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';

const T0 = Date.now();
function log(...m) {
  console.log(`[ws-test +${((Date.now() - T0) / 1000).toFixed(2)}s]`, ...m);
}
class TestFailure extends Error {}
function fail(msg) { throw new TestFailure(msg); }
function check(cond, msg) { if (!cond) fail(msg); }
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.now();

function parseArgs(argv) {
  const out = { _: [] };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i].startsWith('--')) out[argv[i].slice(2)] = argv[++i];
    else out._.push(argv[i]);
  }
  return out;
}

const args = parseArgs(process.argv.slice(2));
const MODE = args._[0];
const BASE = (args.url || '').replace(/\/+$/, '');
const RATE = Number(args.rate || 1);
const WS_URL = BASE.replace(/^http:/, 'ws:') + '/ws/monitoring';

function getJson(path) {
  return new Promise((resolve, reject) => {
    // a fresh connection each time: the service closes connections after
    // each response (libsoup keeps them alive only with its own listeners)
    const req = http.get(BASE + path, { timeout: 5000, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { body += c; });
      res.on('end', () => {
        try { resolve({ status: res.statusCode, json: JSON.parse(body) }); } catch (e) { reject(e); }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path} timed out`)));
    req.on('error', reject);
  });
}

async function wsConnections() {
  const r = await getJson('/health/monitoring');
  check(r.status === 200, `/health/monitoring answered ${r.status}`);
  return r.json.monitoring.system_metrics.websocket_connections;
}

// A client with the 'ws' package that records what it receives.
function openClient(name) {
  return new Promise((resolve, reject) => {
    const c = { name, ws: new WebSocket(WS_URL), updates: [], types: {}, closed: null };
    const timer = setTimeout(() => reject(new Error(`${name}: no snapshot within 5 s`)), 5000);
    c.ws.on('message', (data) => {
      const t = now();
      let m;
      try { m = JSON.parse(data.toString()); } catch { m = { type: '(not JSON)' }; }
      c.types[m.type] = (c.types[m.type] || 0) + 1;
      if (m.type === 'monitoring_update') c.updates.push(t);
      if (m.type === 'snapshot') { clearTimeout(timer); resolve(c); }
    });
    c.ws.on('close', (code) => { c.closed = code; });
    c.ws.on('error', (e) => { clearTimeout(timer); reject(e); });
  });
}

function gaps(times) {
  const g = [];
  for (let i = 1; i < times.length; i++) g.push(times[i] - times[i - 1]);
  return g;
}

async function testRate() {
  const c = await openClient('rate');
  // the client offered permessage-deflate (ws does by default, as browsers
  // do): the service declines it, one update is not compressed per client
  check(c.ws.extensions === '', `the service accepted WebSocket extensions "${c.ws.extensions}"`);
  const deadline = now() + 5000;
  while (c.updates.length === 0 && now() < deadline) await sleep(10);
  check(c.updates.length > 0, 'no monitoring_update within 5 s of the snapshot');
  const t1 = c.updates[0];
  const span = Math.max(4000, 4.2 * 1000 / RATE);
  while (now() < t1 + span + 50) await sleep(20);
  const got = c.updates.filter((t) => t <= t1 + span);
  const expected = Math.floor(span * RATE / 1000) + 1;
  const mean = (got[got.length - 1] - got[0]) / (got.length - 1);
  log(`rate ${RATE}: ${got.length} updates in ${(span / 1000).toFixed(1)} s ` +
    `(expected ${expected}), mean interval ${(mean / 1000).toFixed(3)} s`);
  check(got.length >= expected - 1 && got.length <= expected + 1,
    `ws-rate ${RATE}: ${got.length} updates in ${(span / 1000).toFixed(1)} s, expected ${expected} ± 1`);
  check(mean >= 0.8 * 1000 / RATE && mean <= 1.25 * 1000 / RATE,
    `ws-rate ${RATE}: mean interval ${(mean / 1000).toFixed(3)} s`);
  c.ws.close(1000);
}

// Opens a client and says how it ended up: 'snapshot' (served) or
// 'closed:CODE' (refused) or 'error:...'.
function tryClient(timeoutMs) {
  return new Promise((resolve) => {
    const ws = new WebSocket(WS_URL);
    const timer = setTimeout(() => resolve({ ws, outcome: 'timeout' }), timeoutMs);
    ws.on('message', (data) => {
      let m = {};
      try { m = JSON.parse(data.toString()); } catch { /* not JSON */ }
      if (m.type === 'snapshot') { clearTimeout(timer); resolve({ ws, outcome: 'snapshot' }); }
    });
    ws.on('close', (code) => { clearTimeout(timer); resolve({ ws, outcome: `closed:${code}` }); });
    ws.on('error', (e) => { clearTimeout(timer); resolve({ ws, outcome: `error:${e.message}` }); });
  });
}

async function testCap() {
  const max = Number(args.max || 256);
  const clients = [];
  // in batches: the service builds one snapshot per client
  for (let i = 0; i < max; i += 32) {
    const batch = await Promise.all(Array.from({ length: Math.min(32, max - i) }, () => tryClient(10000)));
    for (const c of batch) {
      check(c.outcome === 'snapshot', `client ${clients.length + 1} of ${max}: ${c.outcome}`);
      clients.push(c.ws);
    }
  }
  check(await wsConnections() === max, `websocket_connections is not ${max} with ${max} clients`);
  log(`${max} clients served`);
  const extra = await tryClient(10000);
  log(`client ${max + 1}: ${extra.outcome}`);
  check(extra.outcome === 'closed:1008', `client ${max + 1} over the cap: ${extra.outcome}, expected closed:1008`);
  check(await wsConnections() === max, `websocket_connections is not ${max} after refusing one`);

  // one leaves: there is room again
  const gone = clients.pop();
  await new Promise((resolve) => { gone.on('close', resolve); gone.close(1000); });
  const deadline = now() + 5000;
  while (await wsConnections() !== max - 1 && now() < deadline) await sleep(20);
  check(await wsConnections() === max - 1, 'websocket_connections did not drop after a client left');
  const again = await tryClient(10000);
  check(again.outcome === 'snapshot', `a client after one left: ${again.outcome}`);
  clients.push(again.ws);
  for (const c of clients) c.terminate();
  const deadline2 = now() + 10000;
  while (await wsConnections() !== 0 && now() < deadline2) await sleep(50);
  check(await wsConnections() === 0, 'websocket_connections did not go back to 0');
}

function rssBytes(pid) {
  const m = fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)\s+kB/);
  check(m, `no VmRSS for pid ${pid}`);
  return Number(m[1]) * 1024;
}

// A raw TCP client: WebSocket handshake, then it never reads again.
function openStalled() {
  return new Promise((resolve, reject) => {
    const port = Number(new URL(BASE).port);
    const key = crypto.randomBytes(16).toString('base64');
    const s = net.connect({ host: '127.0.0.1', port });
    const st = { socket: s, head: Buffer.alloc(0), ended: false, closed: false };
    const timer = setTimeout(() => reject(new Error('stalled client: no handshake within 5 s')), 5000);
    s.on('connect', () => {
      s.write(`GET /ws/monitoring HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n` +
        'Upgrade: websocket\r\nConnection: Upgrade\r\n' +
        `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    });
    const onData = (d) => {
      st.head = Buffer.concat([st.head, d]);
      const end = st.head.indexOf('\r\n\r\n');
      if (end < 0) return;
      clearTimeout(timer);
      const status = st.head.subarray(0, st.head.indexOf('\r\n')).toString();
      if (!/^HTTP\/1\.1 101/.test(status)) { reject(new Error(`handshake answered: ${status}`)); return; }
      // stop reading: from now on the kernel buffers fill up
      s.pause();
      s.removeListener('data', onData);
      st.rest = st.head.subarray(end + 4);
      resolve(st);
    };
    s.on('data', onData);
    s.on('end', () => { st.ended = true; });
    s.on('close', () => { st.closed = true; });
    s.on('error', (e) => { st.error = e; });
  });
}

// Reads the stalled client's stream (after resuming it) until a close frame
// or the end of the stream; returns { closeCode, frames, eof }.
function drainUntilClose(st, timeoutMs) {
  return new Promise((resolve) => {
    let buf = st.rest || Buffer.alloc(0);
    let frames = 0;
    let done = false;
    const finish = (r) => { if (!done) { done = true; clearTimeout(timer); resolve({ frames, ...r }); } };
    const timer = setTimeout(() => finish({ closeCode: null, eof: false }), timeoutMs);
    const parse = () => {
      for (;;) {
        if (buf.length < 2) return;
        const op = buf[0] & 0x0f;
        let len = buf[1] & 0x7f;
        let off = 2;
        if (len === 126) { if (buf.length < 4) return; len = buf.readUInt16BE(2); off = 4; }
        else if (len === 127) { if (buf.length < 10) return; len = Number(buf.readBigUInt64BE(2)); off = 10; }
        if (buf.length < off + len) return;
        const payload = buf.subarray(off, off + len);
        buf = buf.subarray(off + len);
        frames++;
        if (op === 0x8) {
          finish({ closeCode: payload.length >= 2 ? payload.readUInt16BE(0) : 1005, eof: false });
          return;
        }
      }
    };
    st.socket.on('data', (d) => { buf = Buffer.concat([buf, d]); parse(); });
    st.socket.on('end', () => finish({ closeCode: null, eof: true }));
    st.socket.on('close', () => finish({ closeCode: null, eof: true }));
    if (st.ended || st.closed) finish({ closeCode: null, eof: true });
    st.socket.resume();
    parse();
  });
}

async function testStall() {
  const pid = Number(args.pid);
  check(pid > 0, '--pid is required');
  const BASELINE_MS = 3000; // one normal client: how the service grows anyway
  const WINDOW_MS = 12000; // with the stalled client: on time, bounded memory
  const CLOSE_DEADLINE_MS = 25000; // from the stall to the server closing it
  const RSS_BOUND = 20 * 1024 * 1024;
  const problems = [];
  const expect = (cond, msg) => { if (!cond) problems.push(msg); };

  const normal = await openClient('normal');
  check(await wsConnections() === 1, 'expected 1 WebSocket connection before the stalled client');
  const rssBase0 = rssBytes(pid);
  await sleep(BASELINE_MS);
  const rssBase1 = rssBytes(pid);
  const baseSlope = (rssBase1 - rssBase0) / (BASELINE_MS / 1000);
  log(`baseline with one normal client: RSS ${(rssBase0 / 1048576).toFixed(1)} -> ` +
    `${(rssBase1 / 1048576).toFixed(1)} MB in ${BASELINE_MS / 1000} s ` +
    `(${(baseSlope / 1024).toFixed(0)} KiB/s)`);

  const stalled = await openStalled();
  const tStall = now();
  const rss0 = rssBytes(pid);
  let rssMax = rss0;
  let closedAt = null;
  const samples = [];
  log(`stalled client connected; service RSS ${(rss0 / 1048576).toFixed(1)} MB`);

  while (now() < tStall + WINDOW_MS || (closedAt === null && now() < tStall + CLOSE_DEADLINE_MS)) {
    await sleep(250);
    const rss = rssBytes(pid);
    if (now() <= tStall + WINDOW_MS) rssMax = Math.max(rssMax, rss);
    const n = await wsConnections();
    samples.push(`${((now() - tStall) / 1000).toFixed(1)}s:${(rss / 1048576).toFixed(1)}MB/${n}`);
    if (closedAt === null && n <= 1) {
      closedAt = now();
      log(`the service counts ${n} connection(s) ${((closedAt - tStall) / 1000).toFixed(1)} s after the stall`);
    }
    check(normal.closed === null, `the normal client was closed (code ${normal.closed})`);
  }
  log('time:RSS/websocket_connections: ' + samples.join(' '));

  // the normal client got its updates on time during the window
  const inWindow = normal.updates.filter((t) => t >= tStall && t <= tStall + WINDOW_MS);
  const maxGap = Math.max(0, ...gaps(inWindow));
  const expected = WINDOW_MS / 1000 * RATE;
  log(`normal client: ${inWindow.length} updates in ${WINDOW_MS / 1000} s (rate ${RATE}), max gap ${maxGap.toFixed(0)} ms`);
  expect(inWindow.length >= 0.8 * expected,
    `the normal client got ${inWindow.length} updates in ${WINDOW_MS / 1000} s at ws-rate ${RATE} (expected about ${expected})`);
  expect(maxGap < 1000, `the normal client waited ${maxGap.toFixed(0)} ms for an update at ws-rate ${RATE}`);

  const growth = rssMax - rss0;
  log(`service RSS growth in ${WINDOW_MS / 1000} s with a stalled client: ${(growth / 1048576).toFixed(1)} MB ` +
    `(the baseline slope alone would give ${(baseSlope * WINDOW_MS / 1000 / 1048576).toFixed(1)} MB)`);
  expect(growth < RSS_BOUND,
    `the service grew by ${(growth / 1048576).toFixed(1)} MB in ${WINDOW_MS / 1000} s with a stalled client (bound ${RSS_BOUND / 1048576} MB)`);

  expect(closedAt !== null,
    `the stalled client was not closed by the service within ${CLOSE_DEADLINE_MS / 1000} s ` +
    '(websocket_connections stayed 2: the per-client backlog cap never applied)');

  if (closedAt !== null) {
    // what the stalled client finds when it reads at last: a 1008 close
    // frame, or the end of the stream
    const r = await drainUntilClose(stalled, 10000);
    log(`stalled client drained ${r.frames} frames: close code ${r.closeCode}, eof ${r.eof}`);
    expect(r.closeCode !== null || r.eof, 'the stalled client found neither a close frame nor the end of the stream');
    if (r.closeCode !== null)
      expect(r.closeCode === 1008, `the stalled client was closed with ${r.closeCode}, expected 1008`);
  }
  stalled.socket.destroy();
  normal.ws.close(1000);
  if (problems.length) fail(problems.join('; '));
}

const modes = { rate: testRate, cap: testCap, stall: testStall };
if (!BASE || !modes[MODE]) {
  console.error('usage: node ws-test.mjs rate|cap|stall --url http://127.0.0.1:PORT [--rate R] [--max N] [--pid PID]');
  process.exit(2);
}
const guard = setTimeout(() => { console.error('[ws-test] FAIL: global timeout (60 s)'); process.exit(1); }, 60000);
try {
  await modes[MODE]();
  log(`${MODE}: PASS`);
  clearTimeout(guard);
  process.exit(0);
} catch (e) {
  console.error(`[ws-test] FAIL (${MODE}): ${e instanceof TestFailure ? e.message : e.stack}`);
  process.exit(1);
}
