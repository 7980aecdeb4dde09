// Loads the browser example's page in headless Chromium and prints what the page shows.
//
//   node page.mjs <page-url>
//     The page (one origin) calls the API (another origin) with fetch + Authorization, which needs a
//     CORS preflight, and opens a WebSocket with the token as a subprotocol.
//
//   node page.mjs cookies <same-site-page-url> <other-site-page-url>
//     The page's cookie mode, first on the API's own site (it sets the session cookie there), then
//     on another site: fetch with credentials, a WebSocket and a form POST, each carrying the cookie.
//     The browser profile allows third-party cookies (Chrome's setting "Allow third-party cookies",
//     its default outside incognito), so Chromium does send the cookie with the other site's
//     requests: what refuses them must be the API.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const args = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
];
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";

// Waits until the page has shown its fetch and WebSocket results, and prints them.
async function results(page, label) {
  const settled = (id) =>
    page.waitForFunction((id) => document.getElementById(id).textContent !== "not yet", id);
  await settled("fetch");
  await settled("ws");
  console.log(`${label}fetch: ${await page.textContent("#fetch")}`);
  console.log(`${label}ws: ${await page.textContent("#ws")}`);
}

// Submits the page's form (a top-level POST to the API) and prints the answer.
async function submitForm(page, label) {
  const [response] = await Promise.all([
    page.waitForNavigation(),
    page.click("#transfer button"),
  ]);
  console.log(`${label}form: ${response.status()} ${(await response.text()).trim()}`);
}

let failed = false;
const [mode] = process.argv.slice(2);
if (mode === "cookies") {
  const [, sameSite, otherSite] = process.argv.slice(2);
  const profile = mkdtempSync(join(tmpdir(), "cookie-profile-"));
  mkdirSync(join(profile, "Default"));
  // 0: allow third-party cookies (1 blocks them in incognito, 2 everywhere).
  writeFileSync(
    join(profile, "Default", "Preferences"),
    JSON.stringify({ profile: { cookie_controls_mode: 0 } }),
  );
  const context = await chromium.launchPersistentContext(profile, { executablePath, args });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(20000);
    page.on("console", (message) => console.error(`console: ${message.text()}`));
    await page.goto(sameSite);
    await results(page, "same-site ");
    await submitForm(page, "same-site ");
    const cookies = await context.cookies();
    console.log(`cookies: ${cookies.map((c) => `${c.name}@${c.domain} SameSite=${c.sameSite}`).join(", ")}`);
    await page.goto(otherSite);
    await results(page, "other-site ");
    await submitForm(page, "other-site ");
  } catch (error) {
    console.error(`browser test failed: ${error.message}`);
    failed = true;
  }
  await context.close();
  rmSync(profile, { recursive: true, force: true });
} else {
  const browser = await chromium.launch({ executablePath, args });
  try {
    const page = await browser.newPage();
    page.setDefaultTimeout(20000);
    page.on("console", (message) => console.error(`console: ${message.text()}`));
    await page.goto(mode);
    await results(page, "");
  } catch (error) {
    console.error(`browser test failed: ${error.message}`);
    failed = true;
  }
  await browser.close();
}
process.exit(failed ? 1 : 0);
