// kedirivms command centre: plain JS over the JSON API (docs/centre.md). No build step, no CDN.
"use strict";
const $ = (s) => document.querySelector(s);
const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"})[c]);
const LABEL = {ok: "ok", pile_up: "pile-up", unstaffed: "unstaffed", offline: "camera offline", no_analytics: "no analytics"};
const REFRESH_MS = 1000;
let skew = 0, csrf = null, etags = {}, sparks = {}, counters = [], failures = 0, timer = null, now = Date.now() / 1000;

function ago(t) {
  if (t == null) return "never";
  const s = Math.max(0, now - t);
  return s < 90 ? `${s.toFixed(0)} s ago` : s < 5400 ? `${(s / 60).toFixed(0)} min ago` : `${(s / 3600).toFixed(1)} h ago`;
}
function dur(s) { return s == null ? "" : s < 90 ? `${s.toFixed(0)} s` : s < 5400 ? `${(s / 60).toFixed(0)} min` : `${(s / 3600).toFixed(1)} h`; }
function clock(t) { return t == null ? "" : new Date(t * 1000).toLocaleTimeString(); }

async function api(path, opts = {}) {
  const headers = Object.assign({}, opts.headers || {});
  if (opts.method === "POST") { headers["Content-Type"] = "application/json"; if (csrf) headers["X-CSRF-Token"] = csrf; }
  if (opts.etag && etags[path]) headers["If-None-Match"] = etags[path];
  const r = await fetch(path, Object.assign({}, opts, {headers, credentials: "same-origin"}));
  if (r.status === 401 && path !== "/api/login") { showLogin(); throw new Error("login required"); }
  if (r.status === 304) return null;
  const body = await r.json();
  if (!r.ok) throw Object.assign(new Error(body.error || r.statusText), {status: r.status});
  if (opts.etag) etags[path] = r.headers.get("ETag");
  const t = parseFloat(r.headers.get("X-Server-Time"));
  if (t) skew = t - Date.now() / 1000;
  return body;
}

function sparkline(series) {
  if (!series || !series.length) return "";
  const max = Math.max(1, ...series.filter((v) => v != null));
  const w = 120, h = 24, step = w / Math.max(1, series.length - 1);
  let d = "", pen = false;
  series.forEach((v, i) => {
    if (v == null) { pen = false; return; }
    // a zero-length segment after each move: a lone minute still shows as a dot (round caps)
    d += `${pen ? "L" : "M"}${(i * step).toFixed(1)} ${(h - 1 - (v / max) * (h - 2)).toFixed(1)}${pen ? "" : "l0 0"}`;
    pen = true;
  });
  return `<svg viewBox="0 0 ${w} ${h}" preserveAspectRatio="none" aria-label="queue, last hour"><path d="${d}"/></svg>`;
}

function tile(c) {
  const q = c.queue_length == null ? "–" : c.queue_length.toFixed(1);
  const wait = c.wait_s == null ? "" : ` · wait ${dur(c.wait_s)}`;
  const since = c.alerts.length ? ` since ${clock(c.alerts[0].since)}` : "";
  const img = c.snapshot_time == null ? "" :
    `<img loading="lazy" alt="" src="/api/snapshots/${encodeURIComponent(c.camera)}.jpg?t=${c.snapshot_time}">`;
  return `<div class="tile state-${esc(c.state)}" data-camera="${esc(c.camera)}" data-state="${esc(c.state)}">` +
    `<h4 title="${esc(c.camera)}">${esc(c.camera)}</h4><span class="badge">${esc(LABEL[c.state] || c.state)}${since}</span>` +
    `<div><span class="q">${q}</span> in queue${wait}</div>${sparkline(sparks[c.camera])}` +
    `<div class="meta">last frame ${ago(c.last_frame_time)}${c.error ? " · " + esc(c.error) : ""}</div>` +
    // what the analytics found wrong with the camera's view: its figures are not to be trusted
    (c.view_warnings && c.view_warnings.length ?
      `<div class="meta view" title="the camera's view makes its queue figures unreliable">view: ` +
      `${esc(c.view_warnings.join(", "))}</div>` : "") + `${img}</div>`;
}

function renderCounters() {
  // alerts first (the API sorts them first), then district -> office -> counter
  const alerting = counters.filter((c) => c.alerts.length);
  let html = alerting.length ? `<section class="district"><h2>In alert</h2><div class="grid">${alerting.map(tile).join("")}</div></section>` : "";
  const tree = new Map();
  for (const c of counters.filter((c) => !c.alerts.length)) {
    if (!tree.has(c.district)) tree.set(c.district, new Map());
    const offices = tree.get(c.district);
    if (!offices.has(c.office)) offices.set(c.office, []);
    offices.get(c.office).push(c);
  }
  for (const [district, offices] of tree) {
    html += `<section class="district"><h2>${esc(district)}</h2>`;
    for (const [office, list] of offices) html += `<h3>${esc(office)}</h3><div class="grid">${list.map(tile).join("")}</div>`;
    html += "</section>";
  }
  $("#counters").innerHTML = html;
}

function renderAlerts(alerts) {
  $("#alert-count").textContent = `(${alerts.length})`;
  $("#alerts tbody").innerHTML = alerts.map((a) =>
    `<tr class="${esc(a.kind)}" data-camera="${esc(a.camera)}" data-kind="${esc(a.kind)}"><td>${esc(a.office)}</td><td>${esc(a.camera)}</td>` +
    `<td>${esc(a.kind === "pile_up" ? "pile-up" : "unstaffed")}</td><td>${clock(a.since)}</td><td>${dur(now - a.since)}</td>` +
    `<td class="acked">${a.ack ? esc(`${a.ack.name}: ${a.ack.note}`) : ""}</td>` +
    `<td><button type="button" class="ack-btn">Acknowledge</button> ` +
    `<button type="button" class="ev-btn" data-since="${a.since}">Recording</button></td></tr>`).join("");
}

async function refresh() {
  try {
    const [c, a] = await Promise.all([api("/api/counters", {etag: true}), api("/api/alerts", {etag: true})]);
    if (failures) csrf = (await api("/api/session")).csrf;  // a restarted server has a new token
    now = Date.now() / 1000 + skew;
    if (c) { counters = c.counters; renderCounters(); }
    if (a) renderAlerts(a.alerts);
    failures = 0;
    $("#link").textContent = "live"; $("#link").className = "link ok";
  } catch (e) {
    if (e.message === "login required") return;
    failures += 1; etags = {};
    $("#link").textContent = "reconnecting…"; $("#link").className = "link down";
  }
  timer = setTimeout(refresh, failures ? Math.min(5000, 500 * failures) : REFRESH_MS);
}

async function refreshSparks() {
  try { const s = await api("/api/sparklines", {etag: true}); if (s) { sparks = s.series; renderCounters(); } } catch (e) { /* next time */ }
  setTimeout(refreshSparks, 30000);
}

// the header: how many counters and workers, and any events a worker lost (its publish queue overflowed while NATS
// was away: those never reach the centre, so the page must say so). Slow-moving: every 10 s is enough.
async function refreshFleet() {
  try {
    const f = await api("/api/fleet", {etag: true});
    if (f) {
      const lost = f.workers.filter((w) => w.dropped > 0);
      $("#totals").innerHTML = `${f.counters} counters · ${f.workers.length} workers` + (lost.length ?
        ` · <span class="error" id="dropped">events lost: ${lost.map((w) => `${esc(w.worker)} dropped ${w.dropped}`).join(", ")}` +
        " (publish queue full while NATS was away)</span>" : "");
    }
  } catch (e) { /* shown by the live link state */ }
  setTimeout(refreshFleet, 10000);
}

async function loadHistory(ev) {
  if (ev) ev.preventDefault();
  const f = new FormData($("#history-filter"));
  const q = new URLSearchParams();
  for (const k of ["day", "site"]) if (f.get(k)) q.set(k, f.get(k));
  $("#csv").href = "/api/export.csv?" + q;
  try {
    const h = await api("/api/history?" + q);
    $("#history tbody").innerHTML = h.events.map((e) =>
      `<tr><td>${new Date(e.time * 1000).toLocaleString()}</td><td>${esc(e.site)}</td><td>${esc(e.camera)}</td>` +
      `<td>${esc(e.kind)}</td><td>${esc(e.kind === "alert_ack" ? `${e.data.alert} by ${e.data.name}: ${e.data.note}` : JSON.stringify(e.data))}</td>` +
      `<td>${ALERT_KINDS.has(e.kind) ? `<button type="button" class="ev-btn" data-camera="${esc(e.camera)}" data-kind="${esc(e.kind)}" data-since="${e.time}">Recording</button>` : ""}</td></tr>`).join("");
  } catch (e) { /* shown by the live link state */ }
}

const ALERT_KINDS = new Set(["pile_up", "counter_unstaffed"]);

// the recording around an alert: cut where it was recorded, fetched by the centre, played here (docs/centre.md)
async function openEvidence(camera, kind, since) {
  const box = $("#evidence"), v = $("#ev-video");
  box.hidden = false; box.dataset.state = "loading"; v.hidden = true; v.pause(); v.removeAttribute("src");
  $("#ev-what").textContent = `${kind === "pile_up" ? "pile-up" : "unstaffed"} on ${camera} at ${clock(since)}`;
  $("#ev-info").textContent = "fetching the recording…"; $("#ev-now").textContent = ""; $("#ev-gaps").innerHTML = "";
  box.scrollIntoView({block: "nearest"});
  try {
    const e = await api("/api/evidence?" + new URLSearchParams({camera, kind, since}));
    $("#ev-gaps").innerHTML = e.gaps.map((g) => `<li>no recording ${clock(g.start)}–${clock(g.end)}: ${esc(g.reason)}</li>`).join("");
    if (!e.url) { $("#ev-info").textContent = "nothing was recorded around this alert"; box.dataset.state = "gap"; return; }
    // media time <-> wall time: the file skips the gaps inside it (timeline: where each piece starts)
    const pieces = e.timeline.length ? e.timeline : [[0, e.start]];
    const wallAt = (m) => { const p = pieces.filter((x) => x[0] <= m).pop() || pieces[0]; return p[1] + m - p[0]; };
    const mediaAt = (w) => { const p = pieces.filter((x) => x[1] <= w).pop() || pieces[0]; return Math.max(0, p[0] + w - p[1]); };
    const at = mediaAt(since);
    box.dataset.alertOffset = at;
    $("#ev-info").textContent = `${clock(e.start)}–${clock(e.end)}, ${e.codec || "?"} ${e.width || "?"}×${e.height || "?"} from ${e.worker}; ` +
      `the alert starts ${at.toFixed(0)} s in.`;
    v.ontimeupdate = () => { $("#ev-now").textContent = `showing ${clock(wallAt(v.currentTime))}`; };
    v.onerror = () => { $("#ev-info").textContent = `this browser cannot play this recording (${e.codec}); docs/centre.md says which play where`; box.dataset.state = "error"; };
    v.addEventListener("loadedmetadata", () => { v.currentTime = Math.max(0, at - 3); v.play().catch(() => {}); }, {once: true});
    v.hidden = false; v.src = e.url; box.dataset.state = "ready";
  } catch (err) { $("#ev-info").textContent = `cannot fetch the recording: ${err.message}`; box.dataset.state = "error"; }
}

function showLogin() {
  clearTimeout(timer);
  $("#main").hidden = true; $("#logout").hidden = true; $("#login").hidden = false;
}

function start() {
  $("#login").hidden = true; $("#main").hidden = false;
  refresh(); refreshSparks(); refreshFleet(); loadHistory();
}

document.addEventListener("DOMContentLoaded", async () => {
  document.addEventListener("click", (ev) => {
    const b = ev.target.closest(".ev-btn"), row = ev.target.closest("tr");
    if (!b || !row) return;
    openEvidence(b.dataset.camera || row.dataset.camera, b.dataset.kind || row.dataset.kind, parseFloat(b.dataset.since));
  });
  $("#ev-close").addEventListener("click", () => { const v = $("#ev-video"); v.pause(); v.removeAttribute("src"); $("#evidence").hidden = true; });
  $("#alerts").addEventListener("click", (ev) => {
    const row = ev.target.closest("tr");
    if (!ev.target.classList.contains("ack-btn") || !row) return;
    const form = $("#ack");
    form.dataset.camera = row.dataset.camera; form.dataset.kind = row.dataset.kind;
    $("#ack-what").textContent = `${row.dataset.kind} on ${row.dataset.camera}`;
    $("#ack-error").textContent = ""; form.hidden = false; form.elements.name.focus();
  });
  $("#ack-cancel").addEventListener("click", () => { $("#ack").hidden = true; });
  $("#ack").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const form = ev.target;
    try {
      await api("/api/alerts/ack", {method: "POST", body: JSON.stringify({camera: form.dataset.camera, kind: form.dataset.kind,
        name: form.elements.name.value, note: form.elements.note.value})});
      form.hidden = true; form.elements.note.value = ""; etags = {};
      loadHistory();
    } catch (e) { $("#ack-error").textContent = e.message; }
  });
  $("#history-filter").addEventListener("submit", loadHistory);
  $("#login").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = ev.target.elements;
    try {
      const s = await api("/api/login", {method: "POST", body: JSON.stringify({user: f.user.value, password: f.password.value})});
      csrf = s.csrf; f.password.value = ""; $("#logout").hidden = false; start();
    } catch (e) { $("#login-error").textContent = e.message; }
  });
  $("#logout").addEventListener("click", async () => { try { await api("/api/logout", {method: "POST"}); } finally { csrf = null; showLogin(); } });
  for (;;) {
    try {
      const s = await api("/api/session");
      csrf = s.csrf;
      if (s.login_required && !s.user) showLogin(); else { $("#logout").hidden = !s.login_required; start(); }
      return;
    } catch (e) {
      $("#link").textContent = "reconnecting…"; $("#link").className = "link down";
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
});
