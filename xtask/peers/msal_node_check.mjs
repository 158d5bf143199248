// Microsoft's Node client (@azure/msal-node) against soar-emulator.
//
// Run by `cargo xtask peers ms` after the Python checks, with NODE_EXTRA_CA_CERTS set to the
// emulator's test CA and the same JSON description of the emulator as argv[2]. It exercises the
// wire variants msal-node sends and MSAL Python does not: the short `device_code` grant type,
// `client-request-id` in the query, `mi_res_id` to IMDS, PS256 assertions from a SHA-256
// thumbprint. Prints `ok NAME` / `FAIL NAME: why`, then `N passed, M failed`; exits 1 on failure.
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { X509Certificate } from "node:crypto";
import https from "node:https";

const require = createRequire(process.env.MSAL_NODE_MODULES + "/");
const msal = require("@azure/msal-node");
const cfg = JSON.parse(readFileSync(process.argv[2], "utf8"));
const BASE = cfg.https_base;
const HOST = new URL(BASE).host;
const AUTHORITY = `${BASE}/${cfg.tenant_id}`;
const GRAPH = "https://graph.microsoft.com/.default";
const results = [];

function claims(token) {
  return JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString());
}
function need(cond, what) {
  if (!cond) throw new Error(typeof what === "string" ? what : JSON.stringify(what));
}
async function check(name, fn) {
  try {
    await fn();
    results.push(true);
    console.log(`ok    ${name}`);
  } catch (e) {
    results.push(false);
    console.log(`FAIL  ${name}: ${e && e.message ? e.message : e}`);
  }
}
function auth(extra) {
  return { auth: { authority: AUTHORITY, knownAuthorities: [HOST], ...extra } };
}
// A raw HTTPS request (the CA comes from NODE_EXTRA_CA_CERTS); redirects are not followed.
function request(url, { method = "GET", body } = {}) {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method, headers: body ? { "content-type": "application/x-www-form-urlencoded" } : {} }, (res) => {
      let data = "";
      res.on("data", (c) => (data += c));
      res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body: data }));
    });
    req.on("error", reject);
    if (body) req.write(body);
    req.end();
  });
}
const approve = (userCode) => request(`${BASE}/__emulator/device/approve`, { method: "POST", body: `user_code=${encodeURIComponent(userCode)}` });

const cert = cfg.cert_app;
const certPem = readFileSync(cert.cert, "utf8");
const keyPem = readFileSync(cert.key, "utf8");

await check("msal-node acquireTokenByClientCredential (secret)", async () => {
  const app = new msal.ConfidentialClientApplication(auth({ clientId: cfg.secret_app, clientSecret: cfg.secret }));
  const r = await app.acquireTokenByClientCredential({ scopes: [GRAPH] });
  const c = claims(r.accessToken);
  need(c.aud === "https://graph.microsoft.com" && c.appid === cfg.secret_app, c);
});

await check("msal-node client credential with a wrong secret gets AADSTS7000215", async () => {
  const app = new msal.ConfidentialClientApplication(auth({ clientId: cfg.secret_app, clientSecret: "wrong" }));
  try {
    await app.acquireTokenByClientCredential({ scopes: [GRAPH] });
  } catch (e) {
    need(e.errorCode === "invalid_client" && String(e.errorMessage || e.message).includes("AADSTS7000215"), `${e.errorCode}: ${e.message}`);
    return;
  }
  throw new Error("no error for a wrong secret");
});

await check("msal-node client credential (certificate, SHA-1 thumbprint, RS256)", async () => {
  const app = new msal.ConfidentialClientApplication(
    auth({ clientId: cert.client_id, clientCertificate: { thumbprint: cert.thumbprint, privateKey: keyPem } }));
  const c = claims((await app.acquireTokenByClientCredential({ scopes: [GRAPH] })).accessToken);
  need(c.appidacr === "2", c);
});

await check("msal-node client credential (certificate, SHA-256 thumbprint, PS256, x5c)", async () => {
  const sha256 = new X509Certificate(certPem).fingerprint256.replaceAll(":", "");
  const app = new msal.ConfidentialClientApplication(
    auth({ clientId: cert.client_id, clientCertificate: { thumbprintSha256: sha256, privateKey: keyPem, x5c: certPem } }));
  const c = claims((await app.acquireTokenByClientCredential({ scopes: ["https://management.azure.com/.default"] })).accessToken);
  need(c.aud === "https://management.azure.com", c);
});

await check("msal-node device code (short `device_code` grant) approved through the emulator", async () => {
  const app = new msal.PublicClientApplication(auth({ clientId: cfg.public_app }));
  const r = await app.acquireTokenByDeviceCode({
    scopes: ["https://graph.microsoft.com/User.Read"],
    deviceCodeCallback: (resp) => { setTimeout(() => approve(resp.userCode), 1500); },
  });
  const c = claims(r.accessToken);
  need(c.upn === cfg.user && r.account.username === cfg.user, c);
});

let refreshToken;
await check("msal-node acquireTokenByCode", async () => {
  const app = new msal.ConfidentialClientApplication(auth({ clientId: cfg.secret_app, clientSecret: cfg.secret }));
  const scopes = ["https://graph.microsoft.com/User.Read"];
  const url = await app.getAuthCodeUrl({ scopes, redirectUri: cfg.redirect_uri, state: "node-state" });
  const res = await request(url);
  need(res.status === 302, `status ${res.status}`);
  const q = new URL(res.headers.location).searchParams;
  need(q.get("state") === "node-state", res.headers.location);
  const r = await app.acquireTokenByCode({ code: q.get("code"), scopes, redirectUri: cfg.redirect_uri });
  need(claims(r.accessToken).upn === cfg.user, "user token");
  const cache = JSON.parse(app.getTokenCache().serialize());
  refreshToken = Object.values(cache.RefreshToken || {})[0]?.secret;
  need(refreshToken, "a refresh token in msal-node's cache");
});

await check("msal-node acquireTokenByRefreshToken", async () => {
  need(refreshToken, "needs the refresh token of the previous check");
  const app = new msal.ConfidentialClientApplication(auth({ clientId: cfg.secret_app, clientSecret: cfg.secret }));
  const r = await app.acquireTokenByRefreshToken({ refreshToken, scopes: ["https://management.azure.com/user_impersonation"] });
  need(claims(r.accessToken).scp === "user_impersonation", claims(r.accessToken));
});

await check("msal-node ManagedIdentityApplication (IMDS: system-assigned and mi_res_id)", async () => {
  process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST = cfg.http_base;
  const sys = new msal.ManagedIdentityApplication({});
  const c1 = claims((await sys.acquireToken({ resource: "https://management.azure.com" })).accessToken);
  need(c1.appid === cfg.system_mi, c1);
  const uami = new msal.ManagedIdentityApplication({ managedIdentityIdParams: { userAssignedResourceId: cfg.user_mi_resource_id } });
  const c2 = claims((await uami.acquireToken({ resource: "https://vault.azure.net" })).accessToken);
  need(c2.appid === cfg.user_mi && c2.aud === "https://vault.azure.net", c2);
});

const failed = results.filter((r) => !r).length;
console.log(`${results.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
