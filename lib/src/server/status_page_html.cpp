// The status page's HTML, CSS and script (see status_page.hpp): one
// document with nothing to fetch but its own data, so it works offline and
// under a strict Content-Security-Policy of `default-src 'self' 'unsafe-inline'`.
#include "server/status_page.hpp"

namespace coronet::detail {
namespace {

constexpr std::string_view page = R"html(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>coronet status</title>
<link rel="icon" href="data:,">
<style>
:root { --bg:#f6f7f9; --card:#fff; --ink:#1d2330; --dim:#667085; --line:#e3e6eb; --accent:#2563eb; --bad:#c2410c; --ok:#15803d; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background:var(--bg); color:var(--ink); }
header { display:flex; align-items:baseline; gap:1em; padding:14px 24px; background:var(--ink); color:#fff; }
header h1 { margin:0; font-size:18px; font-weight:600; }
header .dim { color:#aab2c0; }
#mode { margin-left:auto; font-size:12px; padding:2px 8px; border-radius:10px; background:#475467; }
#mode.live { background:var(--ok); } #mode.polling { background:#a16207; } #mode.offline { background:var(--bad); }
main { max-width:1100px; margin:0 auto; padding:16px 24px 32px; }
.cards { display:grid; grid-template-columns:repeat(auto-fit, minmax(150px, 1fr)); gap:12px; }
.card, section { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:12px 14px; }
.card .label { color:var(--dim); font-size:12px; text-transform:uppercase; letter-spacing:.04em; }
.card .value { font-size:22px; font-weight:600; font-variant-numeric:tabular-nums; margin-top:2px; }
section { margin-top:12px; }
section h2 { margin:0 0 8px; font-size:14px; font-weight:600; }
.grid2 { display:grid; grid-template-columns:1fr 1fr; gap:12px; }
.grid2 section { margin-top:12px; }
@media (max-width:760px) { .grid2 { grid-template-columns:1fr; } }
canvas { width:100%; height:160px; display:block; }
table { width:100%; border-collapse:collapse; font-variant-numeric:tabular-nums; }
th, td { text-align:right; padding:4px 8px; border-bottom:1px solid var(--line); white-space:nowrap; }
th:first-child, td:first-child { text-align:left; }
th { color:var(--dim); font-weight:500; font-size:12px; }
td.name { font-family:ui-monospace, SFMono-Regular, Menlo, monospace; overflow:hidden; text-overflow:ellipsis; max-width:260px; }
td.err { color:var(--bad); }
.note { color:var(--dim); font-size:12px; margin-top:6px; }
.axis { display:flex; justify-content:space-between; color:var(--dim); font-size:11px; margin-top:2px; }
</style>
</head>
<body data-updates="0">
<header><h1>coronet</h1><span class="dim" id="version"></span><span class="dim">up <span id="uptime">&ndash;</span></span><span id="mode">connecting</span></header>
<main>
<div class="cards">
  <div class="card"><div class="label">Requests/s</div><div class="value" id="rps">&ndash;</div></div>
  <div class="card"><div class="label">Requests</div><div class="value" id="requests">&ndash;</div></div>
  <div class="card"><div class="label">Errors</div><div class="value" id="errors">&ndash;</div></div>
  <div class="card"><div class="label">Connections now</div><div class="value" id="conn-now">&ndash;</div></div>
  <div class="card"><div class="label">Connections total</div><div class="value" id="conn-total">&ndash;</div></div>
</div>
<section><h2>Requests per second, last minute <span class="note" id="rps-max"></span></h2><canvas id="chart" width="1000" height="160"></canvas>
<div class="axis"><span>60 s ago</span><span>now</span></div></section>
<section><h2>Commands</h2>
<table><thead><tr><th>command</th><th>calls</th><th>errors</th><th>p50</th><th>p99</th></tr></thead><tbody id="commands"></tbody></table>
<div class="note" id="commands-note"></div></section>
<div class="grid2">
<section><h2>Connections by protocol</h2>
<table><thead><tr><th>protocol</th><th>now</th><th>total</th></tr></thead><tbody id="protocols"></tbody></table>
<div class="note" id="conn-note"></div>
<h2 style="margin-top:14px">Listeners</h2>
<table><thead><tr><th>address</th><th>protocol</th></tr></thead><tbody id="listeners"></tbody></table></section>
<section><h2>Limits</h2>
<table><thead><tr><th>limit</th><th>value</th></tr></thead><tbody id="limits"></tbody></table></section>
</div>
</main>
<script>
'use strict';
(function () {
  const $ = (id) => document.getElementById(id);
  const int = (n) => Number(n).toLocaleString('en-US');
  const two = (n) => String(n).padStart(2, '0');

  function duration(ms) {
    const s = Math.floor(ms / 1000), d = Math.floor(s / 86400);
    const hms = two(Math.floor(s / 3600) % 24) + ':' + two(Math.floor(s / 60) % 60) + ':' + two(s % 60);
    return d > 0 ? d + 'd ' + hms : hms;
  }
  function latency(ns) {
    if (ns < 1000) return ns + ' ns';
    if (ns < 1e6) return (ns / 1e3).toFixed(ns < 1e4 ? 2 : 1) + ' \u00b5s';
    if (ns < 1e9) return (ns / 1e6).toFixed(ns < 1e7 ? 2 : 1) + ' ms';
    return (ns / 1e9).toFixed(2) + ' s';
  }
  function bytes(n) {
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let i = 0;
    while (n >= 1024 && n % 1024 === 0 && i + 1 < units.length) { n /= 1024; ++i; }
    return int(n) + ' ' + units[i];
  }
  function limitValue(key, v) {
    if (key.endsWith('_ms')) return v === 0 ? 'off' : (v % 1000 === 0 ? int(v / 1000) + ' s' : int(v) + ' ms');
    if (key.endsWith('_bytes')) return bytes(v);
    return int(v);
  }
  function limitName(key) { return key.replace(/_ms$/, '').replace(/_/g, ' '); }

  function row(tbody, cells) {
    const tr = document.createElement('tr');
    for (const c of cells) {
      const td = document.createElement('td');
      td.textContent = c.text;
      if (c.cls) td.className = c.cls;
      tr.appendChild(td);
    }
    tbody.appendChild(tr);
  }
  function fill(id, rows) {
    const tbody = $(id);
    tbody.replaceChildren();
    for (const r of rows) row(tbody, r);
  }

  function chart(values) {
    const canvas = $('chart'), ctx = canvas.getContext('2d');
    const ratio = window.devicePixelRatio || 1;
    const w = canvas.clientWidth || 600, h = canvas.clientHeight || 160;
    if (canvas.width !== Math.round(w * ratio) || canvas.height !== Math.round(h * ratio)) {
      canvas.width = Math.round(w * ratio);
      canvas.height = Math.round(h * ratio);
    }
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, w, h);
    const slots = 60, pad = 4;
    let top = 1;
    for (const v of values) top = Math.max(top, v);
    const step = Math.pow(10, Math.floor(Math.log10(top)));
    top = Math.ceil(top / step) * step;
    ctx.strokeStyle = '#e3e6eb';
    ctx.lineWidth = 1;
    for (let i = 0; i <= 4; ++i) {
      const y = Math.round(pad + (h - 2 * pad) * i / 4) + 0.5;
      ctx.beginPath(); ctx.moveTo(0, y); ctx.lineTo(w, y); ctx.stroke();
    }
    const x = (i) => (w * (slots - values.length + i)) / (slots - 1);
    const y = (v) => pad + (h - 2 * pad) * (1 - v / top);
    if (values.length > 0) {
      ctx.beginPath();
      ctx.moveTo(x(0), y(0));
      values.forEach((v, i) => ctx.lineTo(x(i), y(v)));
      ctx.lineTo(x(values.length - 1), y(0));
      ctx.closePath();
      ctx.fillStyle = 'rgba(37, 99, 235, 0.15)';
      ctx.fill();
      ctx.beginPath();
      values.forEach((v, i) => (i === 0 ? ctx.moveTo(x(i), y(v)) : ctx.lineTo(x(i), y(v))));
      ctx.strokeStyle = '#2563eb';
      ctx.lineWidth = 2;
      ctx.stroke();
    }
    $('rps-max').textContent = '(scale 0\u2013' + int(top) + '/s)';
  }

  let updates = 0;
  function render(d) {
    $('version').textContent = 'v' + d.version + ' \u00b7 ' + d.threads + (d.threads === 1 ? ' thread' : ' threads');
    $('uptime').textContent = duration(d.uptime_ms);
    const perSecond = d.requests.per_second;
    $('rps').textContent = perSecond.length ? int(perSecond[perSecond.length - 1]) : '\u2013';
    $('requests').textContent = int(d.requests.total);
    $('errors').textContent = int(d.requests.errors);
    $('conn-now').textContent = int(d.connections.now);
    $('conn-total').textContent = int(d.connections.total);
    chart(perSecond);
    fill('protocols', d.connections.protocols.map((p) => [{ text: p.protocol }, { text: int(p.now) }, { text: int(p.total) }]));
    fill('listeners', d.listeners.map((l) => [{ text: (l.host.includes(':') ? '[' + l.host + ']' : l.host) + ':' + l.port, cls: 'name' }, { text: l.protocol }]));
    $('conn-note').textContent = d.connections.rejected > 0
      ? int(d.connections.rejected) + ' refused (max connections)' : '';
    const called = d.commands.filter((c) => c.calls > 0).sort((a, b) => b.calls - a.calls || (a.name < b.name ? -1 : 1));
    fill('commands', called.map((c) => [{ text: c.name, cls: 'name' }, { text: int(c.calls) },
      { text: int(c.errors), cls: c.errors > 0 ? 'err' : '' }, { text: latency(c.p50_ns) }, { text: latency(c.p99_ns) }]));
    const idle = d.commands.length - called.length;
    let note = idle > 0 ? int(idle) + ' more registered command' + (idle === 1 ? '' : 's') + ' not called yet. ' : '';
    if (d.requests.unknown_commands > 0) note += int(d.requests.unknown_commands) + ' requests for unknown commands.';
    $('commands-note').textContent = note;
    fill('limits', Object.keys(d.limits).map((k) => [{ text: limitName(k) }, { text: limitValue(k, d.limits[k]) }]));
    document.body.dataset.updates = String(++updates);
  }

  function mode(m) {
    $('mode').textContent = m;
    $('mode').className = m;
  }

  let source = null, pollTimer = 0, lastEvent = 0;
  function poll() {
    fetch('stats.json', { cache: 'no-store' })
      .then((r) => (r.ok ? r.json() : Promise.reject(new Error('HTTP ' + r.status))))
      .then((d) => { mode('polling'); render(d); })
      .catch(() => mode('offline'));
  }
  function startPolling() {
    if (pollTimer) return;
    if (source) { source.close(); source = null; }
    poll();
    pollTimer = setInterval(poll, 1000);
  }
  function start() {
    if (!window.EventSource) { startPolling(); return; }
    source = new EventSource('events');
    source.onmessage = (e) => {
      lastEvent = Date.now();
      mode('live');
      render(JSON.parse(e.data));
    };
    source.onerror = () => {
      if (source && source.readyState === EventSource.CLOSED) startPolling();
      else mode('offline');
    };
    // An event stream that stays silent (a proxy buffering it): poll instead.
    const started = Date.now();
    const watchdog = setInterval(() => {
      if (pollTimer) { clearInterval(watchdog); return; }
      if (Date.now() - (lastEvent || started) > 5000) { clearInterval(watchdog); startPolling(); }
    }, 1000);
  }
  start();
})();
</script>
</body>
</html>
)html";

}  // namespace

std::string_view status_page_html() noexcept { return page; }

}  // namespace coronet::detail
