// haul's status page: polls GET /health and GET /jobs once a second and updates one card per
// job in place, so a button under the pointer never moves or gets replaced mid-click.
"use strict";

const pollMs = 1000;
const tokenKey = "haul-token";
const cards = new Map(); // job id -> {el, failedSeen}
let timer = null;

function headers() {
  const token = sessionStorage.getItem(tokenKey);
  return token ? { Authorization: "Bearer " + token } : {};
}

class Unauthorized extends Error {}

async function api(method, path) {
  const init = { method, headers: headers(), cache: "no-store" };
  if (method === "POST") init.body = ""; // sent as Content-Length: 0, which the server wants
  const res = await fetch(path, init);
  if (res.status === 401) throw new Unauthorized();
  let body = null;
  try {
    body = await res.json();
  } catch (_) {
    body = null;
  }
  return { status: res.status, body };
}

function bytes(n) {
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let u = 0;
  while (n >= 1024 && u < units.length - 1) {
    n /= 1024;
    ++u;
  }
  return u === 0 ? `${n.toFixed(0)} B` : `${n.toFixed(1)} ${units[u]}`;
}

function duration(ms) {
  if (ms < 0) return "";
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor(s / 60) % 60).padStart(2, "0")}m`;
}

function text(el, selector, value) {
  const node = el.querySelector(selector);
  if (node.textContent !== value) node.textContent = value;
}

const finished = new Set(["succeeded", "completed_with_failures", "failed", "cancelled"]);

function render(job) {
  let card = cards.get(job.id);
  if (!card) {
    const el = document.getElementById("job-template").content.firstElementChild.cloneNode(true);
    el.dataset.job = job.id;
    el.dataset.name = job.name;
    for (const button of el.querySelectorAll("button[data-action]"))
      button.addEventListener("click", () => act(job.id, button));
    el.querySelector("details").addEventListener("toggle", () => refreshErrors(job.id).catch(() => {}));
    card = { el, failedSeen: -1 };
    cards.set(job.id, card);
  }
  const el = card.el;
  const t = job.tasks;
  const ended = t.succeeded + t.failed;
  const pct = t.total === 0 ? 100 : (100 * ended) / t.total;
  el.className = `job ${job.state}`;
  el.dataset.state = job.state;
  el.dataset.done = String(ended);
  text(el, ".name", job.name);
  text(el, ".kind", job.kind);
  text(el, ".id", job.id);
  const state = el.querySelector(".state");
  state.className = `state badge ${job.state}`;
  text(el, ".state", job.state.replaceAll("_", " "));

  const bar = el.querySelector(".bar");
  const live = !finished.has(job.state);
  // A running export's bar follows its rows or tables (refreshExport), not its one task.
  const exportShare = job.kind === "export" && live ? card.exportShare : undefined;
  bar.setAttribute("aria-valuenow", (exportShare !== undefined ? 100 * exportShare : pct).toFixed(1));
  bar.querySelector(".done").style.width =
    exportShare !== undefined ? `${100 * exportShare}%`
    : t.total ? `${(100 * t.succeeded) / t.total}%` : "100%";
  bar.querySelector(".failed").style.width = t.total ? `${(100 * t.failed) / t.total}%` : "0%";

  text(el, ".progress-text", `${ended.toLocaleString()} / ${t.total.toLocaleString()} (${pct.toFixed(1)}%)`);
  text(el, ".bytes", job.bytes ? bytes(job.bytes) : "");
  let rate = "";
  if (live && job.state !== "paused" && (job.tasks_per_second > 0 || job.bytes_per_second > 0)) {
    rate = `${job.tasks_per_second.toFixed(job.tasks_per_second < 10 ? 1 : 0)} tasks/s`;
    if (job.bytes_per_second > 0) rate += ` · ${bytes(job.bytes_per_second)}/s`;
  }
  text(el, ".rate", rate);
  text(el, ".eta", live && job.eta_ms >= 0 ? `ETA ${duration(job.eta_ms)}` : "");
  text(el, ".retries", job.retries ? `${job.retries.toLocaleString()} retries` : "");
  text(el, ".failures", t.failed ? `${t.failed.toLocaleString()} failed` : "");
  let inflight = "";
  if (t.running) {
    inflight = `${t.running} in flight`;
    if (job.concurrency) inflight += ` (window ${job.concurrency} of ${job.parallelism})`;
  }
  text(el, ".inflight", inflight);
  // An HTTP error can carry a whole HTML page: two lines here, all of it on hover.
  text(el, ".last-error", job.last_error ? `last error: ${job.last_error}` : "");
  el.querySelector(".last-error").title = job.last_error;
  if (job.kind === "export" && live) refreshExport(job.id).catch(() => {}); // next poll retries
  else text(el, ".detail", "");

  const show = { pause: live && job.state !== "paused", resume: job.state === "paused",
                 cancel: live, retry: t.failed > 0 };
  for (const button of el.querySelectorAll("button[data-action]"))
    button.hidden = !show[button.dataset.action];

  const details = el.querySelector("details");
  if (t.failed > 0) details.dataset.count = String(t.failed);
  else delete details.dataset.count;
  if (!details.open) text(el, "summary", `Failed tasks (${t.failed.toLocaleString()})`);
  if (t.failed !== card.failedSeen) {
    card.failedSeen = t.failed;
    refreshErrors(job.id).catch(() => {});
  }
  return el;
}

// An export is one long task: its progress inside that task comes from GET /exports/{id},
// which reads the task's checkpoint (advanced once per part written).
async function refreshExport(id) {
  const { status, body } = await api("GET", `/exports/${encodeURIComponent(id)}`);
  const card = cards.get(id);
  if (status !== 200 || !body || !card) return;
  const el = card.el;
  const parts = [];
  if (body.tables.total !== null) parts.push(`tables ${body.tables.done}/${body.tables.total}`);
  parts.push(`${body.rows.toLocaleString()} rows`);
  if (body.bytes) parts.push(bytes(body.bytes));
  if (body.bytes_per_second > 0) parts.push(`${bytes(body.bytes_per_second)}/s`);
  if (body.eta_ms >= 0) parts.push(`ETA ${duration(body.eta_ms)}`);
  text(el, ".detail", parts.join(" · "));
  // By rows against the export's estimate of them, else by whole tables.
  card.exportShare = body.progress;
  el.querySelector(".bar .done").style.width = `${100 * card.exportShare}%`;
  el.querySelector(".bar").setAttribute("aria-valuenow", (100 * card.exportShare).toFixed(1));
}

// The dead letter is fetched only while its list is open: when opened, and when the count of
// failed tasks changes.
async function refreshErrors(id) {
  const card = cards.get(id);
  if (!card) return;
  const details = card.el.querySelector("details");
  if (!details.open) return;
  const { status, body } = await api("GET", `/jobs/${encodeURIComponent(id)}`);
  if (status !== 200 || !body) return;
  const rows = body.failed_tasks.map((f) => {
    const tr = document.createElement("tr");
    for (const v of [f.label, String(f.attempts), f.error]) {
      const td = document.createElement("td");
      td.textContent = v;
      tr.appendChild(td);
    }
    return tr;
  });
  details.querySelector("summary").textContent =
    `Failed tasks (${body.tasks.failed.toLocaleString()}${body.tasks.failed > rows.length ? `, first ${rows.length} shown` : ""})`;
  details.querySelector("tbody").replaceChildren(...rows);
}

async function act(id, button) {
  const action = button.dataset.action;
  const card = cards.get(id);
  if (action === "cancel" && !confirm(`Cancel ${card.el.dataset.name}? Its unfinished tasks will not run.`))
    return;
  const problem = card.el.querySelector(".action-error");
  button.disabled = true;
  try {
    const { status, body } = await api("POST", `/jobs/${encodeURIComponent(id)}/${action}`);
    problem.textContent = status === 200 ? "" : `${action}: ${(body && body.error) || "HTTP " + status}`;
  } catch (e) {
    if (e instanceof Unauthorized) return askToken();
    problem.textContent = `${action}: ${e.message}`;
  } finally {
    button.disabled = false;
  }
  poll();
}

function showHealth(status, body) {
  const badge = document.getElementById("health");
  const state = body && body.status ? body.status : status ? `HTTP ${status}` : "down";
  badge.textContent = state;
  badge.className = `badge ${state}`;
  if (body && body.recovery) {
    const r = body.recovery;
    badge.title = `recovery pass: generation ${r.generation}, ${r.jobs_resumable} jobs to resume, ` +
      `${r.tasks_interrupted} tasks were in flight, ${r.duration_ms} ms; loop lag ${body.loop_lag_ms} ms`;
    document.getElementById("store").textContent = body.store;
  }
}

function askToken() {
  document.getElementById("login").hidden = false;
  document.getElementById("jobs").replaceChildren();
  cards.clear();
  showHealth(401, { status: "token needed" });
}

async function poll() {
  clearTimeout(timer);
  const problem = document.getElementById("problem");
  try {
    const health = await api("GET", "/health");
    showHealth(health.status, health.body);
    const { status, body } = await api("GET", "/jobs");
    if (status !== 200 || !body) throw new Error((body && body.error) || `GET /jobs: HTTP ${status}`);
    document.getElementById("login").hidden = true;
    problem.hidden = true;
    const seen = new Set();
    const list = document.getElementById("jobs");
    body.jobs.forEach((job, i) => {
      seen.add(job.id);
      const el = render(job);
      if (list.children[i] !== el) list.insertBefore(el, list.children[i] || null);
    });
    for (const [id, card] of cards) {
      if (seen.has(id)) continue;
      card.el.remove();
      cards.delete(id);
    }
    document.getElementById("empty").hidden = body.jobs.length !== 0;
    document.getElementById("updated").textContent = `updated ${new Date().toLocaleTimeString()}`;
  } catch (e) {
    if (e instanceof Unauthorized) {
      askToken();
      return; // until a token is given
    }
    showHealth(0, null);
    problem.textContent = `haul serve does not answer: ${e.message}. Retrying…`;
    problem.hidden = false;
  }
  timer = setTimeout(poll, pollMs);
}

document.getElementById("login").addEventListener("submit", (ev) => {
  ev.preventDefault();
  sessionStorage.setItem(tokenKey, document.getElementById("token").value);
  document.getElementById("token").value = "";
  poll();
});

poll();
