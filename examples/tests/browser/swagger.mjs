// Drives Swagger UI in headless Chromium as a person would: Authorize with a token, execute GET /me and
// expect 200; log out, execute again and expect 401.
//   node swagger.mjs <base-url> <token>
import { chromium } from "playwright-core";

const [base, token] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
});
const fail = async (message) => {
  console.error(message);
  await browser.close();
  process.exit(1);
};
try {
  const page = await browser.newPage();
  page.setDefaultTimeout(20000);
  await page.goto(`${base}/docs/`);
  await page.waitForSelector(".opblock-summary-path");

  // Authorize: the bearer scheme's input, then Authorize and Close.
  await page.click("button.authorize");
  const bearer = page.locator(".auth-container", { hasText: "bearer" }).first();
  await bearer.locator("input").fill(token);
  await bearer.locator("button.authorize").click();
  await page.click("button.btn-done");

  // GET /me: Try it out, Execute, read the status.
  const me = page.locator(".opblock", { has: page.locator('.opblock-summary-path[data-path="/me"]') });
  await me.locator(".opblock-summary").click();
  await me.locator("button.try-out__btn").click();
  const execute = async () => {
    await me.locator("button.execute").click();
    const status = me.locator(".live-responses-table .response .response-col_status").first();
    await status.waitFor();
    return (await status.innerText()).trim();
  };
  const withToken = await execute();
  if (withToken !== "200") await fail(`with the token GET /me answered ${withToken}, expected 200`);
  console.log("with token: 200");

  // Log out and execute again.
  await page.click("button.authorize");
  await page.locator(".auth-container", { hasText: "bearer" }).first().locator("button", { hasText: "Logout" }).click();
  await page.click("button.btn-done");
  await me.locator("button.btn-clear").click().catch(() => {});
  const withoutToken = await execute();
  if (withoutToken !== "401") await fail(`without a token GET /me answered ${withoutToken}, expected 401`);
  console.log("without token: 401");
  await page.screenshot({ path: process.env.SCREENSHOT || "/tmp/swagger-ui.png", fullPage: true });
} catch (error) {
  await fail(`browser test failed: ${error.message}`);
}
await browser.close();
