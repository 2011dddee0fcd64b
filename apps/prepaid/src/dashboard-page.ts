/**
 * The live dashboard served at `/` of the admin address: one HTML page with its script inline, no
 * build step. It follows `GET /api/events` (server-sent events) and counts each live call's paid
 * time down locally between events, correcting for the server's clock (every event carries `now`).
 * Credits go to `POST /api/accounts/<id>/credits`; the browser's cached login (Basic, with the
 * admin token as password) goes with every request of the page.
 */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>prepaid</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #222; }
  h1 { font-size: 1.3rem; margin: 0 0 .3rem; }
  h2 { font-size: 1.05rem; margin: 1.5rem 0 .4rem; }
  table { border-collapse: collapse; min-width: 40rem; }
  th, td { text-align: left; padding: .2rem .7rem .2rem 0; border-bottom: 1px solid #ddd; }
  td.num, th.num { text-align: right; }
  .muted { color: #777; }
  #status.down { color: #b00; }
  .low { color: #b00; font-weight: bold; }
  form { display: inline; }
  input[type=number] { width: 5rem; }
</style>
</head>
<body>
<h1>prepaid</h1>
<div id="status" class="muted">connecting…</div>

<h2>Live calls</h2>
<table id="live">
  <thead><tr><th>call</th><th>account</th><th>target</th><th>phase</th><th>answered</th>
  <th class="num">intervals</th><th class="num">paid time left</th></tr></thead>
  <tbody></tbody>
</table>
<p id="no-live" class="muted">no calls in progress</p>

<h2>Accounts</h2>
<table id="accounts">
  <thead><tr><th>account</th><th>name</th><th class="num">interval</th><th class="num">remaining</th><th>credit</th></tr></thead>
  <tbody></tbody>
</table>
<p id="credit-result" class="muted"></p>

<h2>Recent calls</h2>
<table id="ended">
  <thead><tr><th>ended</th><th>call</th><th>account</th><th>target</th><th>outcome</th><th class="num">intervals</th><th>cause</th></tr></thead>
  <tbody></tbody>
</table>

<script>
'use strict';
const live = new Map();      // uuid -> live call
const accounts = new Map();  // account -> listing
let ended = [];
let clockOffset = 0;         // server time minus browser time, ms

function cell(row, text, cls) {
  const td = row.insertCell();
  td.textContent = text == null ? '' : String(text);
  if (cls) td.className = cls;
  return td;
}
const shortId = (uuid) => uuid.slice(0, 8);
const timeOf = (iso) => (iso ? new Date(iso).toLocaleTimeString() : '');

function paidLeft(call) {
  if (!call.paidUntil) return '';
  const ms = Date.parse(call.paidUntil) - (Date.now() + clockOffset);
  return (Math.max(0, ms) / 1000).toFixed(1) + ' s';
}

function renderLive() {
  const body = document.querySelector('#live tbody');
  body.replaceChildren();
  for (const call of live.values()) {
    const row = body.insertRow();
    row.dataset.call = call.uuid;
    cell(row, shortId(call.uuid)).title = call.uuid;
    cell(row, call.account);
    cell(row, call.target);
    cell(row, call.phase, 'phase');
    cell(row, timeOf(call.answeredAt));
    cell(row, call.intervalsCharged, 'num intervals');
    cell(row, paidLeft(call), 'num countdown');
  }
  document.getElementById('no-live').hidden = live.size > 0;
}

function tick() {
  for (const row of document.querySelectorAll('#live tbody tr')) {
    const call = live.get(row.dataset.call);
    if (call) row.querySelector('.countdown').textContent = paidLeft(call);
  }
}

function renderAccounts() {
  const body = document.querySelector('#accounts tbody');
  body.replaceChildren();
  for (const a of [...accounts.values()].sort((x, y) => x.account.localeCompare(y.account))) {
    const row = body.insertRow();
    row.dataset.account = a.account;
    cell(row, a.account);
    cell(row, a.name);
    cell(row, a.interval_duration + ' s', 'num');
    cell(row, a.remaining, a.remaining <= 1 ? 'num remaining low' : 'num remaining');
    const form = document.createElement('form');
    form.dataset.credit = a.account;
    form.innerHTML = '<input type="number" name="intervals" min="1" step="1" required placeholder="intervals"> <button>credit</button>';
    form.addEventListener('submit', (ev) => { ev.preventDefault(); credit(a.account, form); });
    row.insertCell().append(form);
  }
}

function renderEnded() {
  const body = document.querySelector('#ended tbody');
  body.replaceChildren();
  for (const c of ended) {
    const row = body.insertRow();
    row.dataset.call = c.uuid;
    cell(row, timeOf(c.endedAt));
    cell(row, shortId(c.uuid)).title = c.uuid;
    cell(row, c.account);
    cell(row, c.target);
    cell(row, c.outcome, 'outcome').title = c.detail || '';
    cell(row, c.intervalsCharged, 'num');
    cell(row, c.hangupCause);
  }
}

async function credit(account, form) {
  const intervals = Number(form.elements.intervals.value);
  const result = document.getElementById('credit-result');
  const res = await fetch('api/accounts/' + encodeURIComponent(account) + '/credits', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ intervals, reason: 'dashboard' }),
  });
  const body = await res.json();
  if (!res.ok) { result.textContent = 'credit refused: ' + body.error; return; }
  result.textContent = 'credited ' + intervals + ' intervals to ' + account + '; ' + body.remaining + ' remaining';
  form.reset();
  setRemaining(account, body.remaining);
}

function setRemaining(account, remaining) {
  const a = accounts.get(account);
  if (!a) return;
  a.remaining = remaining;
  const td = document.querySelector('#accounts tr[data-account="' + CSS.escape(account) + '"] .remaining');
  if (td) { td.textContent = remaining; td.className = remaining <= 1 ? 'num remaining low' : 'num remaining'; }
}

function connect() {
  const events = new EventSource('api/events');
  const status = document.getElementById('status');
  const on = (name, fn) => events.addEventListener(name, (ev) => {
    const data = JSON.parse(ev.data);
    clockOffset = Date.parse(data.now) - Date.now();
    fn(data);
  });
  on('snapshot', (data) => {
    live.clear();
    for (const call of data.live) live.set(call.uuid, call);
    accounts.clear();
    for (const a of data.accounts) accounts.set(a.account, a);
    ended = data.ended;
    renderLive(); renderAccounts(); renderEnded();
    status.textContent = 'live';
    status.className = 'muted';
  });
  on('call', (data) => { live.set(data.call.uuid, data.call); renderLive(); });
  on('ended', (data) => {
    live.delete(data.call.uuid);
    ended = [data.call, ...ended.filter((c) => c.uuid !== data.call.uuid)].slice(0, 50);
    renderLive(); renderEnded();
  });
  on('balance', (data) => setRemaining(data.account, data.remaining));
  on('account', (data) => { accounts.set(data.account.account, data.account); renderAccounts(); });
  events.onerror = () => {
    status.textContent = 'disconnected: reconnecting…';
    status.className = 'down';
    // EventSource retries a dropped stream by itself, but not one refused (e.g. 503, database down).
    if (events.readyState === EventSource.CLOSED) setTimeout(connect, 3000);
  };
}

connect();
setInterval(tick, 100);
</script>
</body>
</html>
`;
