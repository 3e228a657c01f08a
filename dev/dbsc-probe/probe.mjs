// DBSC probe: a minimal server on 127.0.0.1 that asks Chromium to register a device-bound
// session, logs every request and header the browser sends, answers the refresh dance, and
// records the DevTools protocol's device-bound-session events.
//
// Usage: node dev/dbsc-probe/probe.mjs [--chrome=PATH] [--features=A..E] [--https] [--headful] [--incognito] [--wait=S] [--maxage=S] [--histograms]
//   A: the flags of the earlier probe (DeviceBoundSessions without parameters)
//   B: DeviceBoundSessions:RequireOriginTrialTokens/false/RefreshQuota/false (+ software keys)
//   C: B + DeviceBoundSessionsDevTools
import { createServer as createHttp } from "node:http";
import { createServer as createHttps } from "node:https";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { webcrypto } from "node:crypto";
import { chromium } from "playwright-core";

const arg = (name, dflt) => {
  const hit = process.argv.find((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (!hit) return dflt;
  return hit.includes("=") ? hit.split("=")[1] : true;
};
const FEATURES = String(arg("features", "B"));
const HTTPS = Boolean(arg("https", false));
const HEADFUL = Boolean(arg("headful", false));
const WAIT_S = Number(arg("wait", 20));
const COOKIE_MAX_AGE = Number(arg("maxage", 4));
const CHROME = String(arg("chrome", "/usr/bin/chromium"));

const log = [];
const t0 = Date.now();
const note = (...parts) => {
  const line = `[${((Date.now() - t0) / 1000).toFixed(2)}s] ${parts.join(" ")}`;
  log.push(line);
  console.log(line);
};

const b64u = (s) => Buffer.from(s, "base64url");
function decodeJwt(jwt) {
  const raw = jwt.replace(/^"|"$/g, "");
  const [h, p, s] = raw.split(".");
  return { raw, header: JSON.parse(b64u(h).toString()), payload: JSON.parse(b64u(p).toString()), sig: b64u(s ?? "") };
}
async function verifyEs256(raw, jwk) {
  const [h, p, s] = raw.split(".");
  const key = await webcrypto.subtle.importKey("jwk", jwk, { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
  return webcrypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, key, b64u(s), Buffer.from(`${h}.${p}`));
}

let sessionKey = null;
let refreshChallenge = "refresh-challenge-1";
const counts = { register: 0, refreshWithProof: 0, refreshNoProof: 0, wellKnown: 0 };

async function handler(req, res) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const body = Buffer.concat(chunks).toString();
  note(`${req.method} ${req.url}`);
  for (const [k, v] of Object.entries(req.headers)) note(`    ${k}: ${v}`);
  if (body) note(`    <body ${body.length} bytes> ${body.slice(0, 200)}`);
  const url = new URL(req.url, "http://x");
  const origin = `${HTTPS ? "https" : "http"}://localhost:${port}`;

  if (url.pathname === "/") {
    res.setHeader("Set-Cookie", "sid=probe-session; Path=/; HttpOnly; SameSite=Lax");
    res.setHeader("Secure-Session-Registration", '(ES256 RS256);path="/dbsc/register";challenge="reg-challenge-1";authorization="auth-code-1"');
    // The older header name too, in case this build still reads it.
    res.setHeader("Sec-Session-Registration", '(ES256 RS256);path="/dbsc/register";challenge="reg-challenge-1"');
    res.setHeader("Content-Type", "text/html");
    res.end("<!doctype html><title>probe</title><p>probe");
    return;
  }
  if (url.pathname === "/.well-known/device-bound-sessions") {
    counts.wellKnown++;
    res.setHeader("Content-Type", "application/json");
    res.end(JSON.stringify({ registering_origins: [origin] }));
    return;
  }
  if (url.pathname === "/dbsc/register" && req.method === "POST") {
    counts.register++;
    const proof = req.headers["secure-session-response"];
    if (proof) {
      const jwt = decodeJwt(proof);
      note(`    JWT header: ${JSON.stringify(jwt.header)}`);
      note(`    JWT payload: ${JSON.stringify(jwt.payload)}`);
      const jwk = jwt.header.jwk ?? jwt.payload.key ?? jwt.payload.jwk;
      if (jwk) {
        sessionKey = jwk;
        note(`    signature valid against its own key: ${await verifyEs256(jwt.raw, jwk)}`);
      }
    }
    res.setHeader("Content-Type", "application/json");
    res.setHeader("Cache-Control", "no-store");
    res.setHeader("Set-Cookie", `bound=v${counts.register}; Path=/; Max-Age=${COOKIE_MAX_AGE}; HttpOnly; SameSite=Lax`);
    res.end(JSON.stringify({
      session_identifier: "probe-session-1",
      refresh_url: "/dbsc/refresh",
      scope: { origin, include_site: false, scope_specification: [{ type: "exclude", domain: "localhost", path: "/favicon.ico" }] },
      credentials: [{ type: "cookie", name: "bound", attributes: "Path=/; HttpOnly; SameSite=Lax" }],
    }));
    return;
  }
  if (url.pathname === "/dbsc/refresh" && req.method === "POST") {
    const proof = req.headers["secure-session-response"];
    if (!proof) {
      counts.refreshNoProof++;
      res.statusCode = 403;
      res.setHeader("Secure-Session-Challenge", `"${refreshChallenge}";id="probe-session-1"`);
      res.end();
      return;
    }
    counts.refreshWithProof++;
    const jwt = decodeJwt(proof);
    note(`    JWT header: ${JSON.stringify(jwt.header)}`);
    note(`    JWT payload: ${JSON.stringify(jwt.payload)}`);
    if (sessionKey) note(`    signature valid against the registered key: ${await verifyEs256(jwt.raw, sessionKey)}`);
    note(`    jti == challenge: ${jwt.payload.jti === refreshChallenge}`);
    refreshChallenge = `refresh-challenge-${counts.refreshWithProof + 1}`;
    res.setHeader("Content-Type", "application/json");
    res.setHeader("Cache-Control", "no-store");
    res.setHeader("Set-Cookie", `bound=r${counts.refreshWithProof}; Path=/; Max-Age=${COOKIE_MAX_AGE}; HttpOnly; SameSite=Lax`);
    res.end();
    return;
  }
  res.setHeader("Content-Type", "text/plain");
  res.end(`cookie: ${req.headers.cookie ?? "(none)"}`);
}

let server;
if (HTTPS) {
  const dir = mkdtempSync(join(tmpdir(), "dbsc-probe-"));
  execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", join(dir, "k.pem"), "-out", join(dir, "c.pem"), "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"], { stdio: "ignore" });
  server = createHttps({ key: readFileSync(join(dir, "k.pem")), cert: readFileSync(join(dir, "c.pem")) }, (q, s) => void handler(q, s));
} else {
  server = createHttp((q, s) => void handler(q, s));
}
await new Promise((r) => server.listen(0, "127.0.0.1", r));
const port = server.address().port;
const base = `${HTTPS ? "https" : "http"}://localhost:${port}`;

const SETS = {
  A: { enable: ["DeviceBoundSessions", "EnableBoundSessionCredentialsSoftwareKeysForManualTesting"], disable: ["DeviceBoundSessionsRefreshQuota"] },
  B: { enable: ["DeviceBoundSessions:RequireOriginTrialTokens/false/RefreshQuota/false", "EnableBoundSessionCredentialsSoftwareKeysForManualTesting"], disable: [] },
  C: { enable: ["DeviceBoundSessions:RequireOriginTrialTokens/false/RefreshQuota/false", "EnableBoundSessionCredentialsSoftwareKeysForManualTesting", "DeviceBoundSessionsDevTools"], disable: [] },
  // What chrome://flags writes for "Enabled - For developers" (read from chrome://version).
  E: { enable: ["DeviceBoundSessions:RequireOriginTrialTokens/false/RefreshQuota/false/CheckSubdomainRegistration/false/OriginTrialFeedback/true/SchemaVersion/2", "EnableBoundSessionCredentialsSoftwareKeysForManualTesting", "DeviceBoundSessionsDevTools"], disable: [] },
  D: { enable: ["DeviceBoundSessions:ForceEnableForTesting/true/RequireOriginTrialTokens/false/RefreshQuota/false", "EnableBoundSessionCredentialsSoftwareKeysForManualTesting", "DeviceBoundSessionsDevTools"], disable: [] },
};
const set = SETS[FEATURES];

// Playwright passes one --enable-features and one --disable-features; Chromium honours only one
// of each, so read Playwright's, drop them, and pass merged ones.
const defaults = await chromium.launchServer({ executablePath: CHROME, args: ["--headless", "--no-sandbox"] });
const spawnargs = defaults.process().spawnargs;
await defaults.close();
const pwEnable = spawnargs.find((a) => a.startsWith("--enable-features="));
const pwDisable = spawnargs.find((a) => a.startsWith("--disable-features="));
const merged = (flag, own) => `${flag.split("=")[0]}=${[...flag.slice(flag.indexOf("=") + 1).split(",").filter(Boolean), ...own].join(",")}`;
const args = [
  HEADFUL ? "" : "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--host-resolver-rules=MAP localhost 127.0.0.1",
  merged(pwEnable, set.enable),
  merged(pwDisable, set.disable),
  HTTPS ? "--ignore-certificate-errors" : "",
  "--enable-logging=stderr",
  `--log-net-log=/tmp/netlog-${FEATURES}-${HTTPS ? "s" : "p"}.json`,
  "--net-log-capture-mode=Everything",
].filter(Boolean);
// A merged flag equal to Playwright's own would be dropped with it (user args are filtered too).
const ignored = [pwEnable, pwDisable].filter((a) => !args.includes(a));
note(`features set ${FEATURES}; ${HTTPS ? "https" : "http"}; ${HEADFUL ? "headful" : "headless"}`);
note(`args: ${args.join(" ")}`);

// An incognito-like context (browser.newContext()) versus the profile itself
// (launchPersistentContext): the probe tries both.
const PERSISTENT = !arg("incognito", false);
const stderr = [];
let context, closeAll;
if (PERSISTENT) {
  const profile = mkdtempSync(join(tmpdir(), "dbsc-profile-"));
  context = await chromium.launchPersistentContext(profile, { executablePath: CHROME, args, ignoreDefaultArgs: ignored, headless: !HEADFUL, ignoreHTTPSErrors: HTTPS });
  closeAll = () => context.close();
} else {
  const bs = await chromium.launchServer({ executablePath: CHROME, args, ignoreDefaultArgs: ignored, headless: !HEADFUL });
  bs.process().stderr?.on("data", (d) => stderr.push(String(d)));
  const browser = await chromium.connect(bs.wsEndpoint());
  context = await browser.newContext({ ignoreHTTPSErrors: HTTPS });
  closeAll = async () => { await browser.close(); await bs.close(); };
}
note(`context: ${PERSISTENT ? "persistent profile" : "browser.newContext() (off the record)"}`);
const page = await context.newPage();
const cdp = await context.newCDPSession(page);
await cdp.send("Network.enable");
for (const ev of ["Network.deviceBoundSessionsAdded", "Network.deviceBoundSessionEventOccurred"]) {
  cdp.on(ev, (e) => note(`CDP ${ev}: ${JSON.stringify(e).slice(0, 1500)}`));
}
try {
  await cdp.send("Network.enableDeviceBoundSessions", { enable: true });
  note("CDP Network.enableDeviceBoundSessions: ok");
} catch (e) {
  note(`CDP Network.enableDeviceBoundSessions failed: ${e.message}`);
}

await page.goto(`${base}/`);
const deadline = Date.now() + WAIT_S * 1000;
let step = 0;
while (Date.now() < deadline) {
  await new Promise((r) => setTimeout(r, 1500));
  step++;
  const r = await page.request.get(`${base}/protected?step=${step}`).catch((e) => ({ text: async () => `error ${e.message}` }));
  const t = await r.text();
  note(`  /protected -> ${t}`);
  // A navigation goes through the network stack as a browser request would.
  await page.goto(`${base}/page?step=${step}`).catch((e) => note(`goto error ${e.message}`));
  note(`  page text: ${await page.textContent("body").catch(() => "?")}`);
}
note(`counts: ${JSON.stringify(counts)}`);
const cookies = await context.cookies();
note(`cookies: ${JSON.stringify(cookies.map((c) => `${c.name}=${c.value}`))}`);
if (arg("histograms", false)) {
  const h = await context.newPage();
  await h.goto("chrome://histograms/").catch((e) => note(`histograms: ${e.message}`));
  await new Promise((r) => setTimeout(r, 1000));
  const text = await h.evaluate(() => document.body.innerText).catch((e) => `? ${e.message}`);
  const lines = text.split("\n").filter((l) => /DeviceBound|Unexportable|BoundSession|^Histogram: Net\./.test(l)); note(`histogram page chars: ${text.length}`);
  note(`histograms (${lines.length} lines):\n${lines.join("\n")}`);
}
await closeAll();
server.close();
const relevant = stderr.join("").split("\n").filter((l) => /device_bound|registration|session_service|unexportable|DeviceBound|dbsc/i.test(l));
console.log("--- chromium log lines (filtered) ---");
console.log(relevant.slice(0, 60).join("\n"));
