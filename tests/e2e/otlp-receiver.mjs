// A test OTLP/HTTP collector: decodes what gst-apm exports, protobuf and
// JSON, with OpenTelemetry's own generated definitions (protobufjs static
// code in @opentelemetry/otlp-transformer 0.57.x, build/src/generated/
// root.js).  No decoder of ours: a field we write wrongly does not decode
// to what the tests expect.
//
// The collector can be told to fail: "down" (nothing listens: connections
// are refused), "slow" (answers after delayMs), "status" (answers
// `status`, with a Retry-After when retryAfter is set), "ok".
import http from 'node:http';
import zlib from 'node:zlib';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const root = require('@opentelemetry/otlp-transformer/build/src/generated/root.js');
const collector = root.opentelemetry.proto.collector;

const TYPES = {
  '/v1/traces': collector.trace.v1.ExportTraceServiceRequest,
  '/v1/logs': collector.logs.v1.ExportLogsServiceRequest,
  '/v1/metrics': collector.metrics.v1.ExportMetricsServiceRequest,
};

const hex = (b) => Buffer.from(b || []).toString('hex');

// OTLP/JSON writes ids as hex; protobufjs' fromObject wants bytes (base64
// strings or arrays): convert the id fields before fromObject
function idsToBytes(obj) {
  if (Array.isArray(obj)) { obj.forEach(idsToBytes); return; }
  if (!obj || typeof obj !== 'object') return;
  for (const k of Object.keys(obj)) {
    if (['traceId', 'spanId', 'parentSpanId'].includes(k) && typeof obj[k] === 'string') {
      if (!/^[0-9a-f]*$/.test(obj[k])) throw new Error(`${k} is not lowercase hex: ${obj[k]}`);
      obj[k] = Buffer.from(obj[k], 'hex');
    } else {
      idsToBytes(obj[k]);
    }
  }
}

function attrs(list) {
  const out = {};
  for (const kv of list || []) {
    const v = kv.value || {};
    if (v.stringValue !== undefined) out[kv.key] = v.stringValue;
    else if (v.intValue !== undefined) out[kv.key] = Number(v.intValue);
    else if (v.doubleValue !== undefined) out[kv.key] = v.doubleValue;
    else if (v.boolValue !== undefined) out[kv.key] = v.boolValue;
  }
  return out;
}

const TO_OBJECT = { longs: String, enums: Number, bytes: Array, defaults: false };

export class Receiver {
  constructor() {
    this.spans = [];
    this.logs = [];
    this.metrics = [];
    this.requests = [];        // {path, contentType, headers, status}
    this.mode = { kind: 'ok' };
    this.errors = [];
    this.port = 0;
    this.server = null;
    this.sockets = new Set();
  }

  handle(req, res) {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      let body = Buffer.concat(chunks);
      const type = TYPES[req.url];
      const record = { path: req.url, contentType: req.headers['content-type'],
        headers: req.headers, bytes: body.length, status: 0, at: Date.now() };
      this.requests.push(record);
      if (req.headers['content-encoding'] === 'gzip') {
        record.gzip = true;
        body = zlib.gunzipSync(body);
      }
      const answer = (status, extra = {}) => {
        record.status = status;
        res.writeHead(status, { 'content-type': 'application/json', ...extra });
        res.end('{}');
      };
      if (this.mode.kind === 'status') {
        const extra = this.mode.retryAfter !== undefined ? { 'retry-after': String(this.mode.retryAfter) } : {};
        answer(this.mode.status, extra);
        return;
      }
      if (this.mode.kind === 'slow') {
        const t = setTimeout(() => this.accept(type, record, body, req, answer), this.mode.delayMs);
        req.socket.on('close', () => clearTimeout(t));
        return;
      }
      this.accept(type, record, body, req, answer);
    });
  }

  accept(type, record, body, req, answer) {
    if (!type) { answer(404); return; }
    let msg;
    try {
      if ((req.headers['content-type'] || '').startsWith('application/json')) {
        const obj = JSON.parse(body.toString('utf8'));
        idsToBytes(obj);
        msg = type.fromObject(obj);
        record.encoding = 'json';
      } else if (req.headers['content-type'] === 'application/x-protobuf') {
        msg = type.decode(body);
        record.encoding = 'protobuf';
      } else {
        throw new Error(`unexpected content-type ${req.headers['content-type']}`);
      }
    } catch (e) {
      this.errors.push(`${req.url}: ${e.message}`);
      answer(400);
      return;
    }
    const obj = type.toObject(msg, TO_OBJECT);
    this.collect(req.url, obj, record);
    answer(200);
  }

  collect(path, obj, record) {
    const resourceOf = (r) => attrs(r.resource && r.resource.attributes);
    if (path === '/v1/traces') {
      for (const rs of obj.resourceSpans || []) for (const ss of rs.scopeSpans || []) for (const s of ss.spans || []) {
        this.spans.push({ traceId: hex(s.traceId), spanId: hex(s.spanId),
          parentSpanId: s.parentSpanId && s.parentSpanId.length ? hex(s.parentSpanId) : null,
          name: s.name, kind: s.kind, start: BigInt(s.startTimeUnixNano || 0), end: BigInt(s.endTimeUnixNano || 0),
          attributes: attrs(s.attributes),
          events: (s.events || []).map((e) => ({ name: e.name, time: BigInt(e.timeUnixNano || 0), attributes: attrs(e.attributes) })),
          status: { code: (s.status && s.status.code) || 0, message: (s.status && s.status.message) || '' },
          resource: resourceOf(rs), scope: ss.scope, encoding: record.encoding });
      }
    } else if (path === '/v1/logs') {
      for (const rl of obj.resourceLogs || []) for (const sl of rl.scopeLogs || []) for (const l of sl.logRecords || []) {
        this.logs.push({ time: BigInt(l.timeUnixNano || 0), severityNumber: l.severityNumber || 0,
          severityText: l.severityText, body: l.body && l.body.stringValue,
          attributes: attrs(l.attributes), traceId: l.traceId && l.traceId.length ? hex(l.traceId) : null,
          spanId: l.spanId && l.spanId.length ? hex(l.spanId) : null, resource: resourceOf(rl), encoding: record.encoding });
      }
    } else {
      for (const rm of obj.resourceMetrics || []) for (const sm of rm.scopeMetrics || []) for (const m of sm.metrics || []) {
        this.metrics.push({ ...m, resource: resourceOf(rm), encoding: record.encoding });
      }
    }
  }

  async listen(port = 0) {
    this.server = http.createServer((req, res) => this.handle(req, res));
    this.server.on('connection', (s) => { this.sockets.add(s); s.on('close', () => this.sockets.delete(s)); });
    await new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', resolve);
    });
    this.port = this.server.address().port;
    return this.port;
  }

  // nothing listens: connections are refused
  async down() {
    const s = this.server;
    this.server = null;
    for (const sock of this.sockets) sock.destroy();
    await new Promise((resolve) => s.close(resolve));
  }

  async up() { if (!this.server) await this.listen(this.port); }

  async close() { if (this.server) await this.down(); }
}

// polls @cond every 50 ms until it is truthy or @ms pass
export async function waitFor(cond, ms, what) {
  const end = Date.now() + ms;
  for (;;) {
    const v = cond();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
