// A screenshot of a page in Debian's Chromium, for docs/ (scripts/docs-screenshots.sh):
//   node tests/e2e/page_screenshot.mjs URL OUT.png [WIDTH HEIGHT]
// Not a test: it lives here for playwright-core, which tests/e2e's package installs.
import { chromium } from "playwright-core";

const [url, out, width = "1100", height = "760"] = process.argv.slice(2);
if (!url || !out) {
  console.error("usage: node tests/e2e/page_screenshot.mjs URL OUT.png [WIDTH HEIGHT]");
  process.exit(2);
}
const browser = await chromium.launch({
  executablePath: process.env.HAUL_CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
try {
  const page = await browser.newPage({ viewport: { width: Number(width), height: Number(height) } });
  await page.goto(url);
  await page.locator("article.job").first().waitFor();
  // Two polls after the first drawing, so rates and export progress are filled in.
  for (let i = 0; i < 2; ++i) {
    const before = await page.locator("#updated").textContent();
    await page.waitForFunction((b) => document.getElementById("updated").textContent !== b, before);
  }
  await page.screenshot({ path: out });
} finally {
  await browser.close();
}
