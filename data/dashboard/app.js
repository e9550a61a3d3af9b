/* gst-apm dashboard.
 *
 * Plain browser JavaScript, no dependencies, no network access beyond the
 * service that serves this file (same origin).
 *
 * Data flow:
 *  - the status document (/monitoring/status) drives health, service
 *    figures and the pipeline graphs.  It comes from the WebSocket
 *    /ws/monitoring (snapshot, then monitoring_update about once a second)
 *    when the service offers it, otherwise from polling /monitoring/status
 *    every second.  A lost connection falls back to polling, and polling
 *    backs off while the service is gone; the WebSocket is tried again as
 *    soon as the service answers.
 *  - the charts come from the service's per-series history
 *    (/monitoring/metrics/NAME?since=...), filled back on load and then read
 *    incrementally; on a service without that endpoint they sample /metrics.
 *    Every point is in the service's clock (Unix seconds).
 *  - jobs and alerts are read every few seconds, and at once when the
 *    WebSocket announces a job or an alert event.
 *
 * The DOM is built with textContent only: element and pipeline names come
 * from users.
 */
(function () {
  'use strict';

  var CFG = {
    statusPollMs: 1000,
    chartPollMs: 2000,
    listPollMs: 5000,
    discoverMs: 30000,
    discoverMissingMs: 2000, /* first re-read while a charted family is absent (doubles up to discoverMs) */
    keepSeconds: 960,
    longPoints: 360,      /* windows past keepSeconds: points a chart, read from the tiers */
    wsWatchdogMs: 6000,
    wsTopics: ['monitoring_update', 'alert', 'job', 'health', 'breaker'],
    maxJobs: 60,
    maxLegend: 8,
  };

  /* ------------------------------------------------------------------ */
  /* helpers                                                             */

  var SVGNS = 'http://www.w3.org/2000/svg';

  function byId(id) { return document.getElementById(id); }

  /* h('div', {class: 'x', title: 'y'}, child, 'text', ...) */
  function h(tag, attrs) {
    var node = document.createElement(tag);
    setAttrs(node, attrs);
    for (var i = 2; i < arguments.length; i++) append(node, arguments[i]);
    return node;
  }

  function svg(tag, attrs) {
    var node = document.createElementNS(SVGNS, tag);
    setAttrs(node, attrs);
    for (var i = 2; i < arguments.length; i++) append(node, arguments[i]);
    return node;
  }

  function setAttrs(node, attrs) {
    if (!attrs) return;
    Object.keys(attrs).forEach(function (k) {
      var v = attrs[k];
      if (v === null || v === undefined || v === false) return;
      if (k === 'text') node.textContent = String(v);
      else if (k === 'on') Object.keys(v).forEach(function (ev) { node.addEventListener(ev, v[ev]); });
      else node.setAttribute(k, String(v));
    });
  }

  function append(node, child) {
    if (child === null || child === undefined || child === false) return;
    if (Array.isArray(child)) { child.forEach(function (c) { append(node, c); }); return; }
    node.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)));
  }

  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

  function setText(node, text) {
    text = String(text);
    if (node && node.textContent !== text) node.textContent = text;
  }

  function isNum(v) { return typeof v === 'number' && isFinite(v); }

  function natCompare(a, b) { return String(a).localeCompare(String(b), undefined, { numeric: true }); }

  function trunc(s, n) { s = String(s); return s.length > n ? s.slice(0, n - 1) + '\u2026' : s; }

  function fmtNum(v, digits) {
    if (!isNum(v)) return '\u2014';
    var a = Math.abs(v);
    if (digits === undefined) digits = a >= 100 ? 0 : a >= 10 ? 1 : 2;
    return v.toFixed(digits);
  }

  function fmtDuration(s) {
    if (!isNum(s)) return '\u2014';
    var a = Math.abs(s);
    if (a === 0) return '0';
    if (a < 1e-6) return fmtNum(s * 1e9) + ' ns';
    if (a < 1e-3) return fmtNum(s * 1e6) + ' \u00b5s';
    if (a < 1) return fmtNum(s * 1e3) + ' ms';
    if (a < 120) return fmtNum(s) + ' s';
    return fmtUptime(s);
  }

  function fmtUptime(s) {
    if (!isNum(s)) return '\u2014';
    s = Math.max(0, Math.floor(s));
    var d = Math.floor(s / 86400), hh = Math.floor(s / 3600) % 24;
    var mm = Math.floor(s / 60) % 60, ss = s % 60;
    function p(n) { return n < 10 ? '0' + n : String(n); }
    if (d) return d + 'd ' + p(hh) + 'h ' + p(mm) + 'm';
    if (hh) return hh + 'h ' + p(mm) + 'm ' + p(ss) + 's';
    if (mm) return mm + 'm ' + p(ss) + 's';
    return ss + 's';
  }

  function fmtBytes(n) {
    if (!isNum(n)) return '\u2014';
    var a = Math.abs(n), units = ['B', 'kB', 'MB', 'GB', 'TB'], i = 0;
    while (a >= 1000 && i < units.length - 1) { a /= 1000; n /= 1000; i++; }
    return (i === 0 ? String(Math.round(n)) : fmtNum(n)) + ' ' + units[i];
  }

  function fmtCount(n) {
    if (!isNum(n)) return '\u2014';
    var a = Math.abs(n);
    if (a < 1e4) return String(Math.round(n));
    if (a < 1e6) return fmtNum(n / 1e3) + 'k';
    if (a < 1e9) return fmtNum(n / 1e6) + 'M';
    return fmtNum(n / 1e9) + 'G';
  }

  function fmtRtf(v) {
    if (!isNum(v)) return '\u2014';
    if (v >= 1000) return fmtCount(v) + '\u00d7';
    return fmtNum(v, v >= 100 ? 0 : v >= 10 ? 1 : 2) + '\u00d7';
  }

  function pad2(n) { return n < 10 ? '0' + n : String(n); }

  function fmtClock(ms, withSeconds) {
    var d = new Date(ms);
    var t = pad2(d.getHours()) + ':' + pad2(d.getMinutes());
    return withSeconds === false ? t : t + ':' + pad2(d.getSeconds());
  }

  function fmtDay(ms) {
    var d = new Date(ms);
    return pad2(d.getMonth() + 1) + '-' + pad2(d.getDate());
  }

  function parseTime(iso) {
    if (!iso) return NaN;
    return Date.parse(iso);
  }

  function fmtTime(iso) {
    var ms = parseTime(iso);
    if (!isFinite(ms)) return '\u2014';
    var d = new Date(ms), now = new Date();
    var t = fmtClock(ms);
    if (d.toDateString() !== now.toDateString())
      t = d.getFullYear() + '-' + pad2(d.getMonth() + 1) + '-' + pad2(d.getDate()) + ' ' + t;
    return t;
  }

  function fmtAge(iso) {
    var ms = parseTime(iso);
    if (!isFinite(ms)) return '';
    var s = Math.max(0, (serverNowMs() - ms) / 1000);
    if (s < 1.5) return 'just now';
    if (s < 90) return Math.round(s) + ' s ago';
    if (s < 5400) return Math.round(s / 60) + ' min ago';
    if (s < 129600) return Math.round(s / 3600) + ' h ago';
    return Math.round(s / 86400) + ' d ago';
  }

  /* JSON from the service; doubles that are not finite would come as bare
   * words (inf, nan), which JSON.parse refuses: read them as null. */
  function parseJSON(text) {
    try {
      return JSON.parse(text);
    } catch (e) {
      var fixed = text.replace(/([\[,:]\s*)[-+]?(?:inf(?:inity)?|nan)\b/gi, '$1null');
      return JSON.parse(fixed);
    }
  }

  function request(path, opts) {
    var init = { cache: 'no-store', headers: { Accept: 'application/json' } };
    if (opts) Object.keys(opts).forEach(function (k) { init[k] = opts[k]; });
    return fetch(path, init).then(function (r) {
      return r.text().then(function (text) {
        var data = null;
        if (text && /json/.test(r.headers.get('Content-Type') || '')) {
          try { data = parseJSON(text); } catch (e) { data = null; }
        }
        return { ok: r.ok, status: r.status, data: data, text: text };
      });
    }, function (err) {
      return { ok: false, status: 0, data: null, text: '', error: err };
    });
  }

  /* Errors inside the update loops: keep the loops alive, show the problem,
   * and still let it surface as an uncaught error for the developer. */
  function reportError(where, err) {
    showBanner('Dashboard error in ' + where + ': ' + (err && err.message ? err.message : err));
    setTimeout(function () { throw err; }, 0);
  }

  function guard(where, fn) {
    return function () {
      try { return fn.apply(this, arguments); } catch (e) { reportError(where, e); }
    };
  }

  var bannerOwner = null;
  function showBanner(text, owner) {
    var b = byId('d-banner');
    bannerOwner = owner || 'error';
    setText(b, text);
    b.hidden = false;
  }
  function hideBanner(owner) {
    if (owner && bannerOwner !== owner) return;
    byId('d-banner').hidden = true;
    bannerOwner = null;
  }

  var toastTimer = null;
  function toast(text, isError) {
    var t = byId('d-toast');
    setText(t, text);
    t.className = 'toast' + (isError ? ' toast-error' : '');
    t.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { t.hidden = true; }, 4000);
  }

  /* ------------------------------------------------------------------ */
  /* the service's clock                                                 */

  var clock = { offsetMs: 0, known: false };

  function serverNowMs() { return Date.now() + clock.offsetMs; }

  function syncClock(serverMs) {
    if (!isFinite(serverMs)) return;
    var off = serverMs - Date.now();
    /* smooth small jitter, jump on big differences */
    if (!clock.known || Math.abs(off - clock.offsetMs) > 2000) clock.offsetMs = off;
    else clock.offsetMs = clock.offsetMs * 0.8 + off * 0.2;
    clock.known = true;
  }

  /* ------------------------------------------------------------------ */
  /* state                                                               */

  var state = {
    status: null,          /* last /monitoring/status document */
    statusAt: 0,           /* Date.now() when it arrived */
    updates: 0,            /* status documents applied */
    serviceId: null,       /* service.started_at: changes when the process does */
    jobsKey: '',
    jobs: null,
    compareBy: null,       /* the label jobs are compared by */
    comparison: null,      /* last /monitoring/jobs/compare document */
    alertsApi: 'unknown',  /* unknown | present | absent */
    alertsActive: [],
    alertsHistory: [],
    resolving: {},
    windowSeconds: 300,
    throughputUnit: 'bytes',
    wsMessages: {},        /* WebSocket messages received, by type */
    breakerEvents: [],     /* the latest "breaker" events, newest first */
    logSummary: null,      /* last /monitoring/logs/summary document */
  };

  /* ------------------------------------------------------------------ */
  /* connection: WebSocket with polling fallback                         */

  var conn = {
    mode: 'connecting',      /* connecting | websocket | polling | offline */
    ws: null,
    wsOpen: false,
    wsUnavailable: false,    /* handshake refused while HTTP works */
    wsRetryTimer: null,
    wsRetryMs: 1000,
    wsLastMessage: 0,
    httpFailures: 0,
    httpUp: false,
    pollTimer: null,
    offlineSince: 0,
  };

  function setMode(mode) {
    if (conn.mode === mode) return;
    conn.mode = mode;
    var t = byId('d-transport');
    t.setAttribute('data-transport', mode);
    setText(byId('d-transport-text'), {
      connecting: 'connecting\u2026',
      websocket: 'live \u00b7 WebSocket',
      polling: 'live \u00b7 polling',
      offline: 'offline \u00b7 reconnecting',
    }[mode] || mode);
    if (mode === 'offline') {
      conn.offlineSince = Date.now();
      showBanner('The service does not answer (since ' + fmtClock(Date.now()) +
        '). Retrying with backoff; the figures below are the last known ones.', 'offline');
    } else {
      hideBanner('offline');
    }
  }

  function wsUrl() {
    return (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws/monitoring';
  }

  function connectWs() {
    if (conn.ws || typeof WebSocket === 'undefined') return;
    clearTimeout(conn.wsRetryTimer);
    conn.wsRetryTimer = null;
    var ws;
    try {
      ws = new WebSocket(wsUrl());
    } catch (e) {
      conn.wsUnavailable = true;
      return;
    }
    conn.ws = ws;
    conn.wsOpen = false;
    ws.onopen = function () {
      conn.wsOpen = true;
      conn.wsUnavailable = false;
      conn.wsRetryMs = 1000;
      conn.wsLastMessage = Date.now();
      try {
        ws.send(JSON.stringify({ type: 'subscribe', topics: CFG.wsTopics }));
      } catch (e) { /* closed meanwhile: onclose handles it */ }
      setMode('websocket');
    };
    ws.onmessage = guard('WebSocket message', function (ev) {
      conn.wsLastMessage = Date.now();
      var msg;
      try { msg = parseJSON(ev.data); } catch (e) { return; }
      if (!msg || typeof msg !== 'object') return;
      onWsMessage(msg);
    });
    ws.onerror = function () { /* onclose follows */ };
    ws.onclose = function (ev) {
      var wasOpen = conn.wsOpen;
      conn.ws = null;
      conn.wsOpen = false;
      if (conn.mode === 'websocket') setMode('polling');
      if (wasOpen) {
        /* the service went away, restarted, or dropped us (1008: too many
         * clients or too slow): poll now, and come back to the WebSocket */
        conn.wsRetryMs = ev && ev.code === 1008 ? 30000 : 1000;
        scheduleWs(conn.wsRetryMs);
      } else if (conn.httpUp) {
        /* HTTP answers but the handshake failed: no WebSocket endpoint
         * (older service) or refused; try rarely, and on a restart */
        conn.wsUnavailable = true;
        conn.wsRetryMs = Math.min(Math.max(conn.wsRetryMs * 2, 60000), 300000);
        scheduleWs(conn.wsRetryMs);
      } else {
        /* nothing answers: the HTTP poll brings the WebSocket back */
        conn.wsRetryMs = 1000;
      }
      pollSoon(0);
    };
  }

  function scheduleWs(ms) {
    clearTimeout(conn.wsRetryTimer);
    conn.wsRetryTimer = setTimeout(function () {
      conn.wsRetryTimer = null;
      if (conn.httpUp) connectWs();
    }, ms);
  }

  function onWsMessage(msg) {
    var k = String(msg.type);
    state.wsMessages[k] = (state.wsMessages[k] || 0) + 1;
    switch (msg.type) {
      case 'snapshot':
      case 'monitoring_update':
        if (msg.data && typeof msg.data === 'object') {
          applyStatus(msg.data, parseTime(msg.timestamp));
          conn.httpUp = true;
        }
        break;
      /* events carry the object itself, or {"event": ..., "<kind>": object} */
      case 'alert':
        if (msg.data) onAlertEvent(unwrap(msg.data, 'alert'));
        break;
      case 'job':
        if (msg.data) onJobEvent(unwrap(msg.data, 'job'));
        break;
      case 'health':
        if (msg.data) onHealthEvent(unwrap(msg.data, 'check'));
        break;
      case 'breaker':
        if (msg.data) onBreakerEvent(msg.data);
        break;
      default:
        /* 'error' and unknown types: nothing to show */
        break;
    }
  }

  function unwrap(data, key) {
    return data[key] && typeof data[key] === 'object' && !Array.isArray(data[key]) ? data[key] : data;
  }

  function pollSoon(ms) {
    clearTimeout(conn.pollTimer);
    conn.pollTimer = setTimeout(pollStatus, ms);
  }

  function pollStatus() {
    conn.pollTimer = null;
    if (conn.wsOpen) {
      /* the feed stalled: drop it and poll */
      if (Date.now() - conn.wsLastMessage > CFG.wsWatchdogMs && conn.ws) {
        try { conn.ws.close(); } catch (e) { /* ignore */ }
      }
      pollSoon(CFG.statusPollMs);
      return;
    }
    request('/monitoring/status').then(guard('status', function (r) {
      if (r.ok && r.data && typeof r.data === 'object') {
        var wasDown = !conn.httpUp;
        conn.httpUp = true;
        conn.httpFailures = 0;
        applyStatus(r.data, NaN);
        if (!conn.wsOpen) setMode('polling');
        if (wasDown || (!conn.ws && !conn.wsUnavailable && !conn.wsRetryTimer)) connectWs();
        if (wasDown) { refreshLists(); chartTick(); }
        pollSoon(CFG.statusPollMs);
      } else {
        conn.httpUp = false;
        conn.httpFailures++;
        if (!conn.wsOpen) setMode('offline');
        /* 1 s, 2 s, 4 s, 8 s, then every 10 s */
        pollSoon(Math.min(1000 * Math.pow(2, conn.httpFailures - 1), 10000));
      }
    }));
  }

  /* ------------------------------------------------------------------ */
  /* status document                                                     */

  function applyStatus(doc, serverMs) {
    var svc = doc.service || {};
    if (!isFinite(serverMs) && svc.started_at && isNum(svc.uptime_seconds))
      serverMs = parseTime(svc.started_at) + svc.uptime_seconds * 1000;
    syncClock(serverMs);

    var id = svc.started_at || null;
    if (id && state.serviceId && id !== state.serviceId) onServiceRestart();
    state.serviceId = id;
    state.status = doc;
    state.statusAt = Date.now();
    state.updates++;

    renderOverall(doc);
    renderHealth(doc.health_checks || {});
    renderBreakers(doc.health_checks || {});
    renderService(doc);
    renderPipelines(doc.pipelines || []);
    setText(byId('d-updated'), fmtClock(Date.now()));

    var jobsKey = JSON.stringify(doc.jobs || {});
    if (jobsKey !== state.jobsKey) {
      var first = state.jobsKey === '';
      state.jobsKey = jobsKey;
      if (!first) debounce('jobs', refreshJobs, 200);
    }
  }

  /* the process behind the URL changed: forget what belongs to the old one */
  function onServiceRestart() {
    state.alertsApi = 'unknown';
    conn.wsUnavailable = false;
    metrics.hist = {};
    metrics.cursor = {};
    metrics.families = null;
    metrics.discoveredAt = 0;
    if (!conn.ws) connectWs();
    refreshLists();
  }

  function statusClass(s) {
    return s === 'healthy' || s === 'degraded' || s === 'unhealthy' ? s : 'unknown';
  }

  function renderOverall(doc) {
    var s = doc.status || 'unknown';
    var pill = byId('d-overall');
    pill.className = 'pill pill-' + statusClass(s);
    setText(pill, s);
    var t = s + ' \u00b7 gst-apm';
    if (document.title !== t) document.title = t;
  }

  function renderHealth(checks) {
    var ul = byId('d-health-checks');
    var names = Object.keys(checks).sort(natCompare);
    var counts = { healthy: 0, degraded: 0, unhealthy: 0, unknown: 0 };
    clear(ul);
    if (!names.length) {
      ul.appendChild(h('li', { class: 'empty', text: 'No health checks registered yet.' }));
    }
    names.forEach(function (name) {
      var c = checks[name] || {};
      var cls = statusClass(c.status);
      counts[cls]++;
      var tip = name + ': ' + (c.status || 'unknown') + (c.message ? '\n' + c.message : '');
      if (c.details && typeof c.details === 'object')
        Object.keys(c.details).forEach(function (k) { tip += '\n' + k + ': ' + JSON.stringify(c.details[k]); });
      if (isNum(c.duration_seconds)) tip += '\nran in ' + fmtDuration(c.duration_seconds);
      ul.appendChild(h('li', { title: tip, 'data-check': name },
        h('span', { class: 'dot dot-' + cls }),
        h('span', { class: 'check-name', text: name }),
        h('span', { class: 'check-msg', text: c.message || c.status || '' }),
        spaceMeter(c.details, cls),
        h('span', { class: 'check-age', text: fmtAge(c.last_run) })));
    });
    var parts = [];
    ['healthy', 'degraded', 'unhealthy', 'unknown'].forEach(function (k) {
      if (counts[k]) parts.push(counts[k] + ' ' + k);
    });
    setText(byId('d-health-summary'), parts.join(' \u00b7 '));
  }

  /* a filesystem check (disk:<mount>, path checks) reports free_bytes,
   * total_bytes and free_ratio: a small bar of the space in use; the
   * message already says "12.3 GiB free of 50 GiB (24 %)" */
  function spaceMeter(details, cls) {
    var d = details && typeof details === 'object' ? details : {};
    var ratio = d.free_ratio;
    if (!isNum(ratio) && isNum(d.free_bytes) && isNum(d.total_bytes) && d.total_bytes > 0)
      ratio = d.free_bytes / d.total_bytes;
    if (!isNum(ratio)) return h('span', { class: 'meter-none' });
    var used = Math.min(1, Math.max(0, 1 - ratio));
    return h('span', { class: 'meter meter-' + cls, 'data-free-ratio': ratio.toFixed(4),
      title: fmtNum(ratio * 100, 1) + ' % free' + (isNum(d.free_bytes) ? ', ' + fmtBytes(d.free_bytes) : '') },
      h('span', { class: 'meter-fill', style: 'width:' + (used * 100).toFixed(1) + '%' }));
  }

  function onHealthEvent(data) {
    var doc = state.status;
    if (!doc) return;
    if (data.health_checks && typeof data.health_checks === 'object') {
      doc.health_checks = data.health_checks;
    } else if (data.name && data.status) {
      doc.health_checks = doc.health_checks || {};
      doc.health_checks[data.name] = data;
    } else {
      return;
    }
    if (data.overall || data.status_overall) doc.status = data.overall || data.status_overall;
    renderHealth(doc.health_checks);
  }

  function renderService(doc) {
    var svc = doc.service || {};
    var jobs = doc.jobs || {};
    var sm = doc.system_metrics || {};
    setText(byId('d-uptime'), fmtUptime(svc.uptime_seconds));
    byId('d-uptime').title = svc.started_at ? 'started ' + fmtTime(svc.started_at) : '';
    setText(byId('d-version'), svc.version ? 'v' + svc.version : '');
    setText(byId('d-service-url'), svc.url || location.host);
    setText(byId('d-jobs-active'), fmtCount(isNum(jobs.active) ? jobs.active : sm.active_jobs));
    setText(byId('d-jobs-started'), fmtCount(jobs.started));
    setText(byId('d-jobs-counts'), [jobs.succeeded, jobs.failed].map(fmtCount).join(' / '));
    setText(byId('d-ws-clients'), fmtCount(sm.websocket_connections));
    setText(byId('d-series'), fmtCount(sm.series));
  }

  /* ------------------------------------------------------------------ */
  /* pipeline graphs                                                     */

  var G = { W: 160, H: 76, GX: 30, GY: 14, PX: 4, PY: 16 };
  var pipeViews = {};

  function renderPipelines(pipes) {
    var host = byId('d-pipelines');
    var seen = {};
    if (!pipes.length) {
      Object.keys(pipeViews).forEach(function (k) { delete pipeViews[k]; });
      if (!host.querySelector('.no-pipelines')) {
        clear(host);
        host.appendChild(h('article', { class: 'card no-pipelines' },
          h('div', { class: 'empty', text: 'No pipeline is being watched. Pipelines appear here when they go to READY under the apm tracer or with an apmonitor element.' })));
      }
      return;
    }
    var none = host.querySelector('.no-pipelines') || host.querySelector(':scope > .card:not([data-pipeline])');
    if (none) none.remove();
    pipes.forEach(function (p, i) {
      var name = String(p.name);
      seen[name] = true;
      var view = pipeViews[name];
      if (!view) {
        view = pipeViews[name] = createPipeView(name);
      }
      if (host.children[i] !== view.card) host.insertBefore(view.card, host.children[i] || null);
      updatePipeView(view, p);
    });
    Object.keys(pipeViews).forEach(function (name) {
      if (!seen[name]) {
        pipeViews[name].card.remove();
        delete pipeViews[name];
      }
    });
  }

  function createPipeView(name) {
    var v = { name: name, topoKey: null, nodes: {} };
    v.stateEl = h('span', { class: 'state' });
    v.facts = h('div', { class: 'pipe-facts' });
    v.graphWrap = h('div', { class: 'graph-wrap' });
    v.tbody = h('tbody');
    v.details = h('details', { class: 'el-details' },
      h('summary', { text: 'Element statistics' }),
      h('div', { class: 'table-wrap' },
        h('table', { class: 'table' },
          h('thead', null, h('tr', null,
            ['Element', 'Factory', 'Kind', 'State', 'Thread', 'Buffers in', 'Buffers out',
              'Bytes in', 'Bytes out', 'Media', 'Own mean', 'Own p50', 'Own p95',
              'Stage mean', 'Stage p95', 'RTF'].map(function (t, i) {
              return h('th', { class: i >= 5 ? 'num' : null, text: t });
            }))),
          v.tbody)));
    v.card = h('article', { class: 'card pipeline', 'data-pipeline': name },
      h('div', { class: 'pipe-head' },
        h('span', { class: 'pipe-name', text: name }), v.stateEl, v.facts),
      v.graphWrap, v.details);
    return v;
  }

  function topoKey(p) {
    return JSON.stringify([
      (p.elements || []).map(function (e) { return [e.name, e.kind, e.factory, e.span ? e.span.from || '' : null]; }),
      (p.links || []).map(function (l) { return [l.from, l.from_pad, l.to, l.to_pad]; }),
    ]);
  }

  function layoutPipeline(p) {
    var els = p.elements || [];
    var byName = {};
    els.forEach(function (e) { byName[e.name] = e; });
    var links = (p.links || []).filter(function (l) {
      return byName[l.from] && byName[l.to] && l.from !== l.to;
    });
    var linked = {};
    links.forEach(function (l) { linked[l.from] = linked[l.to] = true; });
    /* a bin whose children are listed and which has no link of its own
     * adds nothing to the graph */
    var nodes = els.filter(function (e) {
      if (e.kind !== 'bin' || linked[e.name]) return true;
      return !els.some(function (o) { return o.name.indexOf(e.name + '/') === 0; });
    });
    var inGraph = {};
    nodes.forEach(function (e) { inGraph[e.name] = true; });
    links = links.filter(function (l) { return inGraph[l.from] && inGraph[l.to]; });

    /* columns: longest path from the sources (bounded: cycles stop) */
    var layer = {}, n = nodes.length;
    nodes.forEach(function (e) { layer[e.name] = 0; });
    for (var it = 0; it < n; it++) {
      var changed = false;
      links.forEach(function (l) {
        var want = layer[l.from] + 1;
        if (want < n && layer[l.to] < want) { layer[l.to] = want; changed = true; }
      });
      if (!changed) break;
    }
    /* then pull each node right, next to its nearest successor, when its
     * predecessors allow it: a short branch joins a mixer where it enters */
    var succ = {}, pred = {};
    links.forEach(function (l) {
      (succ[l.from] = succ[l.from] || []).push(l.to);
      (pred[l.to] = pred[l.to] || []).push(l.from);
    });
    for (it = 0; it < n; it++) {
      var moved = false;
      nodes.forEach(function (e) {
        var ss = succ[e.name];
        if (!ss) return;
        var want = Math.min.apply(null, ss.map(function (x) { return layer[x]; })) - 1;
        var floor = Math.max.apply(null, (pred[e.name] || []).map(function (x) { return layer[x] + 1; }).concat([0]));
        if (want > layer[e.name] && want >= floor) { layer[e.name] = want; moved = true; }
      });
      if (!moved) break;
    }
    var outPads = {};
    links.forEach(function (l) { (outPads[l.from] = outPads[l.from] || []).push(l.from_pad || ''); });
    Object.keys(outPads).forEach(function (k) { outPads[k].sort(natCompare); });

    var cols = [];
    nodes.forEach(function (e) { (cols[layer[e.name]] = cols[layer[e.name]] || []).push(e.name); });
    for (var c = 0; c < cols.length; c++) if (!cols[c]) cols[c] = [];

    /* rows: each column ordered and placed by the mean height of its
     * predecessors (a tee's pads spread around it), overlaps resolved by
     * least squares over blocks of touching boxes */
    var STEP = G.H + G.GY, y = {};
    cols.forEach(function (col, ci) {
      var desired = {}, free = 0;
      col.forEach(function (name) {
        var inc = links.filter(function (l) { return l.to === name && layer[l.from] < ci; });
        if (!inc.length) { desired[name] = null; return; }
        var sum = 0;
        inc.forEach(function (l) {
          var pads = outPads[l.from] || [''];
          var k = pads.indexOf(l.from_pad || '');
          sum += y[l.from] + (k - (pads.length - 1) / 2) * STEP;
        });
        desired[name] = sum / inc.length;
      });
      col.forEach(function (name) {
        if (desired[name] !== null && desired[name] + STEP > free) free = desired[name] + STEP;
      });
      col.forEach(function (name) {
        if (desired[name] === null) { desired[name] = free; free += STEP; }
      });
      col.sort(function (a, b) { return desired[a] - desired[b] || natCompare(a, b); });
      var blocks = [];
      col.forEach(function (name) {
        blocks.push({ names: [name], top: desired[name] });
        while (blocks.length > 1) {
          var prev = blocks[blocks.length - 2], cur = blocks[blocks.length - 1];
          if (prev.top + prev.names.length * STEP <= cur.top + 1e-6) break;
          var names = prev.names.concat(cur.names), sum = 0;
          names.forEach(function (nm, i) { sum += desired[nm] - i * STEP; });
          blocks.splice(blocks.length - 2, 2, { names: names, top: sum / names.length });
        }
      });
      blocks.forEach(function (blk) {
        blk.names.forEach(function (nm, i) { y[nm] = blk.top + i * STEP; });
      });
    });
    var minY = Infinity, maxY = -Infinity;
    nodes.forEach(function (e) { minY = Math.min(minY, y[e.name]); maxY = Math.max(maxY, y[e.name]); });
    if (!nodes.length) { minY = 0; maxY = 0; }
    var pos = {};
    cols.forEach(function (col, ci) {
      col.forEach(function (name) {
        pos[name] = { x: G.PX + ci * (G.W + G.GX), y: G.PY + y[name] - minY };
      });
    });
    var fullH = maxY - minY + G.H;
    return {
      nodes: nodes, links: links, pos: pos, layer: layer, cols: cols,
      width: G.PX * 2 + cols.length * (G.W + G.GX) - G.GX,
      height: G.PY + fullH + 6,
    };
  }

  function buildGraph(view, p) {
    var L = layoutPipeline(p);
    view.layout = L;
    view.nodes = {};
    var root = svg('svg', {
      class: 'graph', width: L.width, height: L.height,
      viewBox: '0 0 ' + L.width + ' ' + L.height, role: 'img',
      'aria-label': 'graph of pipeline ' + p.name,
    });
    var markerId = 'arrow-' + Math.random().toString(36).slice(2, 8);
    root.appendChild(svg('defs', null,
      svg('marker', { id: markerId, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' },
        svg('path', { d: 'M0,0 L10,5 L0,10 z', fill: '#4a5a70' }))));
    var edges = svg('g', { class: 'edges' });
    L.links.forEach(function (l) {
      var a = L.pos[l.from], b = L.pos[l.to];
      var x1 = a.x + G.W, y1 = a.y + G.H / 2, x2 = b.x - 1, y2 = b.y + G.H / 2, d;
      if (b.x > a.x) {
        var dx = Math.max(12, (x2 - x1) / 2);
        d = 'M' + x1 + ',' + y1 + ' C' + (x1 + dx) + ',' + y1 + ' ' + (x2 - dx) + ',' + y2 + ' ' + x2 + ',' + y2;
      } else {
        /* a link back (cycle): loop under the boxes */
        var yb = Math.max(a.y, b.y) + G.H + 10;
        d = 'M' + x1 + ',' + y1 + ' C' + (x1 + 40) + ',' + yb + ' ' + (x2 - 40) + ',' + yb + ' ' + x2 + ',' + y2;
      }
      var title = l.from + ':' + (l.from_pad || '?') + ' \u2192 ' + l.to + ':' + (l.to_pad || '?');
      edges.appendChild(svg('path', { class: 'edge', d: d, 'marker-end': 'url(#' + markerId + ')' },
        svg('title', { text: title })));
    });
    spanArcs(p, L).forEach(function (a) { edges.appendChild(a); });
    root.appendChild(edges);
    var g = svg('g', { class: 'nodes' });
    L.nodes.forEach(function (e) {
      var q = L.pos[e.name], x = q.x, y = q.y;
      var kind = ['source', 'filter', 'sink', 'bin'].indexOf(e.kind) >= 0 ? e.kind : 'filter';
      var node = {
        title: svg('title'),
        heat: svg('rect', { class: 'heat', x: x + 4, y: y + G.H - 3, width: 0, height: 2, rx: 1 }),
        factory: svg('text', { class: 'n-factory', x: x + 12, y: y + 32 }),
        proc: svg('text', { class: 'n-proc', x: x + 12, y: y + 49 }),
        p95: svg('text', { class: 'n-p95', x: x + G.W - 8, y: y + 49, 'text-anchor': 'end' }),
        bufs: svg('text', { class: 'n-bufs', x: x + 12, y: y + 65 }),
        badge: svg('g', { class: 'bn-badge', visibility: 'hidden' },
          svg('rect', { x: x + G.W - 74, y: y - 9, width: 70, height: 14, rx: 3 }),
          svg('text', { x: x + G.W - 39, y: y + 1.5, 'text-anchor': 'middle', text: 'BOTTLENECK' })),
      };
      node.g = svg('g', { class: 'node kind-' + kind, 'data-element': e.name },
        node.title,
        svg('rect', { class: 'box', x: x, y: y, width: G.W, height: G.H, rx: 6 }),
        svg('rect', { class: 'stripe', x: x, y: y + 6, width: 3, height: G.H - 12, rx: 1.5 }),
        svg('text', { class: 'n-name', x: x + 12, y: y + 17, text: e.name.length > 20 ? '\u2026' + e.name.slice(-19) : e.name }),
        node.factory, node.proc, node.p95, node.bufs, node.heat, node.badge);
      view.nodes[e.name] = node;
      g.appendChild(node.g);
    });
    root.appendChild(g);
    clear(view.graphWrap);
    view.graphWrap.appendChild(root);
  }

  /* the upstream monitor of a span: "from" is an apmonitor's name, looked
   * up by the service nearest first (same bin), so try the downstream
   * monitor's bin, then the top level, then any bin */
  function spanFromNode(L, toName, from) {
    var bin = toName.lastIndexOf('/') >= 0 ? toName.slice(0, toName.lastIndexOf('/') + 1) : '';
    if (L.pos[bin + from]) return bin + from;
    if (L.pos[from]) return from;
    var any = L.nodes.filter(function (e) { return e.name.slice(-from.length - 1) === '/' + from; })[0];
    return any ? any.name : null;
  }

  /* a dashed arc over the stage a span measures, from the top of its
   * upstream monitor to the top of its downstream one */
  function spanArcs(p, L) {
    var out = [];
    L.nodes.forEach(function (e) {
      if (!e.span || !e.span.from) return;
      var fromName = spanFromNode(L, e.name, String(e.span.from));
      if (!fromName || fromName === e.name) return;
      var a = L.pos[fromName], b = L.pos[e.name];
      var x1 = a.x + G.W / 2, y1 = a.y, x2 = b.x + G.W / 2, y2 = b.y;
      /* rises ~12 px: inside the top padding or the gap between rows */
      var d = 'M' + x1 + ',' + y1 + ' C' + x1 + ',' + (y1 - 16) + ' ' + x2 + ',' + (y2 - 16) + ' ' + x2 + ',' + y2;
      out.push(svg('path', { class: 'span-arc', d: d, 'data-span': e.span.name || '' },
        svg('title', { text: 'span ' + (e.span.name || fromName + '->' + e.name) + ': ' + fromName + ' \u2192 ' + e.name })));
    });
    return out;
  }

  function spanSummary(sp) {
    var la = sp.latency || {};
    if (!la.count) return sp.unmatched ? 'unmatched ' + fmtCount(sp.unmatched) : 'no media matched yet';
    return 'p95 ' + fmtDuration(la.p95_seconds) + ', last ' + fmtDuration(la.last_seconds);
  }

  function elementTitle(e) {
    var lines = [e.name + '  (' + (e.factory || '?') + ', ' + (e.kind || '?') + ')'];
    if (e.state) lines.push('state ' + e.state + (e.thread ? ', thread ' + e.thread : ''));
    lines.push('buffers in ' + fmtCount(e.buffers_in) + ', out ' + fmtCount(e.buffers_out));
    lines.push('bytes in ' + fmtBytes(e.bytes_in) + ', out ' + fmtBytes(e.bytes_out));
    if (isNum(e.media_seconds)) lines.push('media ' + fmtDuration(e.media_seconds));
    var pr = e.processing;
    if (pr) lines.push('own processing: mean ' + fmtDuration(pr.mean_seconds) + ', p50 ' +
      fmtDuration(pr.p50_seconds) + ', p95 ' + fmtDuration(pr.p95_seconds) + ' (' + fmtCount(pr.count) + ' buffers)');
    else lines.push('own processing: not measured (a sink that syncs, an aggregator, or a live source)');
    var la = e.latency;
    if (la) lines.push('stage latency: mean ' + fmtDuration(la.mean_seconds) + ', p95 ' + fmtDuration(la.p95_seconds));
    if (isNum(e.realtime_factor)) lines.push('real-time factor ' + fmtRtf(e.realtime_factor));
    var sp = e.span;
    if (sp) {
      lines.push('span ' + (sp.name || '?') + ': ' + spanSummary(sp));
      var sl = sp.latency || {};
      if (sl.count) lines.push('  mean ' + fmtDuration(sl.mean_seconds) + ', p50 ' + fmtDuration(sl.p50_seconds) +
        ' over ' + fmtCount(sl.count) + ' buffers');
      lines.push('  ' + fmtCount(sp.matched) + ' matched, ' + fmtCount(sp.unmatched) + ' unmatched, ' +
        fmtBytes(sp.bytes) + ', media ' + fmtDuration(sp.media_seconds));
    }
    if (e.bottleneck) lines.push('\u2192 the slowest element of the pipeline');
    return lines.join('\n');
  }

  function updatePipeView(view, p) {
    var key = topoKey(p);
    if (key !== view.topoKey) {
      view.topoKey = key;
      buildGraph(view, p);
    }
    var st = p.state || 'UNKNOWN';
    view.stateEl.className = 'state state-' + st;
    setText(view.stateEl, st + (p.pending_state && p.pending_state !== 'VOID_PENDING' ? ' \u2192 ' + p.pending_state : ''));

    var els = p.elements || [];
    var maxMean = 0;
    els.forEach(function (e) {
      if (e.processing && isNum(e.processing.mean_seconds)) maxMean = Math.max(maxMean, e.processing.mean_seconds);
    });
    els.forEach(function (e) {
      var node = view.nodes[e.name];
      if (!node) return;
      var pr = e.processing, la = e.latency;
      var fac = e.factory || '';
      if (la && isNum(la.mean_seconds) && la.mean_seconds - (pr && isNum(pr.mean_seconds) ? pr.mean_seconds : 0) > 50e-6)
        fac += ' \u00b7 holds ' + fmtDuration(la.mean_seconds);
      var sp = e.span && typeof e.span === 'object' ? e.span : null;
      node.g.classList.toggle('has-span', !!sp);
      if (sp) {
        /* "span pre->post:" then "p95 X   last Y"; the monitor's own
         * time (a passthrough's) stays in the tooltip and the table */
        var sl = sp.latency || {};
        setText(node.factory, trunc('span ' + (sp.name || '?') + ':', 28));
        if (sl.count) {
          setText(node.proc, 'p95 ' + fmtDuration(sl.p95_seconds));
          setText(node.p95, 'last ' + fmtDuration(sl.last_seconds));
        } else {
          setText(node.proc, spanSummary(sp));
          setText(node.p95, '');
        }
      } else if (pr && pr.count) {
        setText(node.factory, trunc(fac, 28));
        setText(node.proc, 'avg ' + fmtDuration(pr.mean_seconds));
        setText(node.p95, 'p95 ' + fmtDuration(pr.p95_seconds));
      } else {
        setText(node.factory, trunc(fac, 28));
        setText(node.proc, e.kind === 'sink' ? 'syncs to clock' : e.kind === 'source' ? 'live source' : 'no own time');
        setText(node.p95, '');
      }
      var bufs = e.kind === 'source' ? 'out ' + fmtCount(e.buffers_out) :
        e.kind === 'sink' ? 'in ' + fmtCount(e.buffers_in) :
        'in ' + fmtCount(e.buffers_in) + ' \u00b7 out ' + fmtCount(e.buffers_out);
      setText(node.bufs, bufs + ' buf');
      var share = pr && maxMean > 0 && isNum(pr.mean_seconds) ? pr.mean_seconds / maxMean : 0;
      node.heat.setAttribute('width', String(Math.max(0, share * (G.W - 8))));
      node.heat.setAttribute('opacity', String(0.25 + 0.75 * share));
      var bn = !!e.bottleneck || (p.bottleneck && p.bottleneck === e.name);
      node.g.classList.toggle('bottleneck', bn);
      node.badge.setAttribute('visibility', bn ? 'visible' : 'hidden');
      setText(node.title, elementTitle(e));
    });

    /* facts line */
    clear(view.facts);
    var fact = function (label, value, cls) {
      view.facts.appendChild(h('span', { class: cls || null }, label + ' ', h('b', { text: value })));
    };
    fact('elements', String(els.length));
    if (p.bottleneck) {
      var bel = els.filter(function (e) { return e.name === p.bottleneck; })[0];
      fact('bottleneck', p.bottleneck + (bel && bel.processing ? ' (' + fmtDuration(bel.processing.mean_seconds) + '/buffer)' : ''), 'bn');
    } else {
      fact('bottleneck', 'none');
    }
    var lat = latestLatency(p.name);
    if (lat) fact('end-to-end latency', lat);
    var spans = els.filter(function (e) { return e.span && typeof e.span === 'object'; });
    spans.slice(0, 3).forEach(function (e) { fact('span ' + (e.span.name || e.name), spanSummary(e.span), 'span-fact'); });
    if (spans.length > 3) fact('spans', '+' + (spans.length - 3) + ' more');
    var src = els.filter(function (e) { return e.kind === 'source'; });
    if (src.length) fact('buffers produced', fmtCount(src.reduce(function (s, e) { return s + (e.buffers_out || 0); }, 0)));

    /* table, in graph order */
    var L = view.layout, order = [];
    if (L) L.cols.forEach(function (col) { order = order.concat(col); });
    var rank = {};
    order.forEach(function (n, i) { rank[n] = i; });
    var sorted = els.slice().sort(function (a, b) {
      return (a.name in rank ? rank[a.name] : 1e9) - (b.name in rank ? rank[b.name] : 1e9) || natCompare(a.name, b.name);
    });
    if (view.details.open || !view.tbody.firstChild) {
      clear(view.tbody);
      sorted.forEach(function (e) {
        var pr = e.processing || {}, la = e.latency || {};
        view.tbody.appendChild(h('tr', { class: e.bottleneck ? 'is-bottleneck' : null },
          h('td', { class: 'mono', text: e.name }),
          h('td', { text: e.factory || '' }),
          h('td', { text: e.kind || '' }),
          h('td', { text: e.state || '' }),
          h('td', { class: 'mono', text: e.thread || '' }),
          h('td', { class: 'num', text: fmtCount(e.buffers_in) }),
          h('td', { class: 'num', text: fmtCount(e.buffers_out) }),
          h('td', { class: 'num', text: fmtBytes(e.bytes_in) }),
          h('td', { class: 'num', text: fmtBytes(e.bytes_out) }),
          h('td', { class: 'num', text: fmtDuration(e.media_seconds) }),
          h('td', { class: 'num', text: fmtDuration(pr.mean_seconds) }),
          h('td', { class: 'num', text: fmtDuration(pr.p50_seconds) }),
          h('td', { class: 'num', text: fmtDuration(pr.p95_seconds) }),
          h('td', { class: 'num', text: fmtDuration(la.mean_seconds) }),
          h('td', { class: 'num', text: fmtDuration(la.p95_seconds) }),
          h('td', { class: 'num', text: fmtRtf(e.realtime_factor) })));
      });
    }
  }

  /* ------------------------------------------------------------------ */
  /* jobs                                                                */

  function refreshJobs() {
    if (!conn.httpUp) return Promise.resolve();
    return request('/monitoring/jobs').then(guard('jobs', function (r) {
      if (r.ok && r.data) {
        state.jobs = r.data;
        renderJobs();
      }
    }));
  }

  function onJobEvent(job) {
    if (job && job.job_id && state.jobs) {
      var j = state.jobs;
      var drop = function (list) { return (list || []).filter(function (x) { return x.job_id !== job.job_id; }); };
      j.active = drop(j.active);
      j.finished = drop(j.finished);
      if (job.status === 'running') j.active.unshift(job);
      else j.finished.unshift(job);
      renderJobs();
    }
    debounce('jobs', refreshJobs, 300);
  }

  function renderJobs() {
    var d = state.jobs || {};
    var rows = (d.active || []).concat(d.finished || []).slice(0, CFG.maxJobs);
    var tbody = byId('d-jobs-table').tBodies[0];
    clear(tbody);
    if (!rows.length) {
      tbody.appendChild(h('tr', null, h('td', { colspan: 10, class: 'empty', text: 'No job yet: a job is one run of a pipeline, from PLAYING to EOS, error or stop.' })));
    }
    rows.forEach(function (j) {
      var st = j.status || 'unknown';
      var dur = isNum(j.processing_seconds) ? j.processing_seconds : NaN;
      var io = (isNum(j.bytes_read) || isNum(j.bytes_written)) ? fmtBytes(j.bytes_read) + ' / ' + fmtBytes(j.bytes_written) : '\u2014';
      var err = j.error ? (typeof j.error === 'string' ? j.error : (j.error.message || JSON.stringify(j.error))) : '';
      tbody.appendChild(h('tr', { 'data-job': j.job_id },
        h('td', { class: 'mono', text: j.job_id || '' }),
        h('td', { text: j.pipeline || '' }),
        h('td', null, h('span', { class: 'status-badge status-' + st, text: st })),
        h('td', { class: 'mono', title: j.correlation_id || '', text: j.correlation_id || '\u2014' }),
        h('td', { title: j.started_at || '', text: fmtTime(j.started_at) }),
        h('td', { class: 'num', text: fmtDuration(dur) }),
        h('td', { class: 'num', text: fmtDuration(j.media_seconds) }),
        h('td', { class: 'num', text: fmtRtf(j.realtime_factor) }),
        h('td', { class: 'num', text: io }),
        h('td', { class: 'wrap err-text', title: err, text: trunc(err, 120) })));
    });
    var s = d.summary || {};
    setText(byId('d-jobs-summary'), isNum(s.started) ?
      s.active + ' active \u00b7 ' + s.succeeded + ' succeeded \u00b7 ' + s.failed + ' failed \u00b7 ' + s.started + ' started' : '');
    updateComparison();
  }

  /* ------------------------------------------------------------------ */
  /* A/B comparison of labelled jobs (/monitoring/jobs/compare): shown   */
  /* once a job has labels, by the label picked (variant by default)     */

  function jobLabelKeys() {
    var d = state.jobs || {}, keys = {};
    (d.active || []).concat(d.finished || []).forEach(function (j) {
      Object.keys(j.labels || {}).forEach(function (k) { keys[k] = true; });
    });
    return Object.keys(keys).sort(natCompare);
  }

  function updateComparison() {
    var keys = jobLabelKeys(), card = byId('d-compare-card'), sel = byId('d-compare-by');
    card.hidden = !keys.length;
    if (!keys.length) return;
    if (keys.indexOf(state.compareBy) < 0)
      state.compareBy = keys.indexOf('variant') >= 0 ? 'variant' : keys[0];
    if (sel.getAttribute('data-keys') !== keys.join('\n')) {
      clear(sel);
      keys.forEach(function (k) { sel.appendChild(h('option', { value: k, text: k })); });
      sel.setAttribute('data-keys', keys.join('\n'));
    }
    sel.value = state.compareBy;
    debounce('compare', refreshComparison, 250);
  }

  function refreshComparison() {
    if (!conn.httpUp || !state.compareBy) return Promise.resolve();
    var by = state.compareBy;
    return request('/monitoring/jobs/compare?by=' + encodeURIComponent(by)).then(guard('comparison', function (r) {
      if (r.ok && r.data && by === state.compareBy) {
        state.comparison = r.data;
        renderComparison();
      }
    }));
  }

  function fmtP(p) {
    if (!isNum(p)) return '\u2014';
    return p < 0.001 ? p.toExponential(1) : p.toFixed(3);
  }

  function fmtSigned(v, fmt) {
    if (!isNum(v)) return '\u2014';
    return (v > 0 ? '+' : v < 0 ? '\u2212' : '\u00b1') + fmt(Math.abs(v));
  }

  function fmtPct(v) { return isNum(v) ? fmtNum(v * 100, 1) + ' %' : '\u2014'; }

  function renderComparison() {
    var d = state.comparison || {}, groups = d.groups || [], byGroup = {};
    var tbody = byId('d-compare-table').tBodies[0];
    (d.comparisons || []).forEach(function (c) { byGroup[c.group] = c; });
    clear(tbody);
    if (!groups.length)
      tbody.appendChild(h('tr', null, h('td', { colspan: 11, class: 'empty', text: 'No finished job with the label ' + (d.by || '') + ' yet.' })));
    groups.forEach(function (g) {
      var c = byGroup[g.value], t = c && c.processing_seconds, s = c && c.success_rate;
      var pt = g.processing_seconds || {}, bps = g.bytes_per_second || {};
      var tSig = t && t.significant, sSig = s && s.significant;
      tbody.appendChild(h('tr', { 'data-group': g.value },
        h('td', { class: 'mono', text: g.value + (g.value === d.baseline ? ' (baseline)' : '') }),
        h('td', { class: 'num', text: fmtCount(g.count) }),
        h('td', { class: 'num', text: fmtPct(g.success_rate) }),
        h('td', { class: 'num', text: fmtDuration(pt.mean) }),
        h('td', { class: 'num', text: fmtDuration(pt.p50) }),
        h('td', { class: 'num', text: fmtDuration(pt.p95) }),
        h('td', { class: 'num', text: isNum(bps.read) ? fmtBytes(bps.read) + '/s' : '\u2014' }),
        h('td', { class: 'num', text: t ? fmtSigned(t.difference_p50, fmtDuration) : '' }),
        h('td', { class: 'num' + (tSig ? ' significant' : ''), 'data-test': 'times', text: t ? fmtP(t.p_value) : '' }),
        h('td', { class: 'num', text: s ? fmtSigned(s.difference * 100, function (v) { return fmtNum(v, 1) + ' pt'; }) : '' }),
        h('td', { class: 'num' + (sSig ? ' significant' : ''), 'data-test': 'success', text: s ? fmtP(s.p_value) : '' })));
    });
    setText(byId('d-compare-summary'), groups.length ?
      d.jobs + ' finished jobs \u00b7 baseline ' + d.baseline + ' \u00b7 p: Mann\u2013Whitney U (times), two-proportion z (success); bold below ' + d.alpha : '');
  }

  /* ------------------------------------------------------------------ */
  /* alerts                                                              */

  function refreshAlerts() {
    if (!conn.httpUp || state.alertsApi === 'absent') return Promise.resolve();
    return request('/monitoring/alerts').then(guard('alerts', function (r) {
      if (r.status === 404 || r.status === 405) {
        state.alertsApi = 'absent';
        state.alertsActive = [];
        state.alertsHistory = [];
        renderAlerts();
        return null;
      }
      if (!r.ok || !r.data) return null;
      state.alertsApi = 'present';
      state.alertsActive = Array.isArray(r.data.alerts) ? r.data.alerts : [];
      renderAlerts();
      return request('/monitoring/alerts/history').then(guard('alert history', function (hr) {
        if (hr.ok && hr.data) {
          state.alertsHistory = Array.isArray(hr.data.alerts) ? hr.data.alerts : [];
          renderAlerts();
        }
      }));
    }));
  }

  function onAlertEvent(a) {
    if (!a || !a.id) return;
    state.alertsApi = 'present';
    var id = String(a.id);
    state.alertsActive = state.alertsActive.filter(function (x) { return String(x.id) !== id; });
    if (a.state !== 'resolved') state.alertsActive.unshift(a);
    state.alertsHistory = state.alertsHistory.filter(function (x) { return String(x.id) !== id; });
    state.alertsHistory.unshift(a);
    renderAlerts();
    debounce('alerts', refreshAlerts, 300);
  }

  function resolveAlert(a, button) {
    var id = String(a.id);
    state.resolving[id] = true;
    button.disabled = true;
    setText(button, 'Resolving\u2026');
    request('/monitoring/alerts/' + encodeURIComponent(id) + '/resolve', { method: 'POST' })
      .then(guard('resolve', function (r) {
        delete state.resolving[id];
        if (r.ok) {
          toast('Resolved: ' + (a.rule || id));
          state.alertsActive = state.alertsActive.filter(function (x) { return String(x.id) !== id; });
          if (r.data && r.data.id) {
            state.alertsHistory = state.alertsHistory.filter(function (x) { return String(x.id) !== id; });
            state.alertsHistory.unshift(r.data);
          }
          renderAlerts();
        } else if (r.status === 404) {
          toast('Alert ' + id + ' is no longer known to the service', true);
        } else {
          var msg = r.data && r.data.error && r.data.error.message ? r.data.error.message :
            r.status ? 'HTTP ' + r.status : 'no answer';
          toast('Could not resolve ' + (a.rule || id) + ': ' + msg, true);
          button.disabled = false;
          setText(button, 'Resolve');
        }
        return refreshAlerts();
      }));
  }

  var alertsKey = null;

  function renderAlerts() {
    var ul = byId('d-alerts-active');
    var list = state.alertsActive.slice().sort(function (a, b) {
      var rank = { critical: 0, warning: 1, info: 2 };
      return (rank[a.severity] === undefined ? 3 : rank[a.severity]) - (rank[b.severity] === undefined ? 3 : rank[b.severity]) ||
        String(b.started_at || '').localeCompare(String(a.started_at || ''));
    });
    /* rebuild only on a change (a click must not land on a replaced
     * button); otherwise only the ages move */
    var key = JSON.stringify([state.alertsApi, list, state.resolving]);
    if (key === alertsKey) {
      Array.prototype.forEach.call(ul.querySelectorAll('[data-age]'), function (n) {
        setText(n, ' \u00b7 ' + fmtAge(n.getAttribute('data-age')));
      });
      renderHistory();
      return;
    }
    alertsKey = key;
    clear(ul);
    if (state.alertsApi === 'absent') {
      ul.appendChild(h('li', { class: 'empty', text: 'This service has no alert engine (no /monitoring/alerts).' }));
    } else if (state.alertsApi === 'unknown') {
      ul.appendChild(h('li', { class: 'empty', text: 'loading\u2026' }));
    } else if (!list.length) {
      ul.appendChild(h('li', { class: 'empty ok-note', text: '\u2713 No active alerts.' }));
    }
    list.forEach(function (a) {
      var id = String(a.id);
      var sev = ['critical', 'warning', 'info'].indexOf(a.severity) >= 0 ? a.severity : 'info';
      var btn = h('button', { type: 'button', class: 'btn btn-resolve', 'data-resolve': id, text: 'Resolve',
        title: 'mark this alert resolved (POST /monitoring/alerts/' + id + '/resolve)' });
      if (state.resolving[id]) { btn.disabled = true; setText(btn, 'Resolving\u2026'); }
      btn.addEventListener('click', function () { resolveAlert(a, btn); });
      var labels = a.labels && typeof a.labels === 'object' ?
        Object.keys(a.labels).map(function (k) { return k + '=' + a.labels[k]; }).join(', ') : '';
      var since = a.fired_at || a.started_at;
      ul.appendChild(h('li', { 'data-alert': id, title: [a.message, labels, isNum(a.value) ? 'value ' + a.value : ''].filter(Boolean).join('\n') },
        h('span', { class: 'sev sev-' + sev, text: sev }),
        h('div', { class: 'alert-main' },
          h('div', { class: 'alert-rule' }, a.rule || id, ' ',
            h('span', { class: 'small state-' + (a.state || 'firing'), text: a.state || '' }),
            since ? h('span', { class: 'small muted', 'data-age': since, text: ' \u00b7 ' + fmtAge(since) }) : null),
          h('div', { class: 'alert-msg', text: a.message || labels })),
        btn));
    });
    setText(byId('d-alerts-count'), state.alertsApi === 'present' ? list.length + ' active' : '');
    renderHistory();
  }

  function renderHistory() {
    var all = {};
    state.alertsHistory.concat(state.alertsActive).forEach(function (a) {
      if (a && a.id !== undefined && !all[a.id]) all[a.id] = a;
    });
    var list = Object.keys(all).map(function (k) { return all[k]; }).sort(function (a, b) {
      return (parseTime(b.started_at) || 0) - (parseTime(a.started_at) || 0);
    });
    renderTimeline(list);
    var tbody = byId('d-history-table').tBodies[0];
    clear(tbody);
    if (!list.length) {
      tbody.appendChild(h('tr', null, h('td', { colspan: 6, class: 'empty',
        text: state.alertsApi === 'absent' ? 'No alert engine on this service.' : 'No alert recorded.' })));
    }
    list.slice(0, 100).forEach(function (a) {
      var sev = ['critical', 'warning', 'info'].indexOf(a.severity) >= 0 ? a.severity : 'info';
      var res = a.resolved_at ? fmtTime(a.resolved_at) + (a.resolved_by ? ' (' + a.resolved_by + ')' : '') : '\u2014';
      tbody.appendChild(h('tr', { 'data-alert': String(a.id) },
        h('td', { title: a.started_at || '', text: fmtTime(a.started_at) }),
        h('td', null, h('span', { class: 'sev sev-' + sev, text: sev })),
        h('td', { text: a.rule || '' }),
        h('td', { class: 'wrap', text: a.message || '' }),
        h('td', { class: 'state-' + (a.state || ''), text: a.state || '' }),
        h('td', { text: res })));
    });
    setText(byId('d-history-summary'), list.length ? list.length + ' alert' + (list.length > 1 ? 's' : '') : '');
  }

  var SEV_COLOR = { critical: '#f85149', warning: '#d29922', info: '#58a6ff' };

  function renderTimeline(list) {
    var host = byId('d-timeline');
    clear(host);
    var width = Math.max(300, host.clientWidth || 500);
    var now = serverNowMs();
    var t1 = now, t0 = now - 5 * 60000, earliest = now;
    list.forEach(function (a) {
      var s = parseTime(a.started_at);
      if (isFinite(s) && s < earliest) earliest = s;
    });
    t0 = Math.max(Math.min(t0, earliest - (now - earliest) * 0.05), now - 24 * 3600000);
    var rules = [];
    list.forEach(function (a) {
      var r = a.rule || String(a.id);
      if (rules.indexOf(r) < 0 && rules.length < 8) rules.push(r);
    });
    var labelW = 120, laneH = 16, top = 4, axisH = 16;
    var height = top + Math.max(1, rules.length) * laneH + axisH;
    var plotW = width - labelW - 8;
    var xOf = function (t) { return labelW + (Math.min(Math.max(t, t0), t1) - t0) / (t1 - t0) * plotW; };
    var root = svg('svg', { width: width, height: height, viewBox: '0 0 ' + width + ' ' + height, role: 'img', 'aria-label': 'alert timeline' });
    var step = niceTimeStep((t1 - t0) / 1000, 5) * 1000;
    for (var t = Math.ceil(t0 / step) * step; t <= t1; t += step) {
      var x = xOf(t);
      root.appendChild(svg('line', { class: 'gridline', x1: x, x2: x, y1: top, y2: height - axisH }));
      root.appendChild(svg('text', { class: 'axis', x: x, y: height - 4, 'text-anchor': 'middle',
        text: fmtClock(t, step < 60000) }));
    }
    root.appendChild(svg('line', { class: 'now', x1: xOf(now), x2: xOf(now), y1: top, y2: height - axisH }));
    if (!rules.length) {
      root.appendChild(svg('text', { class: 'lane-label', x: labelW + plotW / 2, y: top + 12, 'text-anchor': 'middle',
        text: state.alertsApi === 'absent' ? 'no alert engine on this service' : 'no alert in this period' }));
    }
    rules.forEach(function (r, i) {
      var y = top + i * laneH;
      root.appendChild(svg('text', { class: 'lane-label', x: 0, y: y + 11.5, text: trunc(r, 19) }, svg('title', { text: r })));
    });
    list.forEach(function (a) {
      var lane = rules.indexOf(a.rule || String(a.id));
      if (lane < 0) return;
      var y = top + lane * laneH + 3;
      var s = parseTime(a.started_at), f = parseTime(a.fired_at), e = parseTime(a.resolved_at);
      if (!isFinite(s)) s = isFinite(f) ? f : now;
      if (!isFinite(e)) e = a.state === 'resolved' ? s : now;
      var color = SEV_COLOR[a.severity] || SEV_COLOR.info;
      var title = (a.rule || a.id) + ' (' + (a.severity || '?') + ', ' + (a.state || '?') + ')\n' + (a.message || '') +
        '\nstarted ' + fmtTime(a.started_at) + (a.fired_at ? ', fired ' + fmtTime(a.fired_at) : '') +
        (a.resolved_at ? ', resolved ' + fmtTime(a.resolved_at) + (a.resolved_by ? ' (' + a.resolved_by + ')' : '') : '');
      var g = svg('g', null, svg('title', { text: title }));
      var firedAt = isFinite(f) ? f : (a.state === 'pending' ? e : s);
      if (firedAt > s)
        g.appendChild(svg('rect', { x: xOf(s), y: y, width: Math.max(2, xOf(firedAt) - xOf(s)), height: laneH - 6, rx: 2, fill: color, opacity: 0.35 }));
      if (e > firedAt || a.state !== 'pending')
        g.appendChild(svg('rect', { x: xOf(firedAt), y: y, width: Math.max(3, xOf(e) - xOf(firedAt)), height: laneH - 6, rx: 2, fill: color, opacity: a.state === 'resolved' ? 0.6 : 1 }));
      root.appendChild(g);
    });
    host.appendChild(root);
  }

  function refreshLists() {
    refreshJobs();
    refreshAlerts();
    refreshInstances();
    refreshLogSummary();
  }

  /* ------------------------------------------------------------------ */
  /* circuit breakers: their health checks "breaker:NAME", and the       */
  /* "breaker" events of the WebSocket                                   */

  var BREAKER_DOT = { closed: 'healthy', 'half-open': 'degraded', open: 'unhealthy' };

  function renderBreakers(checks) {
    var ul = byId('d-breakers');
    var names = Object.keys(checks).filter(function (n) { return n.indexOf('breaker:') === 0; }).sort(natCompare);
    var open = 0;
    clear(ul);
    if (!names.length) ul.appendChild(h('li', { class: 'empty', text: 'No circuit breakers.' }));
    names.forEach(function (check) {
      var c = checks[check] || {};
      var d = c.details && typeof c.details === 'object' ? c.details : {};
      var st = d.state || 'unknown';
      var name = check.slice('breaker:'.length);
      if (st !== 'closed') open++;
      var figures = (isNum(d.consecutive_failures) ? d.consecutive_failures : '?') + '/' +
        (isNum(d.failure_threshold) ? d.failure_threshold : '?') + ' failures' +
        (isNum(d.rejected_calls) ? ' \u00b7 ' + fmtCount(d.rejected_calls) + ' refused' : '');
      ul.appendChild(h('li', { title: check + ': ' + (c.message || st), 'data-breaker': name, 'data-state': st },
        h('span', { class: 'dot dot-' + (BREAKER_DOT[st] || 'unknown') }),
        h('span', { class: 'check-name', text: name }),
        h('span', { class: 'check-msg', text: st + ' \u00b7 ' + figures }),
        h('span', { class: 'meter-none' }),
        h('span', { class: 'check-age', text: fmtAge(c.last_run) })));
    });
    setText(byId('d-breakers-summary'), names.length ? names.length + ' \u00b7 ' + open + ' not closed' : '');
    var ev = byId('d-breaker-events');
    clear(ev);
    state.breakerEvents.forEach(function (e) {
      ev.appendChild(h('li', { title: e.reason || '',
        text: fmtTime(e.time) + '  ' + e.name + ': ' + e.previous + ' \u2192 ' + e.state }));
    });
  }

  function onBreakerEvent(data) {
    if (!data || typeof data.name !== 'string') return;
    state.breakerEvents.unshift(data);
    state.breakerEvents.length = Math.min(state.breakerEvents.length, 8);
    var doc = state.status;
    if (!doc) return;
    /* the check says so at its next run; show the new state at once */
    var checks = doc.health_checks = doc.health_checks || {};
    var c = checks['breaker:' + data.name];
    if (c && c.details && typeof c.details === 'object') c.details.state = data.state;
    renderBreakers(checks);
  }

  /* ------------------------------------------------------------------ */
  /* the log summary of the last hour                                    */

  var LEVEL_RANK = { debug: 0, info: 1, warning: 2, error: 3, critical: 4 };

  function refreshLogSummary() {
    if (!conn.httpUp) return Promise.resolve();
    return request('/monitoring/logs/summary?since=-3600&top=10').then(guard('log summary', function (r) {
      state.logSummary = r.ok && r.data && typeof r.data === 'object' ? r.data : null;
      renderLogSummary(r.ok);
    }));
  }

  function renderLogSummary(ok) {
    var doc = state.logSummary;
    var body = byId('d-logsum-table').tBodies[0];
    var bars = byId('d-logsum-minutes');
    clear(body);
    clear(bars);
    if (!doc) {
      body.appendChild(h('tr', {}, h('td', { colspan: '5', class: 'empty',
        text: ok ? 'no summary' : 'no log summary on this service' })));
      setText(byId('d-logsum-levels'), '');
      return;
    }
    var levels = (doc.totals && doc.totals.levels) || {};
    setText(byId('d-logsum-levels'), Object.keys(levels).sort(function (a, b) {
      return (LEVEL_RANK[a] || 0) - (LEVEL_RANK[b] || 0);
    }).map(function (l) { return fmtCount(levels[l]) + ' ' + l; }).join(' \u00b7 ') || 'no lines');
    /* one bar a minute, the last 60 */
    var byMinute = {};
    var peak = 1;
    (doc.minutes || []).forEach(function (m) {
      var t = parseTime(m.minute);
      if (!isFinite(t)) return;
      byMinute[Math.floor(t / 60000)] = m;
      peak = Math.max(peak, m.total || 0);
    });
    var until = parseTime(doc.until);
    var last = Math.floor((isFinite(until) ? until : serverNowMs()) / 60000);
    for (var k = last - 59; k <= last; k++) {
      var m = byMinute[k];
      var worst = 'none';
      if (m && m.levels) Object.keys(m.levels).forEach(function (l) {
        if (worst === 'none' || (LEVEL_RANK[l] || 0) > (LEVEL_RANK[worst] || 0)) worst = l;
      });
      var n = m ? m.total || 0 : 0;
      bars.appendChild(h('span', { class: 'lv-' + worst, style: 'height:' + (n ? Math.max(8, n / peak * 100) : 4).toFixed(1) + '%',
        title: fmtClock(k * 60000) + ': ' + n + ' lines' }));
    }
    var list = doc.templates || [];
    if (!list.length) body.appendChild(h('tr', {}, h('td', { colspan: '5', class: 'empty', text: 'no log line in the last hour' })));
    list.forEach(function (t) {
      body.appendChild(h('tr', { 'data-template': t.template },
        h('td', { class: 'num', text: fmtCount(t.count) }),
        h('td', { class: 'lv-text-' + (t.level || ''), text: t.level || '' }),
        h('td', { text: t.component || '' }),
        h('td', { class: 'wrap', title: 'e.g. ' + (t.example || '') + '\nfirst seen ' + fmtTime(t.first_seen), text: trunc(t.template || '', 160) }),
        h('td', { text: fmtAge(t.last_seen) })));
    });
  }

  /* the other monitored processes on this host, as links to their
   * dashboards (GET /monitoring/instances, the host's registry) */
  function refreshInstances() {
    if (!conn.httpUp) return Promise.resolve();
    return request('/monitoring/instances').then(guard('instances', function (r) {
      var box = byId('d-instances');
      var others = (r.ok && r.data && r.data.instances || []).filter(function (i) {
        return !i.self && /^https?:\/\/[^\s]+$/.test(i.url || '');
      });
      state.instances = others;
      box.textContent = '';
      box.hidden = others.length === 0;
      if (!others.length) return;
      append(box, 'also on this host: ');
      others.forEach(function (i, n) {
        if (n) append(box, ', ');
        append(box, h('a', { href: i.url + '/monitoring/dashboard', title: i.url,
          'data-pid': String(i.pid) }, (i.program || 'pid') + ' ' + i.pid));
      });
    }));
  }

  /* ------------------------------------------------------------------ */
  /* metric series for the charts                                        */

  var WANT = {
    apm_pipeline_latency_seconds: 'histogram',
    apm_span_latency_seconds: 'histogram',
    apm_element_bytes_out_total: 'counter',
    apm_element_buffers_out_total: 'counter',
    apm_element_realtime_factor: 'gauge',
    apm_pipeline_realtime_factor: 'gauge',
    apm_monitor_peak_dbfs: 'gauge',
    apm_monitor_rms_dbfs: 'gauge',
    apm_queue_level_seconds: 'gauge',
    apm_thread_cpu_seconds_total: 'counter',
  };

  var metrics = {
    families: null,       /* names of WANT present on the service (/metrics) */
    discoveredAt: 0,
    hist: {},             /* family -> 'yes' (history endpoint) | 'no' (sample /metrics) */
    cursor: {},           /* family -> last point time (s) */
    series: {},           /* family -> { labelKey -> {labels, points: [[t, v, sum?]]} } */
    busy: false,
    ticks: 0,             /* chart ticks completed */
    discoverBackoffMs: 2000,
  };

  function chartsMode() {
    var fams = metrics.families || [];
    var yes = fams.filter(function (f) { return metrics.hist[f] === 'yes'; }).length;
    var no = fams.filter(function (f) { return metrics.hist[f] === 'no'; }).length;
    if (!yes && !no) return 'unknown';
    return no ? (yes ? 'mixed' : 'scrape') : 'history';
  }

  function labelKey(labels) {
    return Object.keys(labels).sort().map(function (k) { return k + '=' + labels[k]; }).join(',');
  }

  function addPoint(family, labels, point) {
    var fam = metrics.series[family] = metrics.series[family] || {};
    var key = labelKey(labels);
    var s = fam[key];
    if (!s) s = fam[key] = { labels: labels, points: [] };
    var pts = s.points;
    if (pts.length && pts[pts.length - 1][0] >= point[0]) return;
    pts.push(point);
  }

  function prune() {
    var cut = serverNowMs() / 1000 - CFG.keepSeconds;
    Object.keys(metrics.series).forEach(function (fam) {
      var f = metrics.series[fam];
      Object.keys(f).forEach(function (k) {
        var pts = f[k].points, i = 0;
        while (i < pts.length && pts[i][0] < cut) i++;
        if (i) pts.splice(0, i);
        if (!pts.length) delete f[k];
      });
    });
  }

  function parsePromValue(s) {
    if (s === '+Inf' || s === 'Inf') return Infinity;
    if (s === '-Inf') return -Infinity;
    return parseFloat(s);
  }

  /* Prometheus text 0.0.4: only the families of WANT; returns
   * {families: [names present], samples: {family: [{labels, v, sum?}]}} */
  function parseProm(text) {
    var present = {}, hist = {}, samples = {};
    var lines = text.split('\n');
    var labelRe = /\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?/y;
    for (var i = 0; i < lines.length; i++) {
      var line = lines[i];
      if (!line) continue;
      if (line.charCodeAt(0) === 35 /* # */) {
        var m = /^# TYPE (\S+) (\S+)/.exec(line);
        if (m && WANT[m[1]]) present[m[1]] = true;
        continue;
      }
      if (line.lastIndexOf('apm_', 0) !== 0) continue;
      var brace = line.indexOf('{'), space = line.indexOf(' ');
      var nameEnd = brace >= 0 && (space < 0 || brace < space) ? brace : space;
      if (nameEnd < 0) continue;
      var name = line.slice(0, nameEnd), family = name, part = null;
      if (!WANT[name]) {
        var mm = /^(.*)_(sum|count)$/.exec(name);
        if (!mm || WANT[mm[1]] !== 'histogram') continue;
        family = mm[1];
        part = mm[2];
      }
      var labels = {}, rest;
      if (nameEnd === brace) {
        labelRe.lastIndex = brace + 1;
        var lm;
        while ((lm = labelRe.exec(line))) {
          labels[lm[1]] = lm[2].replace(/\\(.)/g, function (_, c) { return c === 'n' ? '\n' : c; });
          if (labelRe.lastIndex >= line.length || line.charAt(labelRe.lastIndex) === '}') break;
        }
        var close = line.indexOf('}', labelRe.lastIndex > 0 ? labelRe.lastIndex : brace);
        if (close < 0) continue;
        rest = line.slice(close + 1);
      } else {
        rest = line.slice(nameEnd);
      }
      var v = parsePromValue(rest.trim().split(/\s+/)[0]);
      if (part) {
        var hk = family + '|' + labelKey(labels);
        var hs = hist[hk] = hist[hk] || { family: family, labels: labels };
        hs[part] = v;
      } else {
        (samples[family] = samples[family] || []).push({ labels: labels, v: v });
      }
    }
    Object.keys(hist).forEach(function (k) {
      var hs = hist[k];
      if (isNum(hs.count) && isNum(hs.sum))
        (samples[hs.family] = samples[hs.family] || []).push({ labels: hs.labels, v: hs.count, sum: hs.sum });
    });
    return { families: Object.keys(present), samples: samples };
  }

  function ingestScrape(parsed) {
    var t = serverNowMs() / 1000;
    Object.keys(parsed.samples).forEach(function (fam) {
      if (metrics.hist[fam] !== 'no') return;
      parsed.samples[fam].forEach(function (s) {
        addPoint(fam, s.labels, s.sum === undefined ? [t, s.v] : [t, s.v, s.sum]);
      });
    });
  }

  /* a point of /monitoring/metrics as the charts keep it: [t, v] or, for
   * histograms, [t, count, sum]; a coarse gauge point ([t, last, min, max,
   * mean]) is charted by its mean */
  function chartPoint(doc, p) {
    if (doc.type === 'histogram') return [p[0], p[1], p[2]];
    return [p[0], p.length >= 5 && isNum(p[4]) ? p[4] : p[1]];
  }

  function ingestHistory(family, doc) {
    var last = metrics.cursor[family] || 0;
    (doc.series || []).forEach(function (s) {
      var labels = s.labels || {};
      (s.points || []).forEach(function (p) {
        if (!Array.isArray(p) || !isNum(p[0])) return;
        var pt = chartPoint(doc, p);
        addPoint(family, labels, pt);
        if (p[0] > last) last = p[0];
      });
    });
    if (last) metrics.cursor[family] = last;
  }

  /* Windows longer than the live buffer (1 h, 6 h, 24 h, 7 d) are read
   * whole from the service's history tiers, about CFG.longPoints points a
   * chart, and read again each step (5 s to 1 min) while shown. */
  var long = { series: {}, window: 0, at: 0, busy: false };

  function longStep() { return Math.max(1, Math.round(state.windowSeconds / CFG.longPoints)); }

  function longMode() { return state.windowSeconds > CFG.keepSeconds; }

  function fetchLong() {
    if (!longMode() || long.busy) return Promise.resolve();
    var w = state.windowSeconds, step = longStep();
    var fams = (metrics.families || []).filter(function (f) { return metrics.hist[f] === 'yes'; });
    long.busy = true;
    return Promise.all(fams.map(function (f) {
      return request('/monitoring/metrics/' + encodeURIComponent(f) + '?since=-' + w + '&step=' + step).then(function (r) {
        if (!r.ok || !r.data) return null;
        var byKey = {};
        (r.data.series || []).forEach(function (s) {
          var labels = s.labels || {};
          byKey[labelKey(labels)] = {
            labels: labels,
            points: (s.points || []).filter(function (p) { return Array.isArray(p) && isNum(p[0]); })
              .map(function (p) { return chartPoint(r.data, p); }),
          };
        });
        return [f, byKey];
      });
    })).then(function (results) {
      var next = {};
      results.forEach(function (x) { if (x) next[x[0]] = x[1]; });
      long.series = next;
      long.window = w;
      long.at = Date.now();
      long.busy = false;
      drawCharts();
    }, function (e) {
      long.busy = false;
      reportError('charts', e);
    });
  }

  function fetchHistory(family) {
    var since = metrics.cursor[family] ? (metrics.cursor[family] + 0.0005).toFixed(4) : String(-CFG.keepSeconds);
    return request('/monitoring/metrics/' + encodeURIComponent(family) + '?since=' + since).then(function (r) {
      if (r.ok && r.data) { ingestHistory(family, r.data); return true; }
      return r.status === 404 || r.status === 405 ? false : null;
    });
  }

  /* Every family the service keeps a history of is read incrementally from
   * /monitoring/metrics/NAME (first with since=-keepSeconds: filled back);
   * a family without one (404) is sampled from /metrics instead.  /metrics
   * is also read every discoverMs to learn which families exist, so no
   * request is made for a family that is not there (a 404 is a console
   * error in the browser). */
  function chartTick() {
    if (metrics.busy || !conn.httpUp) return Promise.resolve();
    metrics.busy = true;
    var fams = metrics.families;
    /* families appear as the service measures (the collectors publish a
     * second after a pipeline starts): while one the charts want is
     * missing, look again soon, backing off to discoverMs */
    var missing = fams && Object.keys(WANT).some(function (f) { return fams.indexOf(f) < 0; });
    var every = missing ? Math.min(CFG.discoverMs, metrics.discoverBackoffMs) : CFG.discoverMs;
    var scrape = !fams || Date.now() - metrics.discoveredAt > every ||
      fams.some(function (f) { return metrics.hist[f] === 'no'; });
    var p = !scrape ? Promise.resolve(null) :
      fetch('/metrics', { cache: 'no-store' }).then(function (r) {
        return r.ok ? r.text() : null;
      }).then(function (text) {
        return text === null ? null : parseProm(text);
      }, function () { return null; /* offline: the status poll notices */ });
    return p.then(function (parsed) {
      if (parsed) {
        var grew = !metrics.families || parsed.families.length !== metrics.families.length;
        metrics.discoverBackoffMs = grew ? CFG.discoverMissingMs : Math.min(CFG.discoverMs, metrics.discoverBackoffMs * 2);
        metrics.families = parsed.families;
        metrics.discoveredAt = Date.now();
        ingestScrape(parsed);
      }
      return Promise.all((metrics.families || []).filter(function (f) {
        return metrics.hist[f] !== 'no';
      }).map(function (f) {
        return fetchHistory(f).then(function (ok) {
          if (ok === true) metrics.hist[f] = 'yes';
          else if (ok === false) metrics.hist[f] = 'no';
        });
      }));
    }).then(guard('charts', function () {
      metrics.busy = false;
      metrics.ticks++;
      prune();
      if (longMode() && (long.window !== state.windowSeconds ||
          Date.now() - long.at > Math.min(60000, Math.max(5000, longStep() * 1000)))) fetchLong();
      drawCharts();
    }), function (e) {
      metrics.busy = false;
      reportError('charts', e);
    });
  }

  /* derived series */

  function familySeries(family) {
    var f = (longMode() ? long.series[family] : metrics.series[family]) || {};
    return Object.keys(f).sort(natCompare).map(function (k) { return f[k]; });
  }

  function rateOf(points, scale) {
    var out = [];
    for (var i = 1; i < points.length; i++) {
      var dt = points[i][0] - points[i - 1][0], dv = points[i][1] - points[i - 1][1];
      if (dt > 0 && dv >= 0) out.push([points[i][0], dv / dt * (scale || 1)]);
    }
    return out;
  }

  function histMean(points) {
    var out = [];
    for (var i = 1; i < points.length; i++) {
      var dc = points[i][1] - points[i - 1][1], ds = points[i][2] - points[i - 1][2];
      if (dc > 0 && ds >= 0) out.push([points[i][0], ds / dc]);
    }
    return out;
  }

  function multiPipeline() {
    return state.status && (state.status.pipelines || []).length > 1;
  }

  function withPipe(labels, text) {
    return multiPipeline() && labels.pipeline ? labels.pipeline + ' \u00b7 ' + text : text;
  }

  function latestLatency(pipeline) {
    var parts = [];
    familySeries('apm_pipeline_latency_seconds').forEach(function (s) {
      if (s.labels.pipeline !== pipeline) return;
      var m = histMean(s.points.slice(-6));
      if (m.length) parts.push(fmtDuration(m[m.length - 1][1]));
    });
    if (!parts.length) return '';
    return parts.length > 3 ? parts.slice(0, 3).join(' / ') + ' \u2026' : parts.join(' / ');
  }

  var PALETTE = ['#4ea1ff', '#3fb950', '#f0883e', '#bc8cff', '#e3b341', '#ff7b72', '#39c5cf', '#db61a2', '#a5d6ff', '#7ee787'];

  function colorize(list) {
    list.forEach(function (s, i) { if (!s.color) s.color = PALETTE[i % PALETTE.length]; });
    return list;
  }

  function lastValue(s) { return s.points.length ? s.points[s.points.length - 1][1] : NaN; }

  function sourceElements() {
    var set = {};
    ((state.status && state.status.pipelines) || []).forEach(function (p) {
      (p.elements || []).forEach(function (e) {
        if (e.kind === 'source') set[p.name + '|' + e.name] = true;
      });
    });
    return set;
  }

  var chartDefs = {
    latency: {
      opts: { format: fmtDuration, zero: true },
      series: function () {
        return colorize(familySeries('apm_pipeline_latency_seconds').map(function (s) {
          return { label: withPipe(s.labels, (s.labels.source || '?') + ' \u2192 ' + (s.labels.sink || '?')), points: histMean(s.points) };
        }));
      },
      empty: 'no end-to-end latency yet (needs the apm tracer and a path from a source to a sink)',
    },
    spans: {
      opts: { format: fmtDuration, zero: true },
      series: function () {
        return colorize(familySeries('apm_span_latency_seconds').map(function (s) {
          var l = s.labels;
          return { label: withPipe(l, l.span || ((l.from || '?') + '->' + (l.to || '?'))), points: histMean(s.points) };
        }));
      },
      empty: 'no stage span (set span-from on an apmonitor)',
    },
    throughput: {
      opts: { zero: true },
      series: function () {
        var fam = state.throughputUnit === 'buffers' ? 'apm_element_buffers_out_total' : 'apm_element_bytes_out_total';
        var src = sourceElements();
        var all = familySeries(fam);
        var chosen = all.filter(function (s) { return src[s.labels.pipeline + '|' + s.labels.element]; });
        return colorize(chosen.map(function (s) {
          return { label: withPipe(s.labels, (s.labels.element || '?') + ' out'), points: rateOf(s.points) };
        }));
      },
      format: function () {
        return state.throughputUnit === 'buffers' ?
          function (v) { return fmtNum(v) + '/s'; } :
          function (v) { return fmtBytes(v) + '/s'; };
      },
      empty: 'no source element seen yet',
    },
    rtf: {
      opts: { format: fmtRtf, log: true, refLines: [{ v: 1, label: '1\u00d7 real time' }] },
      series: function () {
        var pipes = colorize(familySeries('apm_pipeline_realtime_factor').map(function (s) {
          return { label: (s.labels.pipeline || '?') + ' (pipeline)', points: s.points.filter(function (p) { return p[1] > 0; }) };
        }).filter(function (s) { return s.points.length; }));
        var list = familySeries('apm_element_realtime_factor').map(function (s) {
          return { label: withPipe(s.labels, s.labels.element || '?'), points: s.points.filter(function (p) { return p[1] > 0; }), last: lastValue(s) };
        }).filter(function (s) { return s.points.length && s.last > 0; });
        list.sort(function (a, b) { return a.last - b.last; });
        list = list.slice(0, Math.max(2, 5 - pipes.length));
        list.forEach(function (s, i) { s.color = PALETTE[(pipes.length + i) % PALETTE.length]; s.dash = true; });
        return pipes.concat(list);
      },
      empty: 'no element with measured processing yet',
    },
    levels: {
      opts: { format: function (v) { return v <= -300 ? 'silence' : fmtNum(v, 1) + ' dB'; }, axisFormat: function (v) { return Math.round(v) + ' dB'; }, yMin: -60, yMax: 0, clampMin: -60 },
      series: function () {
        var peaks = familySeries('apm_monitor_peak_dbfs'), rms = familySeries('apm_monitor_rms_dbfs');
        var out = [];
        peaks.forEach(function (s, i) {
          var color = PALETTE[i % PALETTE.length];
          var who = withPipe(s.labels, (s.labels.monitor || '?') + (s.labels.channel !== undefined ? ' ch' + s.labels.channel : ''));
          out.push({ label: who + ' peak', points: s.points, color: color });
          var r = rms.filter(function (x) { return labelKey(x.labels) === labelKey(s.labels); })[0];
          if (r) out.push({ label: who + ' rms', points: r.points, color: color, dash: true });
        });
        return out;
      },
      empty: 'no apmonitor element in the watched pipelines',
    },
    queues: {
      opts: { format: fmtDuration, zero: true },
      series: function () {
        return colorize(familySeries('apm_queue_level_seconds').map(function (s) {
          return { label: withPipe(s.labels, s.labels.element || '?'), points: s.points };
        }));
      },
      empty: 'no queue element',
    },
    cpu: {
      opts: { format: function (v) { return fmtNum(v, v < 10 ? 1 : 0) + '%'; }, axisFormat: function (v) { return (Math.round(v * 10) / 10) + '%'; }, zero: true, minSpan: 5 },
      series: function () {
        var list = familySeries('apm_thread_cpu_seconds_total').map(function (s) {
          return { label: (s.labels.thread || '?') + (s.labels.tid ? ' (' + s.labels.tid + ')' : ''), points: rateOf(s.points, 100) };
        }).filter(function (s) { return s.points.length; });
        list.forEach(function (s) { s.last = s.points[s.points.length - 1][1]; });
        list.sort(function (a, b) { return b.last - a.last; });
        return colorize(list.slice(0, 6));
      },
      empty: 'no streaming thread measured yet',
    },
  };

  /* ------------------------------------------------------------------ */
  /* canvas line charts                                                  */

  function niceStep(range, count) {
    if (!(range > 0)) return 1;
    var raw = range / count, mag = Math.pow(10, Math.floor(Math.log10(raw))), n = raw / mag;
    return (n <= 1 ? 1 : n <= 2 ? 2 : n <= 2.5 ? 2.5 : n <= 5 ? 5 : 10) * mag;
  }

  function niceTimeStep(rangeS, count) {
    var steps = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400];
    var raw = rangeS / count;
    for (var i = 0; i < steps.length; i++) if (steps[i] >= raw) return steps[i];
    return steps[steps.length - 1];
  }

  function Chart(card, def) {
    this.card = card;
    this.def = def;
    this.box = card.querySelector('.chart-box');
    this.canvas = card.querySelector('canvas');
    this.legend = card.querySelector('.legend');
    this.series = [];
    this.hoverX = null;
    var self = this;
    this.canvas.addEventListener('mousemove', function (ev) {
      var r = self.canvas.getBoundingClientRect();
      self.hoverX = ev.clientX - r.left;
      self.hoverClient = { x: ev.clientX, y: ev.clientY };
      self.draw();
    });
    this.canvas.addEventListener('mouseleave', function () {
      self.hoverX = null;
      byId('d-tooltip').hidden = true;
      self.draw();
    });
    if (typeof ResizeObserver !== 'undefined')
      new ResizeObserver(function () { self.draw(); }).observe(this.box);
  }

  Chart.prototype.update = function () {
    this.series = this.def.series();
    this.format = this.def.format ? this.def.format() : this.def.opts.format;
    this.draw();
    this.renderLegend();
  };

  Chart.prototype.renderLegend = function () {
    var ul = this.legend, fmt = this.format;
    clear(ul);
    if (!this.series.length) {
      ul.appendChild(h('li', { class: 'empty muted', text: this.def.empty }));
      return;
    }
    this.series.slice(0, CFG.maxLegend).forEach(function (s) {
      var last = s.points.length ? s.points[s.points.length - 1][1] : NaN;
      ul.appendChild(h('li', { title: s.label },
        h('span', { class: 'swatch' + (s.dash ? ' dashed' : ''), style: s.dash ? 'border-color:' + s.color : 'background:' + s.color }),
        h('span', { text: s.label }),
        h('span', { class: 'val', text: fmt(last) })));
    });
    if (this.series.length > CFG.maxLegend)
      ul.appendChild(h('li', { class: 'muted', text: '+' + (this.series.length - CFG.maxLegend) + ' more' }));
  };

  Chart.prototype.draw = function () {
    var canvas = this.canvas, box = this.box;
    var W = box.clientWidth, H = box.clientHeight;
    if (!W || !H) return;
    var dpr = window.devicePixelRatio || 1;
    if (canvas.width !== Math.round(W * dpr) || canvas.height !== Math.round(H * dpr)) {
      canvas.width = Math.round(W * dpr);
      canvas.height = Math.round(H * dpr);
    }
    var ctx = canvas.getContext('2d');
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, W, H);
    var opts = this.def.opts, fmt = this.format || opts.format || String;
    /* the axis grows from the first sample up to the chosen window */
    var t1 = serverNowMs() / 1000, t0 = t1 - state.windowSeconds, first = Infinity;
    this.series.forEach(function (s) { if (s.points.length && s.points[0][0] < first) first = s.points[0][0]; });
    if (isFinite(first)) t0 = Math.max(t0, Math.min(first, t1 - 60));
    var padL = 58, padR = 8, padT = 6, padB = 18;
    var pw = W - padL - padR, ph = H - padT - padB;
    var css = getComputedStyle(document.documentElement);
    var cGrid = css.getPropertyValue('--grid').trim() || '#222b37';
    var cMuted = css.getPropertyValue('--muted').trim() || '#8d99a8';
    ctx.font = '10px ' + (css.getPropertyValue('--sans').trim() || 'sans-serif');

    /* y range over the visible points */
    var lo = Infinity, hi = -Infinity;
    this.series.forEach(function (s) {
      s.points.forEach(function (p) {
        if (p[0] < t0 - 5 || !isNum(p[1])) return;
        if (opts.log && p[1] <= 0) return;
        if (p[1] < lo) lo = p[1];
        if (p[1] > hi) hi = p[1];
      });
    });
    var hasData = lo <= hi;
    var ticks = [], yOf;
    if (opts.log) {
      if (!hasData) { lo = 1; hi = 100; }
      (opts.refLines || []).forEach(function (r) { lo = Math.min(lo, r.v); hi = Math.max(hi, r.v); });
      var e0 = Math.floor(Math.log10(lo)), e1 = Math.ceil(Math.log10(hi));
      if (e1 <= e0) e1 = e0 + 1;
      var every = Math.max(1, Math.ceil((e1 - e0) / 5));
      for (var e = e0; e <= e1; e += every) ticks.push(Math.pow(10, e));
      lo = Math.pow(10, e0); hi = Math.pow(10, e1);
      yOf = function (v) { return padT + ph - (Math.log10(v) - e0) / (e1 - e0) * ph; };
    } else {
      if (!hasData) { lo = 0; hi = 1; }
      if (opts.yMin !== undefined) lo = Math.min(opts.yMin, Math.max(lo, opts.clampMin !== undefined ? opts.clampMin : lo));
      if (opts.yMax !== undefined) hi = Math.max(opts.yMax, hi);
      if (opts.zero) lo = Math.min(0, lo);
      if (opts.minSpan && hi - lo < opts.minSpan) hi = lo + opts.minSpan;
      if (hi <= lo) hi = lo + (Math.abs(lo) || 1);
      var step = niceStep(hi - lo, 4);
      lo = Math.floor(lo / step + 1e-9) * step;
      hi = Math.ceil(hi / step - 1e-9) * step;
      for (var v = lo; v <= hi + step / 2; v += step) ticks.push(v);
      var ylo = lo, yhi = hi;
      yOf = function (v) { return padT + ph - (v - ylo) / (yhi - ylo) * ph; };
    }
    var xOf = function (t) { return padL + (t - t0) / (t1 - t0) * pw; };

    /* grid and axes */
    ctx.strokeStyle = cGrid;
    ctx.lineWidth = 1;
    ctx.fillStyle = cMuted;
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    ticks.forEach(function (v) {
      var y = Math.round(yOf(v)) + 0.5;
      ctx.beginPath(); ctx.moveTo(padL, y); ctx.lineTo(W - padR, y); ctx.stroke();
      ctx.fillText((opts.axisFormat || fmt)(v), padL - 5, y);
    });
    var tstep = niceTimeStep(t1 - t0, 5);
    ctx.textAlign = 'center';
    ctx.textBaseline = 'alphabetic';
    for (var t = Math.ceil(t0 / tstep) * tstep; t <= t1; t += tstep) {
      var x = Math.round(xOf(t)) + 0.5;
      ctx.beginPath(); ctx.moveTo(x, padT); ctx.lineTo(x, padT + ph); ctx.stroke();
      var lbl = tstep >= 86400 ? fmtDay(t * 1000) : fmtClock(t * 1000, tstep < 60), half = ctx.measureText(lbl).width / 2;
      if (x - half >= padL - 4 && x + half <= W) ctx.fillText(lbl, x, H - 4);
    }
    (opts.refLines || []).forEach(function (r) {
      if (r.v < lo || r.v > hi) return;
      var y = Math.round(yOf(r.v)) + 0.5;
      ctx.save();
      ctx.strokeStyle = '#f85149';
      ctx.setLineDash([4, 4]);
      ctx.beginPath(); ctx.moveTo(padL, y); ctx.lineTo(W - padR, y); ctx.stroke();
      ctx.restore();
      ctx.fillStyle = '#f85149';
      ctx.textAlign = 'left';
      ctx.fillText(r.label, padL + 4, y - 3);
    });

    if (!hasData) {
      ctx.fillStyle = cMuted;
      ctx.textAlign = 'center';
      ctx.font = 'italic 11px ' + (css.getPropertyValue('--sans').trim() || 'sans-serif');
      ctx.fillText(this.series.length ? 'waiting for data\u2026' : 'no data', padL + pw / 2, padT + ph / 2);
      return;
    }

    /* lines: a gap of more than 5 s (or 3 polls) breaks them */
    var gap = Math.max(5, 3 * CFG.chartPollMs / 1000);
    var clampY = function (v) {
      if (opts.clampMin !== undefined && v < opts.clampMin) v = opts.clampMin;
      return yOf(v);
    };
    ctx.save();
    ctx.beginPath();
    ctx.rect(padL, padT - 1, pw + 1, ph + 2);
    ctx.clip();
    this.series.forEach(function (s) {
      ctx.strokeStyle = s.color;
      ctx.lineWidth = 1.6;
      ctx.setLineDash(s.dash ? [5, 3] : []);
      ctx.beginPath();
      var prevT = null, n = 0;
      s.points.forEach(function (p) {
        if (p[0] < t0 - gap || !isNum(p[1]) || (opts.log && p[1] <= 0)) { prevT = null; return; }
        var x = xOf(p[0]), y = clampY(p[1]);
        if (prevT === null || p[0] - prevT > gap) ctx.moveTo(x, y); else ctx.lineTo(x, y);
        prevT = p[0];
        n++;
      });
      ctx.stroke();
      if (n === 1) {
        var only = s.points[s.points.length - 1];
        ctx.fillStyle = s.color;
        ctx.fillRect(xOf(only[0]) - 1.5, clampY(only[1]) - 1.5, 3, 3);
      }
    });
    ctx.restore();
    ctx.setLineDash([]);

    /* hover */
    var tip = byId('d-tooltip');
    if (this.hoverX !== null && this.hoverX >= padL && this.hoverX <= padL + pw) {
      var ht = t0 + (this.hoverX - padL) / pw * (t1 - t0);
      var rows = [];
      this.series.forEach(function (s) {
        var best = null, bd = Infinity;
        for (var i = s.points.length - 1; i >= 0; i--) {
          var d = Math.abs(s.points[i][0] - ht);
          if (d < bd) { bd = d; best = s.points[i]; }
          if (s.points[i][0] < ht - gap) break;
        }
        if (best && bd <= gap) rows.push({ s: s, p: best });
      });
      ctx.strokeStyle = cMuted;
      ctx.beginPath(); ctx.moveTo(this.hoverX + 0.5, padT); ctx.lineTo(this.hoverX + 0.5, padT + ph); ctx.stroke();
      rows.forEach(function (r) {
        if (opts.log && r.p[1] <= 0) return;
        ctx.fillStyle = r.s.color;
        ctx.beginPath(); ctx.arc(xOf(r.p[0]), clampY(r.p[1]), 3, 0, 2 * Math.PI); ctx.fill();
      });
      clear(tip);
      tip.appendChild(h('div', { class: 'tt-time', text: fmtClock(ht * 1000) }));
      if (!rows.length) tip.appendChild(h('div', { class: 'muted', text: 'no sample here' }));
      rows.slice(0, 12).forEach(function (r) {
        tip.appendChild(h('div', { class: 'tt-row' },
          h('span', { class: 'swatch', style: 'background:' + r.s.color }),
          h('span', { text: r.s.label }),
          h('span', { class: 'v', text: fmt(r.p[1]) })));
      });
      tip.hidden = false;
      var cx = this.hoverClient.x + 14, cy = this.hoverClient.y + 14;
      var tw = tip.offsetWidth, th = tip.offsetHeight;
      if (cx + tw > window.innerWidth - 8) cx = this.hoverClient.x - tw - 14;
      if (cy + th > window.innerHeight - 8) cy = this.hoverClient.y - th - 14;
      tip.style.left = cx + 'px';
      tip.style.top = cy + 'px';
    }
  };

  var charts = {};

  function drawCharts() {
    Object.keys(charts).forEach(function (k) { charts[k].update(); });
  }

  /* ------------------------------------------------------------------ */
  /* misc                                                                */

  var debounceTimers = {};
  function debounce(key, fn, ms) {
    clearTimeout(debounceTimers[key]);
    debounceTimers[key] = setTimeout(fn, ms);
  }

  function setupControls() {
    byId('d-compare-by').addEventListener('change', function () {
      state.compareBy = this.value;
      refreshComparison();
    });
    byId('d-window').addEventListener('click', function (ev) {
      var b = ev.target.closest('button[data-window]');
      if (!b) return;
      state.windowSeconds = parseInt(b.getAttribute('data-window'), 10) || 300;
      Array.prototype.forEach.call(this.querySelectorAll('button'), function (x) { x.classList.toggle('active', x === b); });
      drawCharts();
      if (longMode() && long.window !== state.windowSeconds) fetchLong();
    });
    var sw = document.querySelector('[data-unit-switch]');
    sw.addEventListener('click', function (ev) {
      var b = ev.target.closest('button[data-unit]');
      if (!b) return;
      state.throughputUnit = b.getAttribute('data-unit');
      Array.prototype.forEach.call(sw.querySelectorAll('button'), function (x) { x.classList.toggle('active', x === b); });
      charts.throughput.update();
    });
    Array.prototype.forEach.call(document.querySelectorAll('.chart-card'), function (card) {
      var name = card.getAttribute('data-chart');
      if (chartDefs[name]) charts[name] = new Chart(card, chartDefs[name]);
    });
    window.addEventListener('resize', function () { debounce('timeline', renderHistory, 150); });
  }

  /* read-only hooks for the browser test and for curious users */
  window.apmDashboard = Object.freeze({
    transport: function () { return conn.mode; },
    chartsMode: chartsMode,
    chartTicks: function () { return { done: metrics.ticks, busy: metrics.busy }; },
    longWindow: function () { return long.window; },
    updates: function () { return state.updates; },
    alertsApi: function () { return state.alertsApi; },
    wsMessages: function () { return JSON.parse(JSON.stringify(state.wsMessages)); },
    logSummary: function () { return state.logSummary ? JSON.parse(JSON.stringify(state.logSummary)) : null; },
    chartPoints: function () {
      var out = {};
      Object.keys(charts).forEach(function (k) {
        out[k] = charts[k].series.reduce(function (n, s) { return n + s.points.length; }, 0);
      });
      return out;
    },
  });

  function start() {
    setupControls();
    /* the first status answer opens the WebSocket: a service that does not
     * answer at all gets no handshake attempts (each is a console error) */
    pollStatus();
    setTimeout(function () { refreshLists(); }, 300);
    setInterval(function () {
      if (conn.httpUp) refreshLists();
    }, CFG.listPollMs);
    setTimeout(chartTick, 500);
    setInterval(chartTick, CFG.chartPollMs);
    /* ages ("3 s ago") and the time axis move even without new data */
    setInterval(guard('clock', function () {
      if (state.status) renderHealth(state.status.health_checks || {});
      if (state.alertsApi !== 'unknown') renderAlerts();
    }), 5000);
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
