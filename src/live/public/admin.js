// The operator's view: every product's stock, available, held and sold, read every second from
// GET /api/admin/sales, and an SVG chart of holds and sales per second over the last five minutes.
// The admin token lives in this closure only (never in storage or the URL).
'use strict';

(function () {
  const $ = (id) => document.getElementById(id);
  const WINDOW_MS = 5 * 60 * 1000;
  const SVG = 'http://www.w3.org/2000/svg';
  let token = null;
  let timer = null;
  /** Totals over all products at each read: { t, holds, sold }. */
  const samples = [];

  function cell(row, text) {
    const td = document.createElement('td');
    td.textContent = String(text);
    row.appendChild(td);
  }

  function showRows(data) {
    const body = $('rows');
    body.textContent = '';
    for (const p of data) {
      const tr = document.createElement('tr');
      tr.dataset.productId = String(p.product_id);
      for (const v of [p.product_id, p.name, p.stock, p.available, p.held, p.sold]) cell(tr, v);
      body.appendChild(tr);
    }
  }

  /** Per-second rates between consecutive samples, as [t, holds/s, sold/s]. */
  function rates() {
    const out = [];
    for (let i = 1; i < samples.length; i++) {
      const dt = (samples[i].t - samples[i - 1].t) / 1000;
      if (dt <= 0) continue;
      out.push([samples[i].t, Math.max(0, (samples[i].holds - samples[i - 1].holds) / dt), Math.max(0, (samples[i].sold - samples[i - 1].sold) / dt)]);
    }
    return out;
  }

  function draw() {
    const svg = $('chart');
    svg.textContent = '';
    const points = rates();
    const w = 640,
      h = 180,
      pad = 24;
    const now = Date.now();
    const max = Math.max(1, ...points.map((p) => Math.max(p[1], p[2])));
    // The last five minutes once there are that many; until then at least one minute, from the first read.
    const span = Math.min(WINDOW_MS, Math.max(60_000, samples.length > 0 ? now - samples[0].t : 0));
    const x = (t) => pad + ((t - (now - span)) / span) * (w - 2 * pad);
    const y = (v) => h - pad - (v / max) * (h - 2 * pad);
    const axis = document.createElementNS(SVG, 'path');
    axis.setAttribute('d', `M${pad},${pad} V${h - pad} H${w - pad}`);
    axis.setAttribute('stroke', '#999');
    axis.setAttribute('fill', 'none');
    svg.appendChild(axis);
    const label = document.createElementNS(SVG, 'text');
    label.setAttribute('x', String(pad + 4));
    label.setAttribute('y', String(pad - 6));
    label.setAttribute('font-size', '11');
    label.textContent = `${max.toFixed(1)} /s`;
    svg.appendChild(label);
    for (const [index, color, id] of [
      [1, '#1a73e8', 'holds-line'],
      [2, '#188038', 'sales-line'],
    ]) {
      const line = document.createElementNS(SVG, 'polyline');
      line.setAttribute('id', id);
      line.setAttribute('fill', 'none');
      line.setAttribute('stroke', color);
      line.setAttribute('stroke-width', '2');
      line.setAttribute('points', points.map((p) => `${x(p[0]).toFixed(1)},${y(p[index]).toFixed(1)}`).join(' '));
      svg.appendChild(line);
    }
    const peak = points.reduce((m, p) => Math.max(m, p[1]), 0);
    $('window').textContent = `last 5 minutes, peak ${peak.toFixed(1)} holds/s`;
    svg.dataset.peakHolds = String(peak);
  }

  async function read() {
    const res = await fetch('/api/admin/sales', { headers: { authorization: `Bearer ${token}` } });
    const body = await res.json().catch(() => null);
    if (res.status !== 200) {
      $('message').textContent =
        res.status === 401
          ? 'That token is not right.'
          : res.status === 403
            ? 'Admin routes are off (ADMIN_TOKEN is not set).'
            : (body && body.message) || `HTTP ${res.status}`;
      if (res.status === 401 || res.status === 403) stop();
      return;
    }
    $('message').textContent = '';
    $('view').hidden = false;
    showRows(body.data);
    $('at').textContent = body.at;
    samples.push({ t: Date.parse(body.at), holds: body.data.reduce((s, p) => s + p.holds, 0), sold: body.data.reduce((s, p) => s + p.sold, 0) });
    while (samples.length > 2 && samples[0].t < Date.now() - WINDOW_MS) samples.shift();
    draw();
  }

  function stop() {
    clearInterval(timer);
    timer = null;
  }

  $('login').addEventListener('submit', (e) => {
    e.preventDefault();
    token = $('token').value;
    $('token').value = '';
    samples.length = 0;
    stop();
    void read();
    timer = setInterval(() => void read(), 1000);
  });
})();
