// Loads the browser example's page (one origin) in headless Chromium; the page calls the API (another
// origin) with fetch + Authorization, which needs a CORS preflight, and opens a WebSocket with the token
// as a subprotocol. Prints what the page shows.
//   node page.mjs <page-url>
import { chromium } from "playwright-core";

const [url] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
});
let failed = false;
try {
  const page = await browser.newPage();
  page.setDefaultTimeout(20000);
  page.on("console", (message) => console.error(`console: ${message.text()}`));
  await page.goto(url);
  const settled = (id) =>
    page.waitForFunction((id) => document.getElementById(id).textContent !== "not yet", id);
  await settled("fetch");
  await settled("ws");
  console.log(`fetch: ${await page.textContent("#fetch")}`);
  console.log(`ws: ${await page.textContent("#ws")}`);
} catch (error) {
  console.error(`browser test failed: ${error.message}`);
  failed = true;
}
await browser.close();
process.exit(failed ? 1 : 0);
