// End-to-end test of haul serve's status page, in Debian's Chromium driven by playwright-core:
// a real haul serve process with real jobs, the page loaded over HTTP, buttons clicked.
//
//   HAUL=build/haul node tests/e2e/status_page.test.mjs
//
// HAUL_CHROMIUM overrides /usr/bin/chromium; HAUL_SCREENSHOT=FILE.png saves the page.
// Without Chromium or playwright-core it exits 77, which ctest reports as skipped; in CI
// (CI=true), where scripts/test.sh installs both, their absence is a failure instead.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

const chromiumPath = process.env.HAUL_CHROMIUM || "/usr/bin/chromium";
let chromium;
try {
  ({ chromium } = await import("playwright-core"));
} catch {
  // reported below
}
if (!chromium || !existsSync(chromiumPath)) {
  const missing = !chromium ? "playwright-core (npm ci in tests/e2e)" : `${chromiumPath} (apt install chromium)`;
  console.log(`status page test ${process.env.CI === "true" ? "cannot run" : "skipped"}: ${missing} is missing`);
  process.exit(process.env.CI === "true" ? 1 : 77);
}

const haul = process.env.HAUL;
const token = "e2e-" + Math.random().toString(36).slice(2);
let dir, server, base, browser, page;

function startServe(jobFile) {
  return new Promise((resolve, reject) => {
    const child = spawn(haul, ["serve", jobFile, "--listen", "127.0.0.1:0"], {
      env: { ...process.env, HAUL_E2E_TOKEN: token },
      stdio: ["ignore", "inherit", "pipe"],
    });
    let log = "";
    const timeout = setTimeout(() => reject(new Error("haul serve did not listen in 30 s:\n" + log)), 30000);
    child.stderr.on("data", (chunk) => {
      log += chunk;
      const m = /listening on (http:\/\/[^\s]+)\n/.exec(log);
      if (m && !base) {
        clearTimeout(timeout);
        resolve({ child, url: m[1] });
      }
    });
    child.on("exit", (code) => reject(new Error(`haul serve exited with ${code}:\n${log}`)));
  });
}

async function api(method, p) {
  const res = await fetch(base + p, {
    method,
    headers: { Authorization: "Bearer " + token },
    body: method === "POST" ? "" : undefined,
  });
  return { status: res.status, body: await res.json() };
}

/// Resolves once `check()` (polled from here, every 100 ms) is true; waitForFunction wants a
/// synchronous predicate in the page, and these ask the API.
async function until(what, check, timeoutMs = 15000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function jobNamed(name) {
  return (await api("GET", "/jobs")).body.jobs.find((j) => j.name === name);
}

const card = (name) => page.locator(`article.job[data-name="${name}"]`);
const done = async (name) => Number(await card(name).getAttribute("data-done"));

/// Resolves once the page has redrawn `n` more times (its "updated" clock ticks each poll).
async function polls(n) {
  for (let i = 0; i < n; ++i) {
    const before = await page.locator("#updated").textContent();
    await page.waitForFunction(
      (b) => document.getElementById("updated").textContent !== b, before, { timeout: 10000 });
  }
}

before(async () => {
  assert.ok(haul, "set HAUL to the haul executable");
  dir = mkdtempSync(path.join(tmpdir(), "haul-e2e-"));
  const jobFile = path.join(dir, "jobs.toml");
  // "steady" would run for 5 minutes (6000 tasks of 100 ms, 2 at a time): it is still running
  // however slow the machine, and the server's SIGTERM ends it. "flaky" ends at once with every task
  // in the dead letter (state failed); "doomed" is there to be cancelled.
  writeFileSync(jobFile, `
[runtime]
store = "store"
parallelism = 8
shutdown_grace = "2s"

[server]
token_env = "HAUL_E2E_TOKEN"

[[job]]
name = "steady"
kind = "noop"
tasks = 6000
sleep_ms = 100
parallelism = 2

[[job]]
name = "flaky"
kind = "noop"
tasks = 12
fail_first = 99
max_attempts = 2
initial_backoff = "10ms"

[[job]]
name = "doomed"
kind = "noop"
tasks = 100000
sleep_ms = 1000
parallelism = 1
`);
  const started = await startServe(jobFile);
  server = started.child;
  base = started.url;
  browser = await chromium.launch({
    executablePath: chromiumPath,
    // Without the networking flags Chromium keeps calling Google's hosts, which this
    // machine's closed network refuses. Playwright gives it a new, empty profile.
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  page = await browser.newPage({ viewport: { width: 1100, height: 720 } });
  page.on("dialog", (d) => d.accept()); // the confirmation of Cancel
});

after(async () => {
  if (browser) await browser.close();
  if (server && server.exitCode === null) {
    const exited = new Promise((resolve) => server.on("exit", resolve));
    server.kill("SIGTERM");
    assert.equal(await exited, 143, "haul serve exits 143 on SIGTERM");
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test("the page asks for the bearer token, then shows every job", async () => {
  await page.goto(base + "/");
  await page.locator("#login").waitFor({ state: "visible" });
  assert.equal(await page.locator("article.job").count(), 0, "no data before the token");
  await page.fill("#token", token);
  await page.click("#login button[type=submit]");
  await card("steady").waitFor();
  await card("flaky").waitFor();
  await card("doomed").waitFor();
  await page.locator("#login").waitFor({ state: "hidden" });
  assert.equal(await page.locator("#health").textContent(), "ok");
});

test("a running job's progress advances on the page", async () => {
  const first = await done("steady");
  await page.waitForFunction(
    (n) => Number(document.querySelector('article.job[data-name="steady"]').dataset.done) > n + 5,
    first, { timeout: 20000 });
  assert.equal(await card("steady").getAttribute("data-state"), "running");
  const text = await card("steady").locator(".progress-text").textContent();
  assert.match(text, /^[\d,]+ \/ 6,000 \(\d+\.\d%\)$/);
  assert.match(await card("steady").locator(".rate").textContent(), /tasks\/s/);
  assert.match(await card("steady").locator(".eta").textContent(), /^ETA \d/);
  const width = await card("steady").locator(".bar .done").evaluate((e) => parseFloat(e.style.width));
  assert.ok(width > 0 && width < 100, `bar width ${width}%`);
});

test("Pause stops the job, Resume starts it again", async () => {
  await card("steady").locator('button[data-action="pause"]').click();
  await page.waitForFunction(
    () => document.querySelector('article.job[data-name="steady"]').dataset.state === "paused",
    null, { timeout: 10000 });
  assert.ok(await card("steady").locator('button[data-action="pause"]').isHidden());
  const { body } = await api("GET", "/jobs");
  const steady = body.jobs.find((j) => j.name === "steady");
  assert.equal(steady.state, "paused");

  // Tasks already running may finish; after that nothing moves. Two polls after that, the
  // page shows a count that no poll started before the drain can overwrite.
  await until("the paused job's running tasks end",
              async () => (await jobNamed("steady")).tasks.running === 0);
  await polls(2);
  const paused = await done("steady");
  await polls(3);
  assert.equal(await done("steady"), paused, "no task completes while the job is paused");

  await card("steady").locator('button[data-action="resume"]').click();
  await page.waitForFunction(
    (n) => {
      const el = document.querySelector('article.job[data-name="steady"]');
      return el.dataset.state === "running" && Number(el.dataset.done) > n;
    }, paused, { timeout: 15000 });
});

test("a job's failures are listed, and Retry queues them again", async () => {
  await page.waitForFunction(
    () => document.querySelector('article.job[data-name="flaky"]').dataset.state === "failed",
    null, { timeout: 15000 });
  const flaky = card("flaky");
  assert.match(await flaky.locator(".failures").textContent(), /^12 failed$/);
  assert.match(await flaky.locator(".last-error").textContent(), /injected failure/);
  await flaky.locator("details summary").click();
  await flaky.locator("details tbody tr").first().waitFor();
  assert.equal(await flaky.locator("details tbody tr").count(), 12);
  assert.match(await flaky.locator("details tbody tr").first().textContent(), /injected failure/);

  const retriesBefore = (await jobNamed("flaky")).retries;
  await flaky.locator('button[data-action="retry"]').click();
  // The twelve run again (and fail again: fail_first outlasts max_attempts).
  await until("the retried tasks have failed again", async () => {
    const j = await jobNamed("flaky");
    return j.retries >= retriesBefore + 12 && j.state === "failed";
  });
  // And the page shows it.
  await page.waitForFunction(
    (n) => document.querySelector('article.job[data-name="flaky"] .retries').textContent === `${n} retries`,
    retriesBefore + 12, { timeout: 10000 });
  assert.equal(await flaky.locator(".action-error").textContent(), "");
});

test("Cancel ends a job", async () => {
  await card("doomed").locator('button[data-action="cancel"]').click();
  await page.waitForFunction(
    () => document.querySelector('article.job[data-name="doomed"]').dataset.state === "cancelled",
    null, { timeout: 15000 });
  assert.ok(await card("doomed").locator('button[data-action="cancel"]').isHidden());
  assert.equal((await api("GET", "/jobs")).body.jobs.find((j) => j.name === "doomed").state, "cancelled");
  if (process.env.HAUL_SCREENSHOT) {
    await card("flaky").locator("details").evaluate((d) => { d.open = false; });
    await page.screenshot({ path: process.env.HAUL_SCREENSHOT, fullPage: true });
  }
});
