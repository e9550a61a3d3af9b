// Browser test of the dashboard's A/B comparison card against a service
// whose jobs carry the label "variant" (tests/e2e/compare_app.py):
//
//   node compare-dashboard.mjs --url http://127.0.0.1:PORT --artifacts DIR
//
// The card appears, lists each group with its figures, marks the baseline,
// and shows the slower variant's times (and its lower success rate) as
// significant, as GET /monitoring/jobs/compare says.  Every wait is bounded.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const argv = process.argv.slice(2);
const arg = (name) => { const i = argv.indexOf(`--${name}`); return i >= 0 ? argv[i + 1] : undefined; };
const BASE = (arg('url') || '').replace(/\/+$/, '');
const ARTIFACTS = path.resolve(arg('artifacts') || 'artifacts');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
fs.mkdirSync(ARTIFACTS, { recursive: true });

const log = (...m) => console.log('[compare-dashboard]', ...m);
const check = (cond, msg) => { if (!cond) throw new Error(msg); };

async function until(what, fn, ms = 15000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const errors = [];
let context, page;
try {
  const cmp = await (await fetch(`${BASE}/monitoring/jobs/compare?by=variant`)).json();
  check(cmp.baseline === 'a' && cmp.groups.length === 2, `unexpected comparison: ${JSON.stringify(cmp)}`);
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'apm-compare-chromium-'));
  process.on('exit', () => { try { fs.rmSync(userDataDir, { recursive: true, force: true }); } catch { /* */ } });
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM, headless: true, timeout: 30000,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-dev-shm-usage',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1366, height: 900 },
  });
  page = context.pages()[0] || await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(`uncaught: ${e.message}`));
  await page.goto(`${BASE}/monitoring/dashboard`, { waitUntil: 'load', timeout: 20000 });

  await until('the comparison card', () => page.isVisible('#d-compare-card'));
  check(await page.inputValue('#d-compare-by') === 'variant', 'the card does not compare by variant');
  const row = (g) => page.locator(`#d-compare-table tr[data-group="${g}"]`);
  await until('rows for a and b', async () => await row('a').count() === 1 && await row('b').count() === 1);
  const cells = async (g) => (await row(g).locator('td').allTextContents()).map((t) => t.trim());
  const a = await cells('a'), b = await cells('b');
  log('a:', a.join(' | '));
  log('b:', b.join(' | '));
  check(a[0] === 'a (baseline)', `the baseline is not marked: ${a[0]}`);
  check(a[1] === '12' && b[1] === '10', `job counts ${a[1]}, ${b[1]}`);
  check(a[2] === '100.0 %' && b[2] === '50.0 %', `success rates ${a[2]}, ${b[2]}`);
  check(/ms$/.test(b[4]), `b's p50 should be tens of ms: ${b[4]}`);
  check(/^\+/.test(b[7]), `b's p50 should be above the baseline's: ${b[7]}`);
  const cmpB = cmp.comparisons.find((c) => c.group === 'b');
  for (const [test, idx, key] of [['times', 8, 'processing_seconds'], ['success', 10, 'success_rate']]) {
    const cell = row('b').locator(`td[data-test="${test}"]`);
    check(await cell.count() === 1, `no ${test} p-value cell`);
    const significant = (await cell.getAttribute('class')).includes('significant');
    check(significant === cmpB[key].significant, `the ${test} p-value ${b[idx]} is shown ${significant ? '' : 'not '}as significant`);
    check(significant, `b's ${test} difference should be significant (p ${b[idx]})`);
  }
  check(/\u2212/.test(b[9]), `b's success difference should be negative: ${b[9]}`);
  check(!errors.length, `console errors: ${errors.join(' | ')}`);
  await page.locator('#d-compare-card').screenshot({ path: path.join(ARTIFACTS, 'compare-card.png') });
  log('PASS');
  await context.close();
  process.exit(0);
} catch (e) {
  console.error(`[compare-dashboard] FAIL: ${e.message}`);
  if (page) {
    try { await page.screenshot({ path: path.join(ARTIFACTS, 'failure-compare.png'), fullPage: true }); } catch { /* */ }
  }
  if (context) await context.close().catch(() => {});
  process.exit(1);
}
