// QBC console: a single-page application over the node's HTTP API.
// No framework, no build step, nothing loaded from elsewhere; the page's
// Content-Security-Policy forbids inline script and eval, so every
// element is made with the DOM and every text set with textContent.
'use strict';

const SVGNS = 'http://www.w3.org/2000/svg';
const TOKEN_KEY = 'qbc-admin-token';
const PAGE = 20; // rows per page of every list

// ---------- DOM helpers ----------

function h(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  setAttrs(e, attrs);
  add(e, kids);
  return e;
}

function s(tag, attrs, ...kids) {
  const e = document.createElementNS(SVGNS, tag);
  setAttrs(e, attrs);
  add(e, kids);
  return e;
}

function setAttrs(e, attrs) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'class') e.setAttribute('class', v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
}

function add(e, kids) {
  for (const k of kids.flat(Infinity)) {
    if (k === null || k === undefined || k === false) continue;
    e.append(k instanceof Node ? k : String(k));
  }
}

const $ = (sel, root) => (root || document).querySelector(sel);

function link(href, text, attrs) { return h('a', Object.assign({ href }, attrs), text); }

function msg(kind, ...kids) { return h('div', { class: 'msg ' + kind, role: kind === 'bad' ? 'alert' : 'status' }, kids); }

function toast(kind, text) {
  const t = $('#toast');
  const m = msg(kind, text);
  t.replaceChildren(m);
  setTimeout(() => { if (m.parentNode === t) t.replaceChildren(); }, 5000);
}

// ---------- formatting ----------

const nf = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 });
function num(v) { return v === null || v === undefined || Number.isNaN(v) ? '–' : nf.format(v); }
function bytes(v) {
  if (v === null || v === undefined) return '–';
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (Math.abs(v) >= 1024 && i < u.length - 1) { v /= 1024; i++; }
  return nf.format(v) + ' ' + u[i];
}
function pct(v) { return v === null || v === undefined ? '–' : nf.format(v * 100) + ' %'; }
function short(x) { return x && x.length > 20 ? x.slice(0, 10) + '…' + x.slice(-6) : (x || ''); }
function when(ms) { return ms ? new Date(ms).toLocaleString() : '–'; }
function clock(ms, secs) { return new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: secs ? '2-digit' : undefined }); }
const sig = new Intl.NumberFormat(undefined, { maximumSignificantDigits: 3 });
function tick(v) { return sig.format(v); }
function dur(ms) {
  if (ms > 0 && ms < 1000) return Math.round(ms) + ' ms';
  const sec = Math.max(0, Math.floor(ms / 1000));
  const d = Math.floor(sec / 86400), hh = Math.floor(sec % 86400 / 3600), mm = Math.floor(sec % 3600 / 60);
  if (d) return d + 'd ' + hh + 'h';
  if (hh) return hh + 'h ' + mm + 'm';
  if (mm) return mm + 'm ' + (sec % 60) + 's';
  return sec + 's';
}
function ago(t) { return t ? dur(Date.now() - new Date(t).getTime()) + ' ago' : '–'; }
function hash(x, href) {
  const e = href ? link(href, short(x)) : h('span', {}, short(x));
  e.classList.add('hash');
  e.title = x;
  return e;
}
function dataText(d) {
  if (d === undefined || d === null) return '';
  return typeof d === 'string' ? d : JSON.stringify(d);
}

// ---------- the API ----------

const token = {
  get: () => sessionStorage.getItem(TOKEN_KEY) || '',
  set: (v) => v ? sessionStorage.setItem(TOKEN_KEY, v) : sessionStorage.removeItem(TOKEN_KEY),
};

class APIError extends Error {
  constructor(status, code, message) { super(message); this.status = status; this.code = code; }
}

// api calls the node. An admin call carries the admin token the operator
// pasted, as a bearer header (never a cookie).
async function api(path, opts) {
  const o = opts || {};
  const headers = { Accept: 'application/json' };
  if (o.body !== undefined) headers['Content-Type'] = 'application/json';
  if (o.admin && token.get()) headers.Authorization = 'Bearer ' + token.get();
  const r = await fetch(path, {
    method: o.method || 'GET', headers, cache: 'no-store', credentials: 'omit',
    body: o.body === undefined ? undefined : JSON.stringify(o.body),
  });
  if (r.status === 204) return null;
  let j = null;
  try { j = await r.json(); } catch (e) { /* not JSON */ }
  if (!r.ok) {
    const err = j && j.error ? j.error : { code: String(r.status), message: r.statusText };
    let m = err.message;
    if (r.status === 401) m = 'Refused: this needs the node\'s admin token (paste it on the Admin page). ' + m;
    throw new APIError(r.status, err.code, m);
  }
  return j;
}

function chainPath(id, rest) { return '/v1/chains/' + id + rest; }

// ---------- state and routing ----------

const state = { mode: 'read', info: null, chain: '' };
let current = null; // the page being shown: { alive, cleanups }

// newPage is the life of one shown page: its timers and streams end when
// the user goes elsewhere (a page still loading when left cleans up at
// once what it starts).
function newPage() {
  const pg = { alive: true, cleanups: [] };
  pg.onLeave = (fn) => { if (pg.alive) pg.cleanups.push(fn); else fn(); };
  // every runs fn every ms while the page is shown; a hidden tab skips
  // the calls, so a dashboard left in the background costs the node
  // nothing.
  pg.every = (ms, fn) => {
    let t = null;
    const tick = async () => {
      if (!pg.alive) return;
      if (!document.hidden) { try { await fn(); } catch (e) { /* shown by fn */ } }
      if (pg.alive) t = setTimeout(tick, ms);
    };
    t = setTimeout(tick, ms);
    pg.onLeave(() => clearTimeout(t));
  };
  pg.leave = () => { pg.alive = false; pg.cleanups.forEach((f) => f()); };
  return pg;
}

const pages = {};

async function route(focus) {
  if (current) current.leave();
  current = newPage();
  const pg = current;
  const parts = location.hash.replace(/^#\/?/, '').split('/').filter((p) => p !== '').map(decodeURIComponent);
  let name = parts[0] || 'overview';
  if (!pages[name]) name = 'notfound';
  const navName = { quant: 'explorer', tx: 'explorer', record: 'explorer' }[name] || name;
  for (const a of document.querySelectorAll('#nav a')) {
    if (a.dataset.page === navName) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  const main = $('#main');
  const view = h('div', { class: 'page page-' + name });
  main.replaceChildren(view);
  document.title = 'QBC · ' + name[0].toUpperCase() + name.slice(1);
  if (focus) main.focus();
  try {
    await pages[name](view, parts.slice(1), pg);
  } catch (e) {
    view.append(msg('bad', e.message));
  }
}

async function chains() { return api('/v1/chains'); }

async function chainOr(id) {
  if (id) { state.chain = id; return id; }
  if (state.chain) return state.chain;
  const cs = await chains();
  state.chain = cs[0].id;
  return state.chain;
}

function adminMode() { return state.mode === 'admin'; }

// ---------- charts: small SVG drawings ----------

// chartInto draws series ({name, points: [[t, v], ...]}) as lines into
// box, sized to the box's width.
function chartInto(box, title, series, fmt) {
  fmt = fmt || num;
  const axisFmt = fmt === num ? tick : fmt;
  const W = Math.max(260, Math.floor(box.clientWidth || 600)), H = 150;
  let t0 = Infinity, t1 = -Infinity, vmax = 0;
  for (const se of series) for (const [t, v] of se.points) { t0 = Math.min(t0, t); t1 = Math.max(t1, t); vmax = Math.max(vmax, v); }
  const R = 8, T = 8, B = 22;
  const L = 10 + 6.5 * Math.max(...[0, 0.5, 1].map((f) => axisFmt(Math.max(vmax, 1e-9) * 1.1 * f).length));
  const count = series.reduce((a, se) => a + se.points.length, 0);
  const last = series.map((se) => se.name + ' ' + (se.points.length ? fmt(se.points[se.points.length - 1][1]) : '–')).join(', ');
  const svg = s('svg', { class: 'chart', viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: 'img', 'aria-label': title + ': ' + last });
  svg.append(s('title', {}, title + ': ' + last));
  if (vmax <= 0) vmax = 1;
  vmax *= 1.1;
  if (t1 <= t0) { t0 -= 60000; t1 += 1; }
  const secs = t1 - t0 < 10 * 60000;
  const x = (t) => L + (t - t0) / (t1 - t0) * (W - L - R);
  const y = (v) => T + (1 - v / vmax) * (H - T - B);
  for (let i = 0; i <= 2; i++) {
    const v = vmax * i / 2;
    svg.append(s('line', { class: 'axis', x1: L, x2: W - R, y1: y(v), y2: y(v) }));
    svg.append(s('text', { x: L - 4, y: y(v) + 4, 'text-anchor': 'end' }, axisFmt(v)));
  }
  if (count === 0) {
    svg.append(s('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle' }, 'no samples yet'));
  } else {
    svg.append(s('text', { x: L, y: H - 6 }, clock(t0, secs)));
    svg.append(s('text', { x: W - R, y: H - 6, 'text-anchor': 'end' }, clock(t1, secs)));
  }
  series.forEach((se, i) => {
    let pts = se.points;
    const stride = Math.ceil(pts.length / (W - L - R));
    if (stride > 1) pts = pts.filter((_, j) => j % stride === 0 || j === pts.length - 1);
    if (!pts.length) return;
    svg.append(s('polyline', { class: 's' + (i % 6), points: pts.map(([t, v]) => x(t).toFixed(1) + ',' + y(v).toFixed(1)).join(' ') }));
    const [lt, lv] = pts[pts.length - 1];
    svg.append(s('circle', { class: 's' + (i % 6), cx: x(lt).toFixed(1), cy: y(lv).toFixed(1), r: 3 }));
  });
  const legend = h('ul', { class: 'legend' }, series.map((se, i) =>
    h('li', {}, h('span', { class: 'sw s' + (i % 6) }), se.name + ': ' + (se.points.length ? fmt(se.points[se.points.length - 1][1]) : '–'))));
  box.replaceChildren(h('h3', {}, title), svg, legend);
  box.chart = [title, series, fmt];
}

// Charts are drawn to their box's width: draw them again when it changes.
let resizeTimer = null;
window.addEventListener('resize', () => {
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(() => {
    for (const b of document.querySelectorAll('.chartbox')) if (b.chart) chartInto(b, ...b.chart);
  }, 150);
});

function chartBox(parent) {
  const b = h('div', { class: 'panel chartbox' });
  parent.append(b);
  return b;
}

function sampleSeries(samples, name, f) { return { name, points: samples.map((x) => [x.t, f(x)]) }; }

// ---------- search ----------

let searches = 0;

async function search(q) {
  q = q.trim();
  if (!q) return;
  const mine = ++searches;
  const id = await chainOr();
  // Only the latest search moves the page: an earlier one that answers
  // late does not take the user back.
  const go = (hash) => { if (mine === searches) location.hash = hash; };
  if (/^\d+$/.test(q)) return go('#/quant/' + id + '/' + q);
  if (/^[0-9a-fA-F]{64}$/.test(q)) {
    const x = q.toLowerCase();
    try { await api(chainPath(id, '/txs/' + x)); return go('#/tx/' + id + '/' + x); } catch (e) { if (e.status !== 404) throw e; }
    try { await api(chainPath(id, '/quants/' + x)); return go('#/quant/' + id + '/' + x); } catch (e) { if (e.status !== 404) throw e; }
    const cs = await chains();
    if (cs.some((c) => c.id === x)) return go('#/explorer/' + x);
  }
  try {
    await api(chainPath(id, '/records/' + encodeURIComponent(q)));
    return go('#/record/' + id + '/' + encodeURIComponent(q));
  } catch (e) { if (e.status !== 404 && e.status !== 400) throw e; }
  if (mine === searches) toast('warn', 'Nothing on this chain matches “' + q + '” (a transaction id, a quant hash, a height or a record key).');
}

// ---------- Overview ----------

function card(k, v, small) {
  return h('div', { class: 'card' }, h('div', { class: 'k' }, k), h('div', { class: 'v' + (small ? ' small' : '') }, v));
}

pages.overview = async (view, args, pg) => {
  view.append(h('h1', {}, 'Overview'));
  const cards = h('div', { class: 'cards', id: 'overview-cards' });
  const charts = h('div', { class: 'grid2' });
  view.append(cards, h('h2', {}, 'Last 30 minutes'), charts);
  const c1 = chartBox(charts), c2 = chartBox(charts);
  const load = async () => {
    const [info, cs, health, hist, net] = await Promise.all([
      api('/v1/node'), chains(),
      api('/healthz').then(() => true, () => false),
      api('/v1/node/history?since=' + (Date.now() - 30 * 60000)).catch(() => ({ samples: [] })),
      api('/v1/network').catch(() => []),
    ]);
    state.info = info;
    const sm = hist.samples;
    const last = sm.length ? sm[sm.length - 1] : null;
    const pool = cs.reduce((a, c) => a + c.stats.pool_txs, 0);
    const qpm = cs.reduce((a, c) => a + (c.stats.quants_per_minute || 0), 0);
    const live = net.filter((p) => p.state === 'live').length;
    cards.replaceChildren(
      card('Node id', hash(info.id), true),
      card('Version', info.version || 'dev'),
      card('Uptime', info.started ? dur(Date.now() - info.started) : '–'),
      card('Health', h('span', { class: 'badge ' + (health ? 'ok' : 'bad') }, health ? 'ok' : 'down')),
      card('Chains followed', num(cs.length)),
      card('Peers live', num(live) + ' / ' + num(net.length)),
      card('Pool', num(pool) + ' txs'),
      card('Committed tx/s', last ? num(last.committed_tps) : '–'),
      card('Accepted tx/s', last ? num(last.accepted_tps) : '–'),
      card('Quants per minute', num(last ? last.quants_per_min : qpm)),
      card('CPU', last ? pct(last.cpu) : '–'),
      card('Memory', last ? bytes(last.rss_bytes) : '–'),
    );
    chartInto(c1, 'Transactions per second', [
      sampleSeries(sm, 'committed', (x) => x.committed_tps), sampleSeries(sm, 'accepted', (x) => x.accepted_tps)]);
    chartInto(c2, 'CPU (share of one core)', [sampleSeries(sm, 'cpu', (x) => x.cpu)], pct);
  };
  await load();
  pg.every(5000, load);
};

// ---------- Chains ----------

const ENGINES = ['pow', 'poa', 'raft'];

// checkSchema is a light check of a JSON Schema before the node's own:
// an object whose "type", "properties" and "required" have the right
// shapes.
function checkSchema(sc) {
  const types = ['object', 'array', 'string', 'number', 'integer', 'boolean', 'null'];
  const walk = (n, where) => {
    if (typeof n !== 'object' || n === null || Array.isArray(n)) return where + ' is not an object';
    if (n.type !== undefined) {
      const ts = Array.isArray(n.type) ? n.type : [n.type];
      for (const t of ts) if (!types.includes(t)) return where + '.type: "' + t + '" is not a JSON type';
    }
    if (n.required !== undefined && (!Array.isArray(n.required) || n.required.some((r) => typeof r !== 'string'))) {
      return where + '.required is not a list of names';
    }
    if (n.properties !== undefined) {
      if (typeof n.properties !== 'object' || Array.isArray(n.properties)) return where + '.properties is not an object';
      for (const [k, v] of Object.entries(n.properties)) { const e = walk(v, where + '.properties.' + k); if (e) return e; }
    }
    if (n.items !== undefined && !Array.isArray(n.items)) { const e = walk(n.items, where + '.items'); if (e) return e; }
    return '';
  };
  return walk(sc, 'schema');
}

function parseJSONField(text, what) {
  if (!text.trim()) return undefined;
  let v;
  try { v = JSON.parse(text); } catch (e) { throw new Error(what + ' is not JSON: ' + e.message); }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(what + ' must be a JSON object');
  return v;
}

// rulesFromForm reads the create form into rules, checked as far as the
// page can; the node checks them again (dry run, then create).
function rulesFromForm(f) {
  const r = { name: f.name.value.trim() };
  if (!r.name) throw new Error('name: a chain needs a name');
  if (r.name.length > 64) throw new Error('name: at most 64 characters');
  r.engine = f.engine.value;
  r.write_policy = f.write_policy.value;
  if (r.write_policy === 'allowlist') {
    r.writers = f.writers.value.split(/[\s,]+/).filter(Boolean);
    if (!r.writers.length) throw new Error('writers: an allowlist chain needs at least one writer key');
    for (const w of r.writers) if (!/^[0-9a-fA-F]{64}$/.test(w)) throw new Error('writers: "' + short(w) + '" is not a 64-digit hex Ed25519 key');
  }
  for (const k of ['max_data_bytes', 'max_quant_txs']) {
    const v = f[k].value.trim();
    if (v === '') continue;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(k + ': a whole number above 0');
    r[k] = n;
  }
  const p = parseJSONField(f.engine_params.value, 'engine_params');
  if (p) r.engine_params = p;
  const sc = parseJSONField(f.schema.value, 'schema');
  if (sc) {
    const e = checkSchema(sc);
    if (e) throw new Error(e);
    r.schema = sc;
  }
  return r;
}

function field(label, input) { return h('label', {}, label, input); }

pages.chains = async (view, args, pg) => {
  view.append(h('h1', {}, 'Chains'));
  const tableBox = h('div', { class: 'tablewrap' });
  view.append(tableBox);
  const load = async () => {
    const cs = await chains();
    const rows = cs.map((c, i) => h('tr', {},
      h('td', {}, link('#/explorer/' + c.id, c.stats.name), i === 0 ? h('span', { class: 'muted' }, ' (default)') : null),
      h('td', { class: 'hide-narrow' }, hash(c.id)),
      h('td', {}, c.stats.engine),
      h('td', { class: 'num' }, num(c.stats.height)),
      h('td', { class: 'num' }, num(c.stats.txs)),
      h('td', { class: 'hide-narrow' }, c.stats.finality),
      h('td', { class: 'num hide-narrow' }, num(c.stats.pool_txs)),
      h('td', {}, h('div', { class: 'actions' },
        link('#/explorer/' + c.id, 'Explore', { class: 'button secondary' }),
        h('button', { type: 'button', class: 'secondary admin-only', onclick: () => {
          forkForm.parent.value = c.id; forkForm.height.value = c.stats.height; forkForm.name.focus();
        } }, 'Fork'),
        i === 0 ? null : h('button', { type: 'button', class: 'danger admin-only', onclick: async () => {
          if (!confirm('Leave chain ' + c.stats.name + '? Its data on this node is deleted.')) return;
          try { await api(chainPath(c.id, ''), { method: 'DELETE', admin: true }); toast('ok', 'Left ' + c.stats.name); load(); } catch (e) { toast('bad', e.message); }
        } }, 'Leave'))),
    ));
    tableBox.replaceChildren(h('table', { id: 'chains-table' },
      h('thead', {}, h('tr', {}, h('th', {}, 'Name'), h('th', { class: 'hide-narrow' }, 'Id'), h('th', {}, 'Engine'),
        h('th', { class: 'num' }, 'Height'), h('th', { class: 'num' }, 'Txs'), h('th', { class: 'hide-narrow' }, 'Finality'),
        h('th', { class: 'num hide-narrow' }, 'Pool'), h('th', {}, 'Actions'))),
      h('tbody', {}, rows)));
    forkForm.parent.replaceChildren(...cs.map((c) => h('option', { value: c.id }, c.stats.name + ' (' + short(c.id) + ')')));
  };

  // Create.
  const out = h('div', { id: 'create-result', 'aria-live': 'polite' });
  const f = h('form', { class: 'stack', id: 'create-form', novalidate: true },
    h('div', { class: 'row' },
      field('Name', h('input', { name: 'name', required: true, maxlength: 64, placeholder: 'orders' })),
      field('Engine', h('select', { name: 'engine' }, ENGINES.map((e) => h('option', { value: e }, e)))),
      field('Write policy', h('select', { name: 'write_policy' },
        h('option', { value: 'open' }, 'open (unsigned allowed)'), h('option', { value: 'signed' }, 'signed by any key'),
        h('option', { value: 'allowlist' }, 'signed by listed keys'))),
      field('Max data bytes', h('input', { name: 'max_data_bytes', inputmode: 'numeric', placeholder: 'node default' })),
      field('Max txs per quant', h('input', { name: 'max_quant_txs', inputmode: 'numeric', placeholder: 'node default' }))),
    field('Writers (allowlist: hex public keys, one per line)', h('textarea', { name: 'writers', rows: 2 })),
    field('Engine parameters (JSON, optional: the engine\'s defaults otherwise)', h('textarea', { name: 'engine_params', rows: 2, placeholder: '{"target_ms": 2000}' })),
    field('JSON Schema for payloads (optional)', h('textarea', { name: 'schema', rows: 4, placeholder: '{"type":"object","required":["sku"],"properties":{"sku":{"type":"string"}}}' })),
    h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'secondary', id: 'create-check', onclick: () => check(false) }, 'Check rules'),
      h('button', { type: 'submit', id: 'create-submit' }, 'Create chain')),
    out);
  f.addEventListener('submit', (e) => { e.preventDefault(); check(true); });
  async function check(create) {
    let rules;
    try { rules = rulesFromForm(f); } catch (e) { out.replaceChildren(msg('bad', e.message)); return; }
    try {
      const dry = await api('/v1/chains?dry_run=true', { method: 'POST', body: rules, admin: true });
      if (!create) { out.replaceChildren(msg('ok', 'Rules accepted by the node; the chain\'s id would be ' + dry.id + '.')); return; }
      const c = await api('/v1/chains', { method: 'POST', body: rules, admin: true });
      out.replaceChildren(msg('ok', 'Chain ' + c.stats.name + ' created: ', link('#/explorer/' + c.id, 'open it in the explorer')));
      load();
    } catch (e) { out.replaceChildren(msg('bad', e.message)); }
  }

  // Fork.
  const forkOut = h('div', { 'aria-live': 'polite' });
  const forkForm = h('form', { class: 'stack', id: 'fork-form' },
    h('div', { class: 'row' },
      field('Parent chain', h('select', { name: 'parent' })),
      field('At height', h('input', { name: 'height', inputmode: 'numeric', required: true })),
      field('New name', h('input', { name: 'name', required: true, maxlength: 64 }))),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Fork')), forkOut);
  forkForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      const cs = await chains();
      const p = cs.find((c) => c.id === forkForm.parent.value);
      const height = Number(forkForm.height.value);
      if (!Number.isInteger(height) || height < 0) throw new Error('height: a whole number');
      if (height > p.stats.height) throw new Error('height: the parent is at ' + p.stats.height);
      const name = forkForm.name.value.trim();
      if (!name) throw new Error('name: the fork needs a name');
      const rules = Object.assign({}, p.rules, { name, created: Date.now() });
      delete rules.parent;
      const c = await api(chainPath(p.id, '/fork'), { method: 'POST', body: { height, rules }, admin: true });
      forkOut.replaceChildren(msg('ok', 'Fork ' + name + ' created: ', link('#/explorer/' + c.id, 'explore it')));
      load();
    } catch (e2) { forkOut.replaceChildren(msg('bad', e2.message)); }
  });

  // Follow.
  const followOut = h('div', { 'aria-live': 'polite' });
  const followForm = h('form', { class: 'stack', id: 'follow-form' },
    h('div', { class: 'row' },
      field('Chain id', h('input', { name: 'chain', required: true, pattern: '[0-9a-fA-F]{64}', class: 'mono' })),
      field('From the node at', h('input', { name: 'peer', required: true, placeholder: 'host:port' }))),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Follow')), followOut);
  followForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      const id = followForm.chain.value.trim().toLowerCase();
      if (!/^[0-9a-f]{64}$/.test(id)) throw new Error('chain id: 64 hex digits');
      const c = await api(chainPath(id, '/follow'), { method: 'POST', body: { peer: followForm.peer.value.trim() }, admin: true });
      followOut.replaceChildren(msg('ok', 'Following ' + c.stats.name + '.'));
      load();
    } catch (e2) { followOut.replaceChildren(msg('bad', e2.message)); }
  });

  view.append(h('div', { class: 'grid2 admin-only' },
    h('section', { class: 'panel' }, h('h2', {}, 'Create a chain'), f),
    h('div', {},
      h('section', { class: 'panel' }, h('h2', {}, 'Fork a chain'), forkForm),
      h('section', { class: 'panel' }, h('h2', {}, 'Follow a chain'), followForm))));
  await load();
  pg.every(10000, load);
};

// ---------- Explorer ----------

function chainPicker(id, cs, to) {
  const sel = h('select', { 'aria-label': 'Chain', id: 'chain-picker' },
    cs.map((c) => h('option', { value: c.id, selected: c.id === id }, c.stats.name + ' · ' + short(c.id))));
  sel.addEventListener('change', () => { location.hash = to + sel.value; });
  return sel;
}

function quantRow(q, id, fresh) {
  return h('tr', { class: fresh ? 'fresh' : null, 'data-height': q.height },
    h('td', { class: 'num' }, link('#/quant/' + id + '/' + q.height, String(q.height))),
    h('td', {}, hash(q.hash, '#/quant/' + id + '/' + q.hash)),
    h('td', { class: 'hide-narrow' }, when(q.time)),
    h('td', { class: 'num' }, num(q.tx_count)));
}

pages.explorer = async (view, args, pg) => {
  const id = await chainOr(args[0]);
  const cs = await chains();
  const c = cs.find((x) => x.id === id);
  if (!c) { view.append(msg('bad', 'This node does not follow chain ' + id)); state.chain = ''; return; }
  const liveBadge = h('span', { class: 'live', id: 'live' }, 'live');
  const stats = h('div', { class: 'cards' });
  const showStats = (st) => stats.replaceChildren(card('Height', num(st.height)), card('Transactions', num(st.txs)),
    card('Engine', st.engine), card('Finality', st.finality), card('Pool', num(st.pool_txs)), card('Peers', num(st.peers)));
  showStats(c.stats);
  view.append(h('h1', {}, 'Explorer: ', c.stats.name), h('div', { class: 'actions' }, chainPicker(id, cs, '#/explorer/'), liveBadge), stats);

  // Quants, newest first, a page at a time; live on the newest page.
  let top = null; // the height heading the page; null: the tip, live
  let tip = c.stats.height;
  const body = h('tbody', { id: 'quants' });
  const info = h('span', { class: 'muted' });
  const newer = h('button', { type: 'button', class: 'secondary', onclick: () => { top = top + PAGE >= tip ? null : top + PAGE; load(); } }, 'Newer');
  const older = h('button', { type: 'button', class: 'secondary', onclick: () => { top = Math.max(0, (top === null ? tip : top) - PAGE); load(); } }, 'Older');
  const latest = h('button', { type: 'button', class: 'secondary', onclick: () => { top = null; load(); } }, 'Latest');
  async function load() {
    const head = top === null ? tip : top;
    const from = Math.max(0, head - PAGE + 1);
    const r = await api(chainPath(id, '/quants?from=' + from + '&limit=' + PAGE));
    body.replaceChildren(...r.quants.reverse().map((q) => quantRow(q, id, false)));
    info.textContent = 'heights ' + from + '–' + head + (top === null ? ' (newest, live)' : '');
    newer.disabled = top === null;
    latest.disabled = top === null;
    older.disabled = from === 0;
  }
  view.append(h('h2', {}, 'Quants'), h('div', { class: 'pager' }, latest, newer, older, info),
    h('div', { class: 'tablewrap' }, h('table', {},
      h('thead', {}, h('tr', {}, h('th', { class: 'num' }, 'Height'), h('th', {}, 'Hash'), h('th', { class: 'hide-narrow' }, 'Time'), h('th', { class: 'num' }, 'Txs'))),
      body)));
  await load();

  // Records, a page at a time by key.
  const recBody = h('tbody', { id: 'records' });
  const after = [''];
  const recNext = h('button', { type: 'button', class: 'secondary' }, 'Next keys');
  const recPrev = h('button', { type: 'button', class: 'secondary' }, 'Previous keys');
  let next = '';
  async function loadKeys() {
    const cur = after[after.length - 1];
    const r = await api(chainPath(id, '/records?limit=' + PAGE + (cur ? '&after=' + encodeURIComponent(cur) : '')));
    recBody.replaceChildren(...r.keys.map((k) => h('tr', {}, h('td', {}, link('#/record/' + id + '/' + encodeURIComponent(k), k)))));
    if (!r.keys.length) recBody.append(h('tr', {}, h('td', { class: 'muted' }, 'No records on this chain yet (a record is a transaction with a key).')));
    next = r.next || '';
    recNext.disabled = !next;
    recPrev.disabled = after.length === 1;
  }
  recNext.addEventListener('click', () => { after.push(next); loadKeys(); });
  recPrev.addEventListener('click', () => { after.pop(); loadKeys(); });
  view.append(h('h2', {}, 'Records'), h('div', { class: 'pager' }, recPrev, recNext),
    h('div', { class: 'tablewrap' }, h('table', {}, h('thead', {}, h('tr', {}, h('th', {}, 'Key'))), recBody)));
  await loadKeys();

  const es = new EventSource(chainPath(id, '/events?kinds=quant'));
  es.onopen = () => liveBadge.classList.add('on');
  es.onerror = () => liveBadge.classList.remove('on');
  es.addEventListener('quant', (ev) => {
    const e = JSON.parse(ev.data);
    if (!e.header) return;
    tip = Math.max(tip, e.header.height);
    if (top !== null) return;
    for (const r of body.querySelectorAll('tr')) if (Number(r.dataset.height) >= e.header.height) r.remove(); // a reorganisation
    body.prepend(quantRow(e.header, id, true));
    while (body.children.length > PAGE) body.lastChild.remove();
    if (e.header.tx_count && after.length === 1) loadKeys().catch(() => {});
    api(chainPath(id, '/stats')).then(showStats, () => {});
    info.textContent = 'heights ' + Math.max(0, tip - PAGE + 1) + '–' + tip + ' (newest, live)';
  });
  pg.onLeave(() => es.close());
  pg.every(5000, async () => { const x = await api(chainPath(id, '/stats')); tip = Math.max(tip, x.height); showStats(x); });
};

pages.quant = async (view, args, pg) => {
  const id = await chainOr(args[0]);
  const q = await api(chainPath(id, '/quants/' + encodeURIComponent(args[1])));
  view.append(h('h1', {}, 'Quant ', String(q.height)),
    h('div', { class: 'actions' }, link('#/explorer/' + id, '← Explorer'),
      q.height > 0 ? link('#/quant/' + id + '/' + (q.height - 1), 'Previous') : null,
      link('#/quant/' + id + '/' + (q.height + 1), 'Next')),
    h('div', { class: 'panel' }, h('dl', { class: 'kv' },
      h('dt', {}, 'Hash'), h('dd', { class: 'hash' }, q.hash),
      h('dt', {}, 'Chain'), h('dd', {}, hash(q.chain, '#/explorer/' + id)),
      h('dt', {}, 'Previous'), h('dd', {}, q.height > 0 ? hash(q.prev, '#/quant/' + id + '/' + q.prev) : '–'),
      h('dt', {}, 'Tx root'), h('dd', { class: 'hash' }, q.tx_root),
      h('dt', {}, 'Time'), h('dd', {}, when(q.time)),
      h('dt', {}, 'Transactions'), h('dd', {}, num(q.tx_count)),
      h('dt', {}, 'Seal'), h('dd', { class: 'hash' }, q.seal ? short(q.seal) : '–'))));
  if (q.rules) view.append(h('h2', {}, 'Rules (this is the bang)'), h('pre', {}, JSON.stringify(q.rules, null, 2)));
  // A quant holds up to its chain's max_quant_txs: rows are drawn 50 at a
  // time.
  const txs = q.txs || [];
  const body = h('tbody', {});
  const more = h('button', { type: 'button', class: 'secondary', hidden: true });
  let shown = 0;
  const showMore = () => {
    const next = txs.slice(shown, shown + 50);
    body.append(...next.map((t, i) => h('tr', {},
      h('td', { class: 'num' }, String(shown + i)),
      h('td', {}, hash(t.id, '#/tx/' + id + '/' + t.id)),
      h('td', { class: 'hide-narrow' }, t.key || ''),
      h('td', { class: 'mono' }, dataText(t.data || t.raw).slice(0, 80)))));
    shown += next.length;
    more.textContent = 'Show more (' + shown + ' of ' + txs.length + ')';
    more.hidden = shown >= txs.length;
  };
  more.addEventListener('click', showMore);
  if (txs.length) showMore(); else body.append(h('tr', {}, h('td', { colspan: 4, class: 'muted' }, 'No transactions')));
  view.append(h('h2', {}, 'Transactions'), h('div', { class: 'tablewrap' }, h('table', { id: 'quant-txs' },
    h('thead', {}, h('tr', {}, h('th', { class: 'num' }, '#'), h('th', {}, 'Id'), h('th', { class: 'hide-narrow' }, 'Key'), h('th', {}, 'Data'))),
    body)), more);
};

// ---------- proofs, checked here ----------

function hexToBytes(x) {
  if (typeof x !== 'string' || x.length % 2 || /[^0-9a-fA-F]/.test(x)) throw new Error('not hex');
  const b = new Uint8Array(x.length / 2);
  for (let i = 0; i < b.length; i++) b[i] = parseInt(x.substr(i * 2, 2), 16);
  return b;
}
function bytesToHex(b) { return Array.from(b, (v) => v.toString(16).padStart(2, '0')).join(''); }
function concat(...parts) {
  const n = parts.reduce((a, p) => a + p.length, 0);
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}
function equal(a, b) { return a.length === b.length && a.every((v, i) => v === b[i]); }

// sha256 uses WebCrypto where the page is a secure context (https, or
// loopback); elsewhere (plain http to a LAN address) the same function in
// JavaScript.
async function sha256(b) {
  if (window.crypto && crypto.subtle) return new Uint8Array(await crypto.subtle.digest('SHA-256', b));
  return sha256js(b);
}

function sha256js(msgBytes) {
  const K = new Uint32Array([0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
    0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
    0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb,
    0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f,
    0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2]);
  const Hs = new Uint32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
  const l = msgBytes.length;
  const n = ((l + 9 + 63) >> 6) << 6;
  const m = new Uint8Array(n);
  m.set(msgBytes);
  m[l] = 0x80;
  const dv = new DataView(m.buffer);
  dv.setUint32(n - 8, Math.floor(l / 0x20000000));
  dv.setUint32(n - 4, (l << 3) >>> 0);
  const W = new Uint32Array(64);
  const rotr = (x, k) => (x >>> k) | (x << (32 - k));
  for (let off = 0; off < n; off += 64) {
    for (let i = 0; i < 16; i++) W[i] = dv.getUint32(off + i * 4);
    for (let i = 16; i < 64; i++) {
      const s0 = rotr(W[i - 15], 7) ^ rotr(W[i - 15], 18) ^ (W[i - 15] >>> 3);
      const s1 = rotr(W[i - 2], 17) ^ rotr(W[i - 2], 19) ^ (W[i - 2] >>> 10);
      W[i] = (W[i - 16] + s0 + W[i - 7] + s1) >>> 0;
    }
    let [a, b, c, d, e, f, g, hh] = Hs;
    for (let i = 0; i < 64; i++) {
      const S1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
      const t1 = (hh + S1 + ((e & f) ^ (~e & g)) + K[i] + W[i]) >>> 0;
      const S0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
      const t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) >>> 0;
      hh = g; g = f; f = e; e = (d + t1) >>> 0; d = c; c = b; b = a; a = (t1 + t2) >>> 0;
    }
    Hs[0] += a; Hs[1] += b; Hs[2] += c; Hs[3] += d; Hs[4] += e; Hs[5] += f; Hs[6] += g; Hs[7] += hh;
  }
  const out = new Uint8Array(32);
  const ov = new DataView(out.buffer);
  Hs.forEach((v, i) => ov.setUint32(i * 4, v));
  return out;
}

const enc = new TextEncoder();
// Sum is quant.Sum: SHA-256(domain || 0x00 || bytes), docs/protocol.md.
function domainSum(domain, b) { return sha256(concat(enc.encode(domain), new Uint8Array([0]), b)); }

// verifyProof checks a proof (internal/proof's JSON form) as proof.Verify
// does, against the hash of a quant the user trusts. It returns the
// checks made, each {what, ok}, and whether all passed.
async function verifyProof(p, trusted, wantID) {
  const checks = [];
  const check = (what, ok) => { checks.push({ what, ok }); return ok; };
  try {
    const tx = hexToBytes(p.tx), header = hexToBytes(p.header);
    const path = (p.path || []).map(hexToBytes);
    if (header.length < 119 || tx.length < 55) throw new Error('a part is too short to decode');
    const id = await domainSum('qbc/tx/v1', tx);
    check('transaction id = SHA-256("qbc/tx/v1" 0x00 tx) = ' + short(bytesToHex(id)) + (wantID ? ', the id asked for' : ''), !wantID || bytesToHex(id) === wantID);
    const qh = await domainSum('qbc/header/v1', header);
    const dv = new DataView(header.buffer, header.byteOffset);
    const height = Number(dv.getBigUint64(33));
    check('quant hash = SHA-256("qbc/header/v1" 0x00 header) = ' + short(bytesToHex(qh)) + ' at height ' + height, true);
    check('the transaction names the chain its quant names', equal(tx.subarray(1, 33), header.subarray(1, 33)));
    const txRoot = header.subarray(73, 105), txCount = dv.getUint32(113);
    check('tx_count ' + p.tx_count + ' is the header\'s (' + txCount + ')', txCount === p.tx_count);
    let hsh = await sha256(concat(new Uint8Array([0]), id));
    let index = p.index, last = txCount - 1, used = 0, ok = p.index < txCount && path.length <= 64;
    for (; ok && last > 0; index = Math.floor(index / 2), last = Math.floor(last / 2)) {
      if (index % 2 === 1) {
        if (used === path.length) { ok = false; break; }
        hsh = await sha256(concat(new Uint8Array([1]), path[used++], hsh));
      } else if (index < last) {
        if (used === path.length) { ok = false; break; }
        hsh = await sha256(concat(new Uint8Array([1]), hsh, path[used++]));
      }
    }
    check('Merkle path (' + path.length + ' hashes, leaf 0x00, node 0x01) leads from index ' + p.index + ' to the header\'s tx_root',
      ok && used === path.length && equal(hsh, txRoot));
    let prev = qh, prevHeight = height, found = bytesToHex(qh) === trusted, links = true;
    for (const hx of p.headers || []) {
      const b = hexToBytes(hx);
      const bv = new DataView(b.buffer, b.byteOffset);
      if (b.length < 119 || !equal(b.subarray(41, 73), prev) || Number(bv.getBigUint64(33)) !== prevHeight + 1) { links = false; break; }
      prev = await domainSum('qbc/header/v1', b);
      prevHeight++;
      if (bytesToHex(prev) === trusted) found = true;
    }
    check((p.headers || []).length + ' later headers each name the one before', links);
    check('the proof reaches the trusted quant ' + short(trusted), found);
  } catch (e) {
    check('the proof decodes: ' + e.message, false);
  }
  return { checks, ok: checks.every((c) => c.ok) };
}

function checksList(res) {
  return h('ol', { class: 'checks' }, res.checks.map((c) => h('li', { class: c.ok ? 'ok' : 'bad' }, (c.ok ? '✓ ' : '✗ ') + c.what)));
}

pages.tx = async (view, args, pg) => {
  const id = await chainOr(args[0]);
  const txid = args[1];
  const st = await api(chainPath(id, '/stats'));
  let r;
  try {
    r = await api(chainPath(id, '/txs/' + txid + '?proof=full&to=' + st.tip));
  } catch (e) {
    if (e.code !== 'proof_too_long' && e.status !== 400) throw e;
    r = await api(chainPath(id, '/txs/' + txid));
  }
  const t = r.tx;
  view.append(h('h1', {}, 'Transaction'), h('p', { class: 'hash' }, txid),
    h('div', { class: 'actions' }, link('#/explorer/' + id, '← Explorer'), r.quant ? link('#/quant/' + id + '/' + r.height, 'Its quant') : null),
    h('div', { class: 'panel' }, h('dl', { class: 'kv' },
      h('dt', {}, 'Status'), h('dd', {}, h('span', { class: 'badge ' + (r.status === 'committed' ? 'ok' : 'warn') }, r.status)),
      r.quant ? [h('dt', {}, 'Quant'), h('dd', {}, hash(r.quant, '#/quant/' + id + '/' + r.quant), ' at height ', String(r.height), ', index ', String(r.index || 0))] : null,
      r.confirmations ? [h('dt', {}, 'Confirmations'), h('dd', {}, num(r.confirmations))] : null,
      h('dt', {}, 'Time'), h('dd', {}, when(t.time)),
      h('dt', {}, 'Kind'), h('dd', {}, t.kind),
      t.key ? [h('dt', {}, 'Record key'), h('dd', {}, link('#/record/' + id + '/' + encodeURIComponent(t.key), t.key))] : null,
      h('dt', {}, 'Signed by'), h('dd', { class: 'hash' }, t.pubkey || 'unsigned'))),
    h('h2', {}, 'Data'), h('pre', {}, t.kind === 'json' ? JSON.stringify(t.data, null, 2) : dataText(t.data || t.raw)));
  const box = h('section', { class: 'panel', id: 'proof' }, h('h2', {}, 'Inclusion proof'));
  view.append(box);
  if (!r.proof_full) {
    box.append(h('p', { class: 'muted' }, r.status === 'committed' ? 'The node gave no proof to its tip (the quant is too deep: ask the CLI for one to a nearer quant).' : 'Pending: a proof comes once the transaction is committed.'));
    return;
  }
  const trust = h('input', { id: 'trusted', class: 'mono', value: st.tip, size: 64, 'aria-describedby': 'trust-help' });
  const result = h('div', { id: 'proof-result', 'aria-live': 'polite' });
  const run = async () => {
    const res = await verifyProof(r.proof_full, trust.value.trim().toLowerCase(), txid);
    result.replaceChildren(res.ok ? msg('ok', 'Proof checked in this browser: the transaction is in the trusted quant\'s history.') :
      msg('bad', 'Proof refused: a check below failed.'), checksList(res));
  };
  const form = h('form', { class: 'stack' }, field('Trusted quant hash', trust),
    h('p', { class: 'muted', id: 'trust-help' }, 'By default the tip this node reported when the proof was asked. A check is only as good as this hash: paste one from a node you trust.'),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Check again')));
  form.addEventListener('submit', (e) => { e.preventDefault(); run(); });
  box.append(form, result, h('details', {}, h('summary', {}, 'The proof as served'), h('pre', {}, JSON.stringify(r.proof_full, null, 2))));
  await run();
};

pages.record = async (view, args, pg) => {
  const id = await chainOr(args[0]);
  const key = args[1];
  const ek = encodeURIComponent(key);
  const r = await api(chainPath(id, '/records/' + ek));
  view.append(h('h1', {}, 'Record ', h('code', {}, key)),
    h('div', { class: 'actions' }, link('#/explorer/' + id, '← Explorer'), link('#/tx/' + id + '/' + r.tx.id, 'Latest transaction')),
    h('h2', {}, 'Latest version'),
    h('div', { class: 'panel' }, h('dl', { class: 'kv' },
      h('dt', {}, 'Status'), h('dd', {}, r.status),
      h('dt', {}, 'Height'), h('dd', {}, r.height !== undefined ? String(r.height) : '–'),
      h('dt', {}, 'Time'), h('dd', {}, when(r.tx.time)),
      h('dt', {}, 'Lock'), h('dd', {}, r.lock ? JSON.stringify(r.lock) : 'none'))),
    h('pre', {}, JSON.stringify(r.tx.data, null, 2)));
  const body = h('tbody', { id: 'history' });
  const cursors = [''];
  let next = '';
  const more = h('button', { type: 'button', class: 'secondary' }, 'Later versions');
  const back = h('button', { type: 'button', class: 'secondary' }, 'Earlier versions');
  const load = async () => {
    const cur = cursors[cursors.length - 1];
    const hr = await api(chainPath(id, '/records/' + ek + '/history?limit=' + PAGE + (cur ? '&after=' + encodeURIComponent(cur) : '')));
    body.replaceChildren(...hr.versions.map((v) => h('tr', {},
      h('td', { class: 'num' }, link('#/quant/' + id + '/' + v.height, String(v.height))),
      h('td', {}, hash(v.tx, '#/tx/' + id + '/' + v.tx)),
      h('td', { class: 'hide-narrow' }, when(v.time)),
      h('td', { class: 'hash hide-narrow' }, v.signer ? short(v.signer) : 'unsigned'))));
    next = hr.next || '';
    more.disabled = !next;
    back.disabled = cursors.length === 1;
  };
  more.addEventListener('click', () => { cursors.push(next); load(); });
  back.addEventListener('click', () => { cursors.pop(); load(); });
  view.append(h('h2', {}, 'History (oldest first)'), h('div', { class: 'pager' }, back, more),
    h('div', { class: 'tablewrap' }, h('table', {}, h('thead', {}, h('tr', {}, h('th', { class: 'num' }, 'Height'), h('th', {}, 'Transaction'),
      h('th', { class: 'hide-narrow' }, 'Time'), h('th', { class: 'hide-narrow' }, 'Signer'))), body)));
  await load();
};

// ---------- Network ----------

pages.network = async (view, args, pg) => {
  view.append(h('h1', {}, 'Network'));
  const me = h('div', { class: 'panel' });
  const box = h('div', { class: 'tablewrap' });
  view.append(me, box);
  const out = h('div', { 'aria-live': 'polite' });
  const addForm = h('form', { class: 'stack admin-only', id: 'peer-form' },
    h('div', { class: 'row' }, field('Add a peer', h('input', { name: 'addr', required: true, placeholder: 'host:port' }))),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Add peer')), out);
  addForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    try { await api('/v1/peers', { method: 'POST', body: { addr: addForm.addr.value.trim() }, admin: true }); out.replaceChildren(msg('ok', 'Peer added.')); load(); } catch (e2) { out.replaceChildren(msg('bad', e2.message)); }
  });
  view.append(h('section', { class: 'panel admin-only' }, addForm));
  const load = async () => {
    const [info, net] = await Promise.all([api('/v1/node'), api('/v1/network')]);
    me.replaceChildren(h('dl', { class: 'kv' }, h('dt', {}, 'This node'), h('dd', { class: 'hash' }, info.id),
      h('dt', {}, 'Reached at'), h('dd', {}, info.advertise)));
    if (!net.length) { box.replaceChildren(h('p', { class: 'muted', id: 'no-peers' }, 'No peers: add one (Admin), or start the node with --peers.')); return; }
    box.replaceChildren(h('table', { id: 'peers' },
      h('thead', {}, h('tr', {}, h('th', {}, 'Address'), h('th', { class: 'hide-narrow' }, 'Id'), h('th', {}, 'State'),
        h('th', { class: 'num' }, 'Score'), h('th', { class: 'hide-narrow' }, 'Last seen'), h('th', {}, 'Chains (height)'), h('th', { class: 'admin-only' }, ''))),
      h('tbody', {}, net.map((p) => h('tr', {},
        h('td', {}, p.addr), h('td', { class: 'hide-narrow' }, p.id ? hash(p.id) : '–'),
        h('td', {}, h('span', { class: 'badge ' + (p.state === 'live' ? 'ok' : 'bad') }, p.state)),
        h('td', { class: 'num' }, String(p.score)), h('td', { class: 'hide-narrow' }, ago(p.last_seen)),
        h('td', {}, p.chains.map((c, i) => [i ? ', ' : '', link('#/explorer/' + c.chain, c.name), ' (' + c.height + ')'])),
        h('td', { class: 'admin-only' }, h('button', { type: 'button', class: 'danger', onclick: async () => {
          try { await api('/v1/peers/' + encodeURIComponent(p.addr), { method: 'DELETE', admin: true }); toast('ok', 'Removed ' + p.addr); load(); } catch (e) { toast('bad', e.message); }
        } }, 'Remove')))))));
  };
  await load();
  pg.every(5000, load);
};

// ---------- Analytics ----------

pages.analytics = async (view, args, pg) => {
  view.append(h('h1', {}, 'Analytics'));
  const range = h('select', { id: 'range', 'aria-label': 'Time range' },
    h('option', { value: 15 }, 'last 15 minutes'), h('option', { value: 60, selected: true }, 'last hour'),
    h('option', { value: 360 }, 'last 6 hours'));
  const note = h('span', { class: 'muted' });
  view.append(h('div', { class: 'actions' }, range, note));
  const grid = h('div', { class: 'grid2', id: 'charts' });
  view.append(grid);
  const boxes = Array.from({ length: 9 }, () => chartBox(grid));
  let samples = [], interval = 10000;
  const draw = () => {
    const since = Date.now() - Number(range.value) * 60000;
    const sm = samples.filter((x) => x.t > since);
    const ids = [];
    for (const x of sm) for (const c of x.chains) if (!ids.includes(c.id)) ids.push(c.id);
    const names = {};
    for (const x of sm) for (const c of x.chains) names[c.id] = c.name;
    const perChain = ids.slice(0, 6).map((cid) => ({ name: names[cid], points: sm.filter((x) => x.chains.some((c) => c.id === cid)).map((x) => [x.t, x.chains.find((c) => c.id === cid).committed_tps]) }));
    const sizes = ids.slice(0, 6).map((cid) => ({ name: names[cid], points: sm.filter((x) => x.chains.some((c) => c.id === cid)).map((x) => [x.t, x.chains.find((c) => c.id === cid).txs]) }));
    chartInto(boxes[0], 'Transactions per second', [sampleSeries(sm, 'committed', (x) => x.committed_tps), sampleSeries(sm, 'accepted', (x) => x.accepted_tps)]);
    chartInto(boxes[1], 'Commit latency (ms per quant)', [sampleSeries(sm, 'commit', (x) => x.commit_ms)]);
    chartInto(boxes[2], 'Pool (transactions waiting)', [sampleSeries(sm, 'pool', (x) => x.pool_txs)]);
    chartInto(boxes[3], 'Quant interval (ms)', [sampleSeries(sm, 'interval', (x) => x.quant_interval_ms)]);
    chartInto(boxes[4], 'Chain size (transactions)', sizes.length ? sizes : [sampleSeries(sm, 'txs', (x) => x.txs)]);
    chartInto(boxes[5], 'Store size on disk', [sampleSeries(sm, 'disk', (x) => x.disk_bytes)], bytes);
    chartInto(boxes[6], 'Activity per chain (committed tx/s)', perChain);
    chartInto(boxes[7], 'CPU (share of one core)', [sampleSeries(sm, 'cpu', (x) => x.cpu)], pct);
    chartInto(boxes[8], 'Memory (resident)', [sampleSeries(sm, 'rss', (x) => x.rss_bytes)], bytes);
    note.textContent = sm.length + ' samples, one every ' + dur(interval);
  };
  const load = async () => {
    const since = samples.length ? samples[samples.length - 1].t : Date.now() - 6 * 3600000;
    const r = await api('/v1/node/history?since=' + since);
    interval = r.interval_ms;
    samples = samples.concat(r.samples).filter((x) => x.t > Date.now() - 6 * 3600000 - 60000);
    draw();
  };
  range.addEventListener('change', draw);
  await load();
  pg.every(Math.max(2000, interval), load);
};

// ---------- SQL ----------

pages.sql = async (view, args, pg) => {
  view.append(h('h1', {}, 'SQL'));
  const q = h('textarea', { id: 'sql-query', rows: 5, 'aria-label': 'Query', spellcheck: 'false' }, 'SELECT height, hash, tx_count FROM quants ORDER BY height DESC LIMIT 20');
  const out = h('div', { id: 'sql-result', 'aria-live': 'polite' });
  const tables = h('div', { class: 'actions', id: 'sql-tables' });
  const run = async () => {
    out.replaceChildren(h('p', { class: 'muted' }, 'Running…'));
    try {
      const t0 = performance.now();
      const r = await api('/v1/sql', { method: 'POST', body: { query: q.value, max_rows: 500 } });
      const ms = performance.now() - t0;
      out.replaceChildren(h('p', { class: 'muted' }, r.rows.length + ' rows in ' + num(ms) + ' ms' + (r.truncated ? ' (more left out: add LIMIT or a WHERE)' : '')),
        h('div', { class: 'tablewrap' }, h('table', { class: 'sqlgrid' },
          h('thead', {}, h('tr', {}, r.columns.map((c) => h('th', {}, c)))),
          h('tbody', {}, r.rows.map((row) => h('tr', {}, row.map((v) => h('td', {}, v === null ? 'NULL' : typeof v === 'object' ? JSON.stringify(v) : String(v)))))))));
    } catch (e) { out.replaceChildren(msg('bad', e.message)); }
  };
  q.addEventListener('keydown', (e) => { if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); run(); } });
  const pick = (name) => { q.value = 'SELECT * FROM ' + name + ' LIMIT 50'; run(); };
  view.append(h('p', { class: 'muted' }, 'Read-only queries on the node\'s SQL projection of its chains (docs/sql.md). Ctrl+Enter runs.'),
    h('h2', {}, 'Tables'), tables, h('h2', {}, 'Query'), q,
    h('div', { class: 'actions' }, h('button', { type: 'button', id: 'sql-run', onclick: run }, 'Run')), out);
  const names = ['chains', 'quants', 'transactions', 'records', 'record_history'];
  try {
    const r = await api('/v1/sql', { method: 'POST', body: { query: 'SELECT view FROM chains WHERE view IS NOT NULL' } });
    for (const row of r.rows) if (row[0]) names.push(row[0]);
  } catch (e) {
    view.insertBefore(msg('warn', e.message), tables);
  }
  tables.replaceChildren(...names.map((n) => h('button', { type: 'button', class: 'secondary', onclick: () => pick(n) }, n)));
};

// ---------- Admin ----------

pages.admin = async (view, args, pg) => {
  view.append(h('h1', {}, 'Admin'));
  if (!adminMode()) { view.append(msg('warn', 'The admin page is off on this node (ui: read).')); return; }
  const info = await api('/v1/node');
  const tok = h('input', { id: 'token', type: 'password', autocomplete: 'off', class: 'mono', value: token.get() });
  const tokOut = h('div', { 'aria-live': 'polite' });
  const tokForm = h('form', { class: 'stack', id: 'token-form' },
    field('Admin token', tok),
    h('p', { class: 'muted' }, info.admin_auth ?
      'This node\'s admin routes need its token (admin_token, QBC_ADMIN_TOKEN, or the admin-token file in its data directory). It is kept in this tab only (sessionStorage) and sent as an Authorization header.' :
      'This node has no admin token: its admin routes are open to whoever reaches it.'),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Use token'),
      h('button', { type: 'button', class: 'secondary', onclick: () => { token.set(''); tok.value = ''; tokOut.replaceChildren(msg('ok', 'Token forgotten.')); } }, 'Forget')),
    tokOut);
  tokForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    token.set(tok.value.trim());
    try { await api('/v1/node/config', { admin: true }); tokOut.replaceChildren(msg('ok', 'Token accepted.')); loadConfig(); } catch (e2) { tokOut.replaceChildren(msg('bad', e2.message)); }
  });

  const cs = await chains();
  const leapSel = h('select', { name: 'chain', 'aria-label': 'Chain' }, cs.map((c) => h('option', { value: c.id }, c.stats.name)));
  const leapOut = h('div', { 'aria-live': 'polite', id: 'leap-result' });
  const leapForm = h('form', { class: 'stack', id: 'leap-form' }, field('Chain', leapSel),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Leap now')), leapOut);
  leapForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      const q = await api(chainPath(leapSel.value, '/leap'), { method: 'POST', admin: true });
      leapOut.replaceChildren(msg('ok', 'Quant ' + q.height + ' made with ' + q.tx_count + ' transactions: ', link('#/quant/' + leapSel.value + '/' + q.height, 'open it')));
    } catch (e2) { leapOut.replaceChildren(msg('bad', e2.message)); }
  });

  const peerOut = h('div', { 'aria-live': 'polite', id: 'peer-result' });
  const peerIn = h('input', { name: 'addr', placeholder: 'host:port', required: true });
  const peerForm = h('form', { class: 'stack', id: 'admin-peer-form' }, field('Peer address', peerIn),
    h('div', { class: 'actions' },
      h('button', { type: 'submit' }, 'Add peer'),
      h('button', { type: 'button', class: 'danger', onclick: async () => {
        try { await api('/v1/peers/' + encodeURIComponent(peerIn.value.trim()), { method: 'DELETE', admin: true }); peerOut.replaceChildren(msg('ok', 'Peer removed.')); } catch (e2) { peerOut.replaceChildren(msg('bad', e2.message)); }
      } }, 'Remove peer')), peerOut);
  peerForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    try { await api('/v1/peers', { method: 'POST', body: { addr: peerIn.value.trim() }, admin: true }); peerOut.replaceChildren(msg('ok', 'Peer added.')); } catch (e2) { peerOut.replaceChildren(msg('bad', e2.message)); }
  });

  const cfgBox = h('div', { id: 'config' });
  async function loadConfig() {
    try { cfgBox.replaceChildren(h('pre', {}, JSON.stringify(await api('/v1/node/config', { admin: true }), null, 2))); } catch (e) { cfgBox.replaceChildren(msg('bad', e.message)); }
  }
  view.append(h('div', { class: 'grid2' },
    h('section', { class: 'panel' }, h('h2', {}, 'Token'), tokForm),
    h('section', { class: 'panel' }, h('h2', {}, 'Leap'), leapForm),
    h('section', { class: 'panel' }, h('h2', {}, 'Peers'), peerForm)),
  h('section', { class: 'panel' }, h('h2', {}, 'Effective configuration (secrets redacted)'), cfgBox));
  await loadConfig();
};

pages.notfound = async (view, args, pg) => {
  view.append(h('h1', {}, 'Not found'), h('p', {}, 'No such page. '), link('#/overview', 'Go to the overview'));
};

// ---------- start ----------

async function start() {
  try {
    const m = await api('/ui/mode.json');
    state.mode = m.mode;
  } catch (e) { /* read */ }
  document.body.classList.toggle('read', !adminMode());
  try {
    const info = await api('/v1/node');
    state.info = info;
    $('#foot-node').textContent = 'node ' + short(info.id) + ' · ' + (info.version || 'dev') + ' · ' + info.advertise;
  } catch (e) { /* the page says it */ }
  $('#search').addEventListener('submit', (e) => {
    e.preventDefault();
    const before = location.hash;
    search($('#q').value).then(() => { if (location.hash !== before) $('#q').value = ''; }, (err) => toast('bad', err.message));
  });
  window.addEventListener('hashchange', () => route(true));
  route(false);
}

start();
