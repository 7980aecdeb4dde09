// Drives Swagger UI in headless Chromium as a person would.
//   node swagger.mjs <base-url> <token>
//     Authorize by pasting a token into the bearer scheme, execute GET /me and expect 200; log out,
//     execute again and expect 401.
//   node swagger.mjs <base-url> --sign-in <login>
//     Authorize through the oauth2 scheme: the provider's sign-in page opens in a popup, any
//     password signs in as <login>, consent, and Swagger UI exchanges the code (PKCE) for a token;
//     then GET /items and GET /me must answer 200, /me naming <login>. Prints the authorization
//     request and the token request it saw, for the test to check.
import { chromium } from "playwright-core";

const [base, ...rest] = process.argv.slice(2);
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

// Opens an operation, presses Try it out, and returns a function that executes it and reads the
// status and body of the answer.
async function tryOut(page, path) {
  const operation = page.locator(".opblock", {
    has: page.locator(`.opblock-summary-path[data-path="${path}"]`),
  });
  await operation.locator(".opblock-summary").click();
  await operation.locator("button.try-out__btn").click();
  return async () => {
    const clear = operation.locator("button.btn-clear");
    if (await clear.count()) await clear.click();
    await operation.locator("button.execute").click();
    const response = operation.locator(".live-responses-table .response").first();
    const status = response.locator(".response-col_status");
    await status.waitFor();
    const body = await response.locator(".response-col_description pre").first().innerText()
      .catch(() => "");
    return { status: (await status.innerText()).trim(), body };
  };
}

async function pasteToken(page, token) {
  // Authorize: the bearer scheme's input, then Authorize and Close.
  await page.click("button.authorize");
  const bearer = page.locator(".auth-container", { hasText: "bearer" }).first();
  await bearer.locator("input").fill(token);
  await bearer.locator("button.authorize").click();
  await page.click("button.btn-done");

  const me = await tryOut(page, "/me");
  const withToken = await me();
  if (withToken.status !== "200") {
    await fail(`with the token GET /me answered ${withToken.status}, expected 200`);
  }
  console.log("with token: 200");

  // Log out and execute again.
  await page.click("button.authorize");
  await bearer.locator("button", { hasText: "Logout" }).click();
  await page.click("button.btn-done");
  const withoutToken = await me();
  if (withoutToken.status !== "401") {
    await fail(`without a token GET /me answered ${withoutToken.status}, expected 401`);
  }
  console.log("without token: 401");
}

async function signIn(context, page, login) {
  await page.click("button.authorize");
  // The oauth2 scheme (the openid_connect one offers the same flow through discovery).
  const oauth2 = page.locator(".auth-container", {
    has: page.locator("h4", { hasText: /^oauth2 \(OAuth2/ }),
  });
  const authorizationUrl = (await oauth2.locator("p", { hasText: "Authorization URL" })
    .locator("code").innerText()).trim();
  const tokenUrl = (await oauth2.locator("p", { hasText: "Token URL" }).locator("code").innerText())
    .trim();
  const seen = { authorize: null, token: null };
  context.on("request", (request) => {
    const url = request.url();
    if (url.startsWith(`${authorizationUrl}?`) && !seen.authorize) seen.authorize = url;
    if (url === tokenUrl && request.method() === "POST") seen.token = request.postData();
  });

  const opened = page.waitForEvent("popup");
  await oauth2.locator("button.authorize", { hasText: "Authorize" }).click();
  const popup = await opened;
  const closed = popup.waitForEvent("close", { timeout: 30000 });
  // oidc-provider's development pages: sign in with any password, then consent.
  await popup.locator('input[name="login"]').fill(login);
  await popup.locator('input[name="password"]').fill("any password");
  await popup.locator('button[type="submit"]').click();
  await popup.locator('button[type="submit"]', { hasText: "Continue" }).click();
  // The provider redirects to oauth2-redirect.html, which hands the code back and closes.
  await closed;
  await oauth2.locator("h6", { hasText: "Authorized" }).waitFor();
  const errors = await oauth2.locator(".errors").allInnerTexts();
  if (errors.length) await fail(`Swagger UI reported: ${errors.join(" | ")}`);
  await oauth2.locator("button.btn-done").click();
  console.log(`authorization request: ${seen.authorize}`);
  console.log(`token request: ${seen.token}`);

  const items = await tryOut(page, "/items");
  const itemsAnswer = await items();
  if (itemsAnswer.status !== "200") {
    await fail(`after signing in GET /items answered ${itemsAnswer.status}: ${itemsAnswer.body}`);
  }
  console.log("signed in, /items: 200");
  const me = await tryOut(page, "/me");
  const meAnswer = await me();
  if (meAnswer.status !== "200") {
    await fail(`after signing in GET /me answered ${meAnswer.status}: ${meAnswer.body}`);
  }
  console.log(`signed in, /me: 200 ${meAnswer.body.replace(/\s+/g, " ")}`);
}

try {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.setDefaultTimeout(20000);
  await page.goto(`${base}/docs/`);
  await page.waitForSelector(".opblock-summary-path");
  if (rest[0] === "--sign-in") {
    await signIn(context, page, rest[1]);
  } else {
    await pasteToken(page, rest[0]);
  }
  await page.screenshot({ path: process.env.SCREENSHOT || "/tmp/swagger-ui.png", fullPage: true });
} catch (error) {
  await fail(`browser test failed: ${error.message}`);
}
await browser.close();
