// ws-clients.mjs - WebSocket load on gst-apm's /ws/monitoring (node + ws).
//
// Usage (the ws package comes from tests/e2e/node_modules):
//   node bench/ws-clients.mjs many    URL [-n CLIENTS] [-s SECONDS] [--rate HZ]
//                                         [--min-ratio R] [--no-deflate]
//   node bench/ws-clients.mjs stalled URL [-s MAX_SECONDS]
//   node bench/ws-clients.mjs churn   URL [-s SECONDS] [-n PER_SECOND] [--hold MS]
// URL is ws://127.0.0.1:PORT/ws/monitoring (or http://..., turned into ws://).
//
// many:    opens CLIENTS clients (20 at a time), keeps them SECONDS and counts
//          per client the messages received and their bytes; the rate of a
//          client is its monitoring_update messages per second since its
//          snapshot.  Fails if a client could not connect, was closed before
//          the end, or the slowest client got less than R (default 0.8) of
//          HZ (default 10).
// stalled: one raw client sends the handshake and then never reads (the
//          kernel buffers fill, the server's backlog cap must trip).  Polls
//          the server side of the connection (/proc/net/tcp) until the server
//          closes it (MAX_SECONDS, default 60), then reads what the kernel
//          held and reports the updates buffered and the close code (1008
//          when the backlog cap closed it; none when the 30 s idle timeout
//          did).  Fails if the server kept the connection.  --chatty: the
//          client sends a ping every 5 s (its reads are never idle).
// churn:   for SECONDS, each second opens PER_SECOND (default 2) clients that
//          stay HOLD ms (default 1500) then close; counts opens, snapshots
//          and errors.  Fails on any error.
//
// Prints one line "ws-result {json}" and exits 0 (pass) or 1 (fail).  All
// traffic goes to the given URL: use 127.0.0.1 only.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '../tests/e2e/package.json'));
const WebSocket = require('ws');

const argv = process.argv.slice(2);
const mode = argv.shift();
let url = argv.shift();
const opt = { n: null, s: null, rate: 10, minRatio: 0.8, deflate: true, hold: 1500, chatty: false };
while (argv.length) {
  const a = argv.shift();
  if (a === '-n') opt.n = Number(argv.shift());
  else if (a === '-s') opt.s = Number(argv.shift());
  else if (a === '--rate') opt.rate = Number(argv.shift());
  else if (a === '--min-ratio') opt.minRatio = Number(argv.shift());
  else if (a === '--hold') opt.hold = Number(argv.shift());
  else if (a === '--no-deflate') opt.deflate = false;
  else if (a === '--chatty') opt.chatty = true;
  else { console.error(`ws-clients: unknown argument ${a}`); process.exit(2); }
}
if (!mode || !url || !['many', 'stalled', 'churn'].includes(mode)) {
  console.error('usage: node bench/ws-clients.mjs many|stalled|churn URL [options]');
  process.exit(2);
}
url = url.replace(/^http/, 'ws');
if (!/\/ws\//.test(url)) url = url.replace(/\/?$/, '/ws/monitoring');
const host = new URL(url).hostname;
if (!['127.0.0.1', 'localhost', '[::1]', '::1'].includes(host) && !host.startsWith('127.')) {
  console.error('ws-clients: loopback addresses only'); process.exit(2);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.now() / 1000;
function done(ok, result) {
  result.pass = ok;
  console.log('ws-result ' + JSON.stringify(result));
  process.exit(ok ? 0 : 1);
}
// the type of a message without parsing all of it (updates can be large)
function typeOf(data) {
  const head = data.subarray(0, 64).toString();
  const m = /"type"\s*:\s*"([a-z_]+)"/.exec(head);
  return m ? m[1] : '?';
}

function open(opts = {}) {
  return new Promise((resolve) => {
    const c = { ws: null, opened: null, snapshotAt: null, updates: 0, msgs: 0, bytes: 0,
      closed: null, code: null, reason: '', error: null, types: {} };
    const ws = new WebSocket(url, { perMessageDeflate: opt.deflate, handshakeTimeout: 10000 });
    c.ws = ws;
    ws.on('open', () => { c.opened = now(); resolve(c); });
    ws.on('message', (data) => {
      c.msgs++; c.bytes += data.length;
      const t = typeOf(data);
      c.types[t] = (c.types[t] || 0) + 1;
      if (t === 'snapshot' && c.snapshotAt === null) c.snapshotAt = now();
      else if (t === 'monitoring_update') c.updates++;
      if (opts.onMessage) opts.onMessage(c, t);
    });
    ws.on('close', (code, reason) => { c.closed = now(); c.code = code; c.reason = reason.toString(); resolve(c); });
    ws.on('error', (e) => { c.error = e.message; resolve(c); });
  });
}

async function many() {
  const n = opt.n ?? 200, secs = opt.s ?? 20;
  const clients = [];
  const t0 = now();
  for (let i = 0; i < n; i += 20) {
    const batch = [];
    for (let j = i; j < Math.min(n, i + 20); j++) batch.push(open());
    clients.push(...(await Promise.all(batch)));
  }
  const connectS = now() - t0;
  const t1 = now();
  const before = clients.map((c) => c.updates);
  await sleep(secs * 1000);
  const t2 = now();
  const failed = clients.filter((c) => !c.opened || c.error);
  const closedEarly = clients.filter((c) => c.opened && c.closed !== null);
  const live = clients.filter((c) => c.opened && c.closed === null && !c.error);
  // rate over the common window [t1, t2], all clients connected
  const rates = clients.map((c, i) => (c.opened ? (c.updates - before[i]) / (t2 - t1) : 0));
  const sorted = [...rates].sort((a, b) => a - b);
  const totalMsgs = clients.reduce((a, c) => a + c.msgs, 0);
  const totalBytes = clients.reduce((a, c) => a + c.bytes, 0);
  for (const c of clients) if (c.ws.readyState === WebSocket.OPEN) c.ws.close(1000);
  await sleep(300);
  for (const c of clients) c.ws.terminate();
  const codes = {};
  for (const c of closedEarly) codes[c.code] = (codes[c.code] || 0) + 1;
  const result = {
    mode: 'many', clients: n, seconds: secs, target_hz: opt.rate, deflate: opt.deflate,
    connect_seconds: +connectS.toFixed(2), connected: n - failed.length,
    failed: failed.length, first_error: failed[0]?.error ?? null,
    closed_early: closedEarly.length, close_codes: codes,
    messages: totalMsgs, mbytes: +(totalBytes / 1e6).toFixed(1),
    avg_message_kb: totalMsgs ? +(totalBytes / totalMsgs / 1024).toFixed(1) : 0,
    rate_min: +sorted[0].toFixed(2), rate_median: +sorted[Math.floor(n / 2)].toFixed(2),
    rate_max: +sorted[n - 1].toFixed(2), still_open: live.length,
  };
  done(failed.length === 0 && closedEarly.length === 0 && sorted[0] >= opt.minRatio * opt.rate, result);
}

// states of the server's end of our connection (local port = the server's,
// remote port = ours), from /proc/net/tcp: ESTAB while the server holds it
const TCP_STATES = { '01': 'ESTAB', '02': 'SYN-SENT', '03': 'SYN-RECV', '04': 'FIN-WAIT-1',
  '05': 'FIN-WAIT-2', '06': 'TIME-WAIT', '07': 'CLOSE', '08': 'CLOSE-WAIT', '09': 'LAST-ACK',
  '0A': 'LISTEN', '0B': 'CLOSING' };
function serverSideOpen(localPort, port) {
  const hex = (n) => n.toString(16).toUpperCase().padStart(4, '0');
  const states = [];
  for (const f of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try { text = fs.readFileSync(f, 'utf8'); } catch (e) { continue; }
    for (const line of text.split('\n').slice(1)) {
      const c = line.trim().split(/\s+/);
      if (c.length < 4) continue;
      if (c[1].endsWith(':' + hex(port)) && c[2].endsWith(':' + hex(localPort))) states.push(TCP_STATES[c[3]] ?? c[3]);
    }
  }
  return states;
}

// frames of a server byte stream (unmasked): counts and the close code
function parseFrames(buf) {
  let i = buf.indexOf('\r\n\r\n');
  const r = { status: buf.subarray(0, Math.max(0, buf.indexOf('\r\n'))).toString(), text: 0, other: 0, close_code: null, partial: false };
  if (i < 0) return r;
  i += 4;
  while (i + 2 <= buf.length) {
    const op = buf[i] & 0x0f;
    let len = buf[i + 1] & 0x7f, h = 2;
    if (len === 126) { if (i + 4 > buf.length) break; len = buf.readUInt16BE(i + 2); h = 4; }
    else if (len === 127) { if (i + 10 > buf.length) break; len = Number(buf.readBigUInt64BE(i + 2)); h = 10; }
    if (i + h + len > buf.length) { r.partial = true; break; }
    if (op === 1) r.text++;
    else if (op === 8) { r.close_code = len >= 2 ? buf.readUInt16BE(i + h) : 1005; }
    else r.other++;
    i += h + len;
  }
  return r;
}

// A client that handshakes and then never reads a byte: what the kernel
// takes fills up, then the server's backlog cap must trip (skips, then 1008).
async function stalled() {
  const max = opt.s ?? 60;
  const u = new URL(url);
  const port = Number(u.port);
  const sock = net.connect({ host: u.hostname, port });
  sock.pause();
  try {
    await new Promise((res, rej) => { sock.once('connect', res); sock.once('error', rej); });
  } catch (e) { done(false, { mode: 'stalled', error: e.message }); }
  const key = Buffer.from(Array.from({ length: 16 }, () => Math.floor(Math.random() * 256))).toString('base64');
  sock.write(`GET ${u.pathname} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\n` +
    `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
  const localPort = sock.localPort;
  // --chatty: the client still sends (a masked ping every 5 s) while it
  // never reads, so the server's reads never go idle
  const ping = Buffer.from([0x89, 0x80, 1, 2, 3, 4]);
  const chat = opt.chatty ? setInterval(() => sock.write(ping), 5000) : null;
  const t0 = now();
  let closedAfter = null, lastStates = serverSideOpen(localPort, port), maxQ = 0;
  while (now() - t0 < max) {
    await sleep(250);
    const states = serverSideOpen(localPort, port);
    if (!states.includes('ESTAB')) { closedAfter = now() - t0; break; }
    lastStates = states;
  }
  if (chat) clearInterval(chat);
  // now read what reached us: the frames, and the close frame if it came
  const chunks = [];
  sock.on('data', (d) => chunks.push(d));
  const ended = new Promise((res) => { sock.once('end', res); sock.once('close', res); sock.once('error', res); });
  sock.resume();
  await Promise.race([ended, sleep(10000)]);
  sock.destroy();
  const buf = Buffer.concat(chunks);
  const f = parseFrames(buf);
  const result = {
    mode: 'stalled', chatty: opt.chatty, server_closed: closedAfter !== null,
    server_closed_after_s: closedAfter === null ? null : +closedAfter.toFixed(1),
    server_states_before_close: lastStates, handshake: f.status,
    updates_in_buffers: f.text, close_code: f.close_code, truncated: f.partial,
    mbytes_buffered: +(buf.length / 1e6).toFixed(2),
  };
  // closed by the server, and not merely by the 30 s idle timeout
  done(closedAfter !== null, result);
}

async function churn() {
  const secs = opt.s ?? 30, per = opt.n ?? 2;
  let opens = 0, snapshots = 0, errors = 0, unexpectedCloses = 0, firstError = null;
  const pending = [];
  const t0 = now();
  for (let s = 0; now() - t0 < secs; s++) {
    for (let i = 0; i < per; i++) {
      pending.push((async () => {
        let closing = false;
        const c = await open({ onMessage: (cl, t) => { if (t === 'snapshot') snapshots++; } });
        if (!c.opened || c.error) { errors++; firstError ??= c.error ?? `code ${c.code}`; return; }
        opens++;
        c.ws.on('close', (code) => { if (!closing) { unexpectedCloses++; firstError ??= `closed ${code}`; } });
        await sleep(opt.hold);
        closing = true;
        c.ws.close(1000);
        await sleep(200);
        c.ws.terminate();
      })());
    }
    const next = t0 + s + 1;
    await sleep(Math.max(0, (next - now()) * 1000));
  }
  await Promise.all(pending);
  done(errors === 0 && unexpectedCloses === 0 && snapshots >= opens,
    { mode: 'churn', seconds: secs, opens, snapshots, errors, unexpected_closes: unexpectedCloses, first_error: firstError });
}

// never run past a hard bound, whatever happens
const bound = ((opt.s ?? 60) + 120) * 1000;
setTimeout(() => done(false, { mode, error: `hard time bound ${bound / 1000}s reached` }), bound).unref();
if (mode === 'many') many(); else if (mode === 'stalled') stalled(); else churn();
