// Browser test of the gst-apm dashboard (/monitoring/dashboard) against a
// live service: headless Debian chromium driven by playwright-core.
//
//   node dashboard-test.mjs --url http://127.0.0.1:PORT [options]
//
//   --artifacts DIR       screenshots, console log and page HTML go here
//   --expect a,b,c        element names that must be drawn (besides every
//                         element of the service's first pipeline)
//   --want-alert RULE     an alert of RULE must become active: it is
//                         resolved with the dashboard's button (without this,
//                         whatever alert is active is, if any)
//   --want-span TO:NAME   the apmonitor TO ends the stage span NAME
//                         (span-from): its graph box shows the span's p95 and
//                         last latency (at least --span-min-ms), an arc joins
//                         the two monitors, the Stage spans chart gets points
//   --span-min-ms MS      the least latency the span can have (default 0)
//   --want-disk           a disk:<mount> health check must be listed with
//                         its free space (the pipeline writes a file)
//   --want-breaker NAME   the circuit breaker NAME must be listed open, and
//                         the log summary must list message templates
//   --restart-pid PID     phase 2: SIGTERM this process (the service), check
//   --restart-cmd CMD     the dashboard goes offline, run CMD (bash -c; must
//                         serve on the same port) and check it recovers
//   --local-assets DIR    development only: serve index.html, app.js and
//                         style.css from DIR instead of the service
//   --proxy-404 REGEX     with --local-assets: answer 404 to the paths that
//                         match (WebSocket included), to check how the page
//                         copes with an older service: '^/ws/' (polling),
//                         '^/monitoring/alerts' (no alert engine),
//                         '^/monitoring/metrics/' (charts sampled from /metrics)
//   --chromium PATH       default /usr/bin/chromium (or $CHROMIUM)
//
// Every wait is a poll bounded by a deadline.  Exit status 0 on success,
// 1 on failure (with a screenshot, the console log and the page HTML in the
// artifacts directory).
import { chromium } from 'playwright-core';
import WebSocket from 'ws';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const args = parseArgs(process.argv.slice(2));
const BASE = (args.url || '').replace(/\/+$/, '');
if (!BASE) {
  console.error('usage: node dashboard-test.mjs --url http://127.0.0.1:PORT [--artifacts DIR] ...');
  process.exit(2);
}
const ARTIFACTS = path.resolve(args.artifacts || 'artifacts');
const CHROMIUM = args.chromium || process.env.CHROMIUM || '/usr/bin/chromium';
const EXPECT = (args.expect || '').split(',').map((s) => s.trim()).filter(Boolean);
const WANT_SPAN = args['want-span'] ? { to: args['want-span'].split(':')[0], name: args['want-span'].split(':').slice(1).join(':') } : null;
const SPAN_MIN_S = Number(args['span-min-ms'] || 0) / 1000;
const GLOBAL_TIMEOUT_MS = 100000;
const PROXY_404 = args['proxy-404'] && args['local-assets'] ? new RegExp(args['proxy-404']) : null;
const blocked = (p) => !!PROXY_404 && PROXY_404.test(p);

fs.mkdirSync(ARTIFACTS, { recursive: true });

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) continue;
    const eq = a.indexOf('=');
    if (eq > 0) out[a.slice(2, eq)] = a.slice(eq + 1);
    else out[a.slice(2)] = argv[i + 1] !== undefined && !argv[i + 1].startsWith('--') ? argv[++i] : 'true';
  }
  return out;
}

const T0 = Date.now();
function log(...m) {
  console.log(`[dashboard-test +${((Date.now() - T0) / 1000).toFixed(1)}s]`, ...m);
}

class TestFailure extends Error {}
function fail(msg) { throw new TestFailure(msg); }
function check(cond, msg) { if (!cond) fail(msg); }

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// the service's process (--restart-pid) ended, outside the planned outage
let servicePid = args['restart-pid'] ? Number(args['restart-pid']) : 0;
function serviceDied() {
  if (!servicePid) return false;
  try {
    return /^State:\s*Z/m.test(fs.readFileSync(`/proc/${servicePid}/status`, 'utf8'));
  } catch {
    return true;
  }
}

// until(what, fn, ms): polls fn until it returns a truthy value
async function until(what, fn, ms = 15000, every = 200) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    if (serviceDied()) fail(`the service process ${servicePid} died while waiting for ${typeof what === 'function' ? what() : what} (see its stderr)`);
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline)
      fail(`timed out after ${ms / 1000} s waiting for ${typeof what === 'function' ? what() : what}` +
        (last instanceof Error ? ` (last error: ${last.message})` : ''));
    await sleep(every);
  }
}

async function getJson(p) {
  const r = await fetch(BASE + p, { signal: AbortSignal.timeout(5000) });
  let body = null;
  try { body = await r.json(); } catch { /* not JSON */ }
  return { status: r.status, body };
}

async function answers() {
  try {
    const r = await fetch(BASE + '/health', { signal: AbortSignal.timeout(1500) });
    return r.status === 200;
  } catch {
    return false;
  }
}

// does the service offer the WebSocket feed?  (a snapshot within 5 s)
function probeWebSocket() {
  return new Promise((resolve) => {
    const ws = new WebSocket(BASE.replace(/^http/, 'ws') + '/ws/monitoring');
    const done = (v) => { clearTimeout(timer); try { ws.terminate(); } catch { /* */ } resolve(v); };
    const timer = setTimeout(() => done(false), 5000);
    ws.on('message', (m) => {
      let type = null;
      try { type = JSON.parse(String(m)).type; } catch { /* not JSON */ }
      if (type === 'snapshot') done(true);
    });
    ws.on('error', () => done(false));
    ws.on('unexpected-response', () => done(false));
  });
}

// ---------------------------------------------------------------------------

const consoleLog = [];     // everything the page said
const errors = [];         // {t, text, url}
let outage = null;         // {from, to}: network errors expected meanwhile
let alertsAbsent = false;  // the service has no /monitoring/alerts yet
let context = null;
let page = null;
let restartChild = null;

function onConsole(msg) {
  const loc = msg.location() || {};
  const line = `${msg.type()}: ${msg.text()}${loc.url ? `  (${loc.url}${loc.lineNumber ? ':' + loc.lineNumber : ''})` : ''}`;
  consoleLog.push(`${new Date().toISOString()} ${line}`);
  if (msg.type() === 'error') errors.push({ t: Date.now(), text: msg.text(), url: loc.url || '' });
}

const NETWORK_ERROR = /Failed to load resource: net::ERR_|WebSocket connection to .* failed|ERR_CONNECTION_REFUSED|ERR_EMPTY_RESPONSE|ERR_CONNECTION_RESET|ERR_CONNECTION_CLOSED/;

// the console errors that are not explained by a planned outage, or by a
// service that has no alert engine yet
function unexpectedErrors() {
  return errors.filter((e) => {
    if (outage && e.t >= outage.from && e.t <= (outage.to || Infinity) + 3000 && NETWORK_ERROR.test(e.text))
      return false;
    if (alertsAbsent && /status of 404/.test(e.text) && /\/monitoring\/alerts(\/history)?$/.test(e.url))
      return false;
    if (PROXY_404 && /status of 404|WebSocket connection to .* failed/.test(e.text) &&
        blocked(new URL((/'(wss?:[^']*)'/.exec(e.text) || [])[1] || e.url || 'http://x/', 'http://x').pathname))
      return false;
    return true;
  });
}

async function saveArtifacts(prefix) {
  try {
    fs.writeFileSync(path.join(ARTIFACTS, `${prefix}console.log`), consoleLog.join('\n') + '\n');
    if (page) {
      await page.screenshot({ path: path.join(ARTIFACTS, `${prefix}screenshot.png`), fullPage: true, timeout: 10000 });
      fs.writeFileSync(path.join(ARTIFACTS, `${prefix}page.html`), await page.content());
    }
  } catch (e) {
    log('could not save artifacts:', e.message);
  }
}

// --local-assets: a proxy on 127.0.0.1 that serves the three dashboard
// files from DIR and passes everything else (WebSocket upgrades included) to
// the service, so the page stays on a loopback origin like the real thing.
async function startAssetProxy(dir) {
  const files = {
    '/monitoring/dashboard': ['index.html', 'text/html; charset=utf-8'],
    '/monitoring/dashboard/app.js': ['app.js', 'text/javascript; charset=utf-8'],
    '/monitoring/dashboard/style.css': ['style.css', 'text/css; charset=utf-8'],
  };
  const target = new URL(BASE);
  const agent = new http.Agent({ keepAlive: false });
  const server = http.createServer((req, res) => {
    const pathname = new URL(req.url, 'http://x').pathname;
    const f = files[pathname];
    if (!f && blocked(pathname)) {
      res.writeHead(404, { 'Content-Type': 'application/json' });
      res.end('{"error": {"code": 404, "message": "no such resource (--proxy-404)"}}');
      return;
    }
    if (f) {
      res.writeHead(200, { 'Content-Type': f[1], 'Cache-Control': 'no-cache' });
      res.end(fs.readFileSync(path.join(dir, f[0])));
      return;
    }
    const up = http.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers, agent },
      (ur) => { res.writeHead(ur.statusCode, ur.headers); ur.pipe(res); });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  server.on('upgrade', (req, sock, head) => {
    if (blocked(new URL(req.url, 'http://x').pathname)) {
      sock.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    const up = net.connect(Number(target.port), target.hostname, () => {
      let raw = `${req.method} ${req.url} HTTP/1.1\r\n`;
      for (let i = 0; i < req.rawHeaders.length; i += 2) raw += `${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}\r\n`;
      up.write(raw + '\r\n');
      if (head && head.length) up.write(head);
      sock.pipe(up);
      up.pipe(sock);
    });
    const end = () => { up.destroy(); sock.destroy(); };
    up.on('error', end); sock.on('error', end); up.on('close', end); sock.on('close', end);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  server.unref();
  const url = `http://127.0.0.1:${server.address().port}`;
  log(`NOTE: --local-assets: the page comes through ${url}, with the dashboard files from ${dir}`);
  return url;
}

const text = (sel) => page.locator(sel).first().textContent({ timeout: 2000 });
const dash = (fn) => page.evaluate(`window.apmDashboard && window.apmDashboard.${fn}()`);

async function main() {
  // --- what the service says, independently of the page
  log(`service at ${BASE}`);
  await until('the service to answer /health', answers, 15000);
  const status = await until('a pipeline in /monitoring/status', async () => {
    const r = await getJson('/monitoring/status');
    return r.status === 200 && r.body.pipelines && r.body.pipelines.length &&
      r.body.pipelines[0].elements.length ? r.body : null;
  }, 15000);
  const pipe = status.pipelines[0];
  const elementNames = pipe.elements.filter((e) => e.kind !== 'bin').map((e) => e.name);
  for (const n of EXPECT) check(elementNames.includes(n), `the service does not list the expected element ${n} (has ${elementNames.join(', ')})`);
  const wsAvailable = !blocked('/ws/monitoring') && await probeWebSocket();
  const alertsProbe = blocked('/monitoring/alerts') ? { status: 404, body: null } : await getJson('/monitoring/alerts');
  alertsAbsent = alertsProbe.status === 404;
  const historyProbe = blocked('/monitoring/metrics/x') ? { status: 404 } :
    await getJson('/monitoring/metrics/apm_pipeline_latency_seconds?since=-5');
  log(`pipeline ${pipe.name}: ${elementNames.join(', ')}; WebSocket ${wsAvailable ? 'yes' : 'no'}; ` +
    `alerts API ${alertsAbsent ? 'absent (404)' : alertsProbe.status}; history API ${historyProbe.status}`);

  // --- the browser
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'apm-dashboard-chromium-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--disable-dev-shm-usage'],
    viewport: { width: 1366, height: 768 },
    deviceScaleFactor: 1,
    timeout: 30000,
  });
  process.on('exit', () => { try { fs.rmSync(userDataDir, { recursive: true, force: true }); } catch { /* */ } });
  const PAGE_BASE = args['local-assets'] ? await startAssetProxy(path.resolve(args['local-assets'])) : BASE;
  page = context.pages()[0] || await context.newPage();
  page.on('console', onConsole);
  page.on('pageerror', (err) => {
    consoleLog.push(`${new Date().toISOString()} pageerror: ${err.stack || err.message}`);
    errors.push({ t: Date.now(), text: `uncaught: ${err.message}`, url: '' });
  });
  const assets = {};
  page.on('response', (r) => {
    const p = new URL(r.url()).pathname;
    if (p.startsWith('/monitoring/dashboard')) assets[p] = { status: r.status(), type: r.headers()['content-type'] || '' };
  });

  // 1. the page and its two files load
  const resp = await page.goto(PAGE_BASE + '/monitoring/dashboard', { waitUntil: 'load', timeout: 20000 });
  check(resp, 'no response for /monitoring/dashboard');
  check(resp.status() === 200, `GET /monitoring/dashboard answered ${resp.status()}`);
  check(/text\/html/.test(resp.headers()['content-type'] || ''), `/monitoring/dashboard is ${resp.headers()['content-type']}, not text/html`);
  for (const [p, type] of [['/monitoring/dashboard/app.js', /javascript/], ['/monitoring/dashboard/style.css', /text\/css/]]) {
    const a = await until(`a response for ${p}`, () => assets[p], 5000);
    check(a.status === 200, `GET ${p} answered ${a.status}`);
    check(type.test(a.type), `${p} is served as "${a.type}"`);
  }
  log('page, app.js and style.css: 200');

  // 2. the pipeline graph shows every element, the bottleneck highlighted
  await page.locator(`[data-pipeline="${pipe.name}"] svg.graph`).waitFor({ timeout: 15000 });
  for (const n of new Set([...elementNames, ...EXPECT])) {
    await until(`element ${n} in the graph`, () =>
      page.locator(`[data-pipeline="${pipe.name}"] svg .node[data-element="${n}"]`).count(), 5000);
  }
  const graphText = await page.locator(`[data-pipeline="${pipe.name}"] svg.graph`).textContent();
  for (const n of EXPECT) check(graphText.includes(n), `the text of the graph lacks ${n}`);
  log(`graph of ${pipe.name}: ${elementNames.length} elements drawn`);
  await until('the bottleneck highlighted as the service says', async () => {
    const now = (await getJson(`/monitoring/status`)).body.pipelines.find((p) => p.name === pipe.name);
    const marked = await page.locator(`[data-pipeline="${pipe.name}"] .node.bottleneck`).evaluateAll((ns) => ns.map((n) => n.dataset.element));
    return now && now.bottleneck ? marked.length === 1 && marked[0] === now.bottleneck :
      marked.length === 0;
  }, 10000, 500);
  const bn = await page.locator(`[data-pipeline="${pipe.name}"] .node.bottleneck`).evaluateAll((ns) => ns.map((n) => n.dataset.element));
  log(`bottleneck highlighted: ${bn.join(', ') || 'none'}`);
  if (bn.length) {
    // the slowest element has an own processing time: mean and p95 shown
    const node = page.locator(`[data-pipeline="${pipe.name}"] .node.bottleneck`);
    const proc = await node.locator('.n-proc').textContent();
    const p95 = await node.locator('.n-p95').textContent();
    check(/^avg [0-9.]+ (ns|\u00b5s|ms|s)$/.test(proc) && /^p95 [0-9.]+ (ns|\u00b5s|ms|s)$/.test(p95),
      `the bottleneck's box shows "${proc}" / "${p95}", not its mean and p95 processing time`);
    log(`bottleneck box: ${proc}, ${p95}`);
  }

  // a stage span: the downstream monitor's box says "span NAME: p95 X, last Y"
  if (WANT_SPAN) {
    const nodeSel = `[data-pipeline="${pipe.name}"] .node[data-element="${WANT_SPAN.to}"]`;
    const seconds = (t) => {
      const m = /([0-9.]+) (ns|\u00b5s|ms|s)/.exec(t);
      return m ? Number(m[1]) * { ns: 1e-9, '\u00b5s': 1e-6, ms: 1e-3, s: 1 }[m[2]] : NaN;
    };
    let shown = null;
    await until(() => `span ${WANT_SPAN.name} in the box of ${WANT_SPAN.to} (shows ${JSON.stringify(shown)})`, async () => {
      const node = page.locator(nodeSel);
      shown = [await node.locator('.n-factory').textContent(), await node.locator('.n-proc').textContent(),
        await node.locator('.n-p95').textContent()];
      return shown[0] === `span ${WANT_SPAN.name}:` && /^p95 [0-9.]+ (ns|\u00b5s|ms|s)$/.test(shown[1]) &&
        /^last [0-9.]+ (ns|\u00b5s|ms|s)$/.test(shown[2]);
    }, 15000, 250);
    const p95 = seconds(shown[1]), last = seconds(shown[2]);
    check(p95 >= SPAN_MIN_S && p95 < 1 && last >= SPAN_MIN_S && last < 1,
      `the span's p95 ${p95} s / last ${last} s is not between ${SPAN_MIN_S} s and 1 s`);
    const svc = (await getJson(`/monitoring/pipelines/${encodeURIComponent(pipe.name)}`)).body;
    const el = (svc.elements || []).find((e) => e.name === WANT_SPAN.to);
    check(el && el.span && el.span.name === WANT_SPAN.name && el.span.latency.count > 0,
      `the service's ${WANT_SPAN.to} has no span ${WANT_SPAN.name} with a latency: ${JSON.stringify(el && el.span)}`);
    check(await page.locator(`[data-pipeline="${pipe.name}"] path.span-arc[data-span="${WANT_SPAN.name}"]`).count() === 1,
      `no arc drawn over the span ${WANT_SPAN.name}`);
    log(`span ${WANT_SPAN.name} in ${WANT_SPAN.to}'s box: ${shown.join(' ')} (service: p95 ${el.span.latency.p95_seconds} s)`);
  }

  // the statistics table opens with a row per element
  await page.locator(`[data-pipeline="${pipe.name}"] details.el-details summary`).click();
  await until('a row per element in the statistics table', async () =>
    (await page.locator(`[data-pipeline="${pipe.name}"] details.el-details tbody tr`).count()) === pipe.elements.length, 5000);
  await page.locator(`[data-pipeline="${pipe.name}"] details.el-details summary`).click();

  // 3. figures move: the uptime and a buffer counter
  const src = pipe.elements.find((e) => e.kind === 'source') || pipe.elements[0];
  const bufSel = `[data-pipeline="${pipe.name}"] .node[data-element="${src.name}"] .n-bufs`;
  const up0 = await text('#d-uptime');
  const buf0 = await text(bufSel);
  await until(`the uptime (${up0}) and ${src.name}'s buffer counter (${buf0}) to change`, async () =>
    (await text('#d-uptime')) !== up0 && (await text(bufSel)) !== buf0, 10000, 250);
  log(`uptime ${up0} -> ${await text('#d-uptime')}; ${src.name} ${buf0} -> ${await text(bufSel)}`);

  // 4. transport: the WebSocket when the service has it
  const wantMode = wsAvailable ? 'websocket' : 'polling';
  await until(`transport "${wantMode}"`, async () => (await dash('transport')) === wantMode, 10000);
  check((await page.getAttribute('#d-transport', 'data-transport')) === wantMode, 'the transport indicator disagrees');
  log(`transport: ${wantMode}`);

  // 5. health and service figures
  const checkName = Object.keys(status.health_checks || {})[0];
  if (checkName) {
    await page.locator(`#d-health-checks li[data-check="${checkName}"]`).waitFor({ timeout: 5000 });
    log(`health check shown: ${checkName}`);
  }
  const overall = await text('#d-overall');
  check(overall === status.status || ['healthy', 'degraded', 'unhealthy'].includes(overall), `overall status shows "${overall}"`);
  if (args['want-disk']) {
    // the filesystem of the file the pipeline writes: its check, its free space
    const disk = await until('a disk:<mount> health check with free space on the service', async () => {
      const checks = (await getJson('/monitoring/status')).body.health_checks || {};
      const name = Object.keys(checks).find((k) => k.startsWith('disk:') && checks[k].details &&
        typeof checks[k].details.free_ratio === 'number');
      return name ? { name, check: checks[name] } : null;
    }, 10000, 250);
    const li = page.locator(`#d-health-checks li[data-check="${disk.name}"]`);
    let seen = null;
    await until(() => `${disk.name} listed with its free space (shows ${JSON.stringify(seen)})`, async () => {
      if (!(await li.count())) return false;
      seen = [await li.locator('.check-msg').textContent(), await li.locator('.meter').getAttribute('data-free-ratio', { timeout: 500 })];
      return /free of/.test(seen[0]) && Math.abs(Number(seen[1]) - disk.check.details.free_ratio) < 0.02;
    }, 10000, 250);
    log(`health check ${disk.name}: "${seen[0]}", meter at ${seen[1]} free`);
  }
  if (args['want-breaker']) {
    const brk = page.locator(`#d-breakers li[data-breaker="${args['want-breaker']}"][data-state="open"]`);
    await until(`the circuit breaker ${args['want-breaker']} listed open`, async () => (await brk.count()) > 0, 20000, 250);
    const rows = page.locator('#d-logsum-table tr[data-template]');
    await until('message templates in the log summary', async () => (await rows.count()) > 0, 15000, 250);
    log(`breaker ${args['want-breaker']} open; ${await rows.count()} log templates, ${await text('#d-logsum-levels')}`);
  }
  const series = Number((await text('#d-series')).replace(/[^0-9.]/g, ''));
  check(series > 0, `the series figure is "${await text('#d-series')}"`);

  // 6. charts have data (filled back from the history, then live)
  const hasMonitor = pipe.elements.some((e) => e.factory === 'apmonitor');
  let lastPoints = null, lastTicks = null;
  const points = await until(() => 'points in the latency, throughput, real-time factor' + (hasMonitor ? ', level' : '') +
    (WANT_SPAN ? ', stage span' : '') +
    ' charts (last: ' + JSON.stringify(lastPoints) + ', chart ticks ' + JSON.stringify(lastTicks) + ')', async () => {
    const p = await dash('chartPoints');
    lastPoints = p;
    lastTicks = await dash('chartTicks');
    return p && p.latency >= 2 && p.throughput >= 2 && p.rtf >= 2 && (!hasMonitor || p.levels >= 2) &&
      (!WANT_SPAN || p.spans >= 2) ? p : null;
  }, 20000, 500);
  log(`chart points: ${JSON.stringify(points)} (charts from ${await dash('chartsMode')})`);
  if (historyProbe.status === 200) check((await dash('chartsMode')) === 'history', `the charts do not read the history endpoint (mode ${await dash('chartsMode')})`);
  // hovering the latency chart near "now" shows the values there
  const canvas = page.locator('[data-chart="latency"] canvas');
  await canvas.scrollIntoViewIfNeeded();
  const box = await canvas.boundingBox();
  await until('a tooltip over the latency chart', async () => {
    await page.mouse.move(box.x + box.width - 12, box.y + box.height / 2);
    return (await page.locator('#d-tooltip').isVisible()) && /\u2192/.test(await text('#d-tooltip'));
  }, 8000, 500);
  await page.mouse.move(2, 2);
  await page.evaluate(() => window.scrollTo(0, 0));
  const legend = await page.locator('[data-chart="latency"] .legend').textContent();
  check(/\u2192/.test(legend), `the latency legend names no source \u2192 sink path ("${legend}")`);
  const spanLegend = await page.locator('[data-chart="spans"] .legend').textContent();
  if (WANT_SPAN) {
    check(spanLegend.includes(WANT_SPAN.name) && /[0-9.]+ (ns|\u00b5s|ms|s)/.test(spanLegend),
      `the Stage spans legend lacks ${WANT_SPAN.name} and its latency ("${spanLegend}")`);
  } else if (!pipe.elements.some((e) => e.span)) {
    check(/no stage span/.test(spanLegend), `the Stage spans chart of a pipeline without span says "${spanLegend}"`);
  }

  // 6b. the 1 h range reads the history tiers (?since=-3600&step=10)
  if (historyProbe.status === 200) {
    await page.locator('#d-window button[data-window="3600"]').click();
    await until('the 1 h range read from the history tiers, with latency points', async () => {
      const p = await dash('chartPoints');
      return (await dash('longWindow')) === 3600 && p && p.latency >= 1;
    }, 25000, 500);
    await page.locator('#d-window button[data-window="300"]').click();
  }

  // 7. jobs: the running job with its correlation id
  const jobs = (await getJson('/monitoring/jobs')).body;
  const job = (jobs.active || [])[0] || (jobs.finished || [])[0];
  check(job, 'the service lists no job');
  const row = page.locator(`#d-jobs-table tr[data-job="${job.job_id}"]`);
  await row.waitFor({ timeout: 10000 });
  const rowText = await row.textContent();
  check(rowText.includes(job.correlation_id), `the row of job ${job.job_id} lacks its correlation id`);
  check(rowText.includes(job.status), `the row of job ${job.job_id} lacks its status ${job.status}`);
  log(`job ${job.job_id} (${job.status}, ${job.correlation_id}) listed`);

  // 8. alerts: resolve one when the service has an active one
  if (alertsAbsent) {
    log('NOTE: the service has no /monitoring/alerts (404): resolve part skipped');
    await until('the "no alert engine" note', async () => /no alert engine/i.test(await text('#d-alerts-active')), 10000);
  } else {
    const activeAlerts = async () => ((await getJson('/monitoring/alerts')).body.alerts || [])
      .filter((a) => a.state === 'firing' || a.state === 'pending');
    let target;
    if (args['want-alert']) {
      target = await until(`an active alert of rule ${args['want-alert']}`, async () =>
        (await activeAlerts()).find((a) => a.rule === args['want-alert']), 30000, 500);
    } else {
      target = (await activeAlerts())[0];
    }
    if (!target) {
      log('NOTE: no active alert on the service: resolve part skipped');
      await until('"No active alerts"', async () => /No active alerts/.test(await text('#d-alerts-active')), 10000);
    } else {
      const id = String(target.id);
      const item = page.locator(`#d-alerts-active li[data-alert="${id}"]`);
      await item.waitFor({ timeout: 10000 });
      check((await item.textContent()).includes(target.rule), `the alert ${id} does not show its rule ${target.rule}`);
      await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-alert.png') });
      await item.locator('button[data-resolve]').click({ timeout: 5000 });
      await until(`alert ${id} to leave the active list`, async () => (await item.count()) === 0, 10000);
      const after = await until(`alert ${id} resolved in /monitoring/alerts/history`, async () => {
        const hist = (await getJson('/monitoring/alerts/history')).body;
        return ((hist && hist.alerts) || []).find((a) => String(a.id) === id && a.state === 'resolved');
      }, 10000);
      check(after.resolved_by === 'manual', `alert ${id} resolved_by is ${after.resolved_by}, not manual`);
      await page.locator(`#d-history-table tr[data-alert="${id}"]`).waitFor({ timeout: 10000 });
      log(`alert ${id} (${target.rule}) resolved from the dashboard`);
    }
  }

  // 9. screenshots of what a 1366x768 laptop shows, and of the whole page
  await page.mouse.move(5, 5);
  await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard.png') });
  await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-full.png'), fullPage: true });
  log(`screenshots in ${ARTIFACTS}; WebSocket messages by type: ${JSON.stringify(await dash('wsMessages'))}`);

  check(!serviceDied(), `the service process ${servicePid} died during the test (see its stderr)`);
  let bad = unexpectedErrors();
  check(!bad.length, `console errors: ${bad.map((e) => e.text + (e.url ? ` (${e.url})` : '')).join(' | ')}`);

  // 10. the service goes away and comes back on the same port
  if (args['restart-pid'] && args['restart-cmd']) {
    const pid = Number(args['restart-pid']);
    const updatesBefore = await dash('updates');
    outage = { from: Date.now(), to: null };
    servicePid = 0;
    log(`SIGTERM ${pid}`);
    process.kill(pid, 'SIGTERM');
    await until('the service to stop answering', async () => !(await answers()), 10000);
    await until('the dashboard to show it is offline', async () =>
      (await dash('transport')) === 'offline' && await page.locator('#d-banner').isVisible(), 20000, 250);
    log('dashboard: offline');
    const shown = await text('#d-uptime');
    restartChild = spawn('bash', ['-c', args['restart-cmd']], {
      detached: true,
      stdio: ['ignore', fs.openSync(path.join(ARTIFACTS, 'restart.out'), 'w'), fs.openSync(path.join(ARTIFACTS, 'restart.err'), 'w')],
    });
    fs.writeFileSync(path.join(ARTIFACTS, 'restart.pid'), `${restartChild.pid}\n`);
    log(`restarted the pipeline (pid ${restartChild.pid})`);
    servicePid = restartChild.pid;
    await until('the new service to answer', answers, 20000);
    await until(`the dashboard to recover (transport "${wantMode}")`, async () =>
      (await dash('transport')) === wantMode && !(await page.locator('#d-banner').isVisible()), 25000, 250);
    outage.to = Date.now();
    await until('new figures from the new process', async () =>
      (await dash('updates')) > updatesBefore + 1 && (await text('#d-uptime')) !== shown, 10000, 250);
    await page.locator(`[data-pipeline] svg .node[data-element="${src.name}"]`).waitFor({ timeout: 10000 });
    log(`dashboard recovered: ${wantMode}, uptime ${await text('#d-uptime')}`);
    await sleep(1500);
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-recovered.png') });
    check(!serviceDied(), `the service process ${servicePid} died during the test (see its stderr)`);
  bad = unexpectedErrors();
    check(!bad.length, `console errors: ${bad.map((e) => e.text + (e.url ? ` (${e.url})` : '')).join(' | ')}`);
  }

  fs.writeFileSync(path.join(ARTIFACTS, 'console.log'), consoleLog.join('\n') + '\n');
  const tolerated = errors.length;
  if (tolerated) log(`${tolerated} console error(s), all expected (planned outage or missing alerts API); see console.log`);
  log('PASS');
}

function stopRestartChild() {
  if (restartChild && restartChild.exitCode === null) {
    try { process.kill(-restartChild.pid, 'SIGKILL'); } catch { /* gone */ }
  }
}
process.on('exit', stopRestartChild);

const watchdog = setTimeout(async () => {
  console.error(`[dashboard-test] FAIL: global timeout (${GLOBAL_TIMEOUT_MS / 1000} s)`);
  await saveArtifacts('failure-');
  process.exit(1);
}, GLOBAL_TIMEOUT_MS);
watchdog.unref();

let code = 0;
try {
  await main();
} catch (e) {
  code = 1;
  console.error(`[dashboard-test] FAIL: ${e instanceof TestFailure ? e.message : e.stack || e}`);
  if (consoleLog.length) console.error('--- page console:\n' + consoleLog.slice(-30).join('\n'));
  await saveArtifacts('failure-');
} finally {
  clearTimeout(watchdog);
  stopRestartChild();
  if (context) await context.close().catch(() => {});
}
process.exit(code);
