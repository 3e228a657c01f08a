/**
 * The device-bound scenarios' set-up (issue 24): a DBSC-bound cookie session registered the way
 * a browser does it (real ES256 key, the draft's proofs), and DPoP proofs made ahead of each
 * window so the load driver measures the worker's verify, not its own signing.
 */
import type http from "node:http";
import { webcrypto } from "node:crypto";
import { request } from "./load.ts";

const subtle = webcrypto.subtle;
const b64 = (b: Uint8Array | ArrayBuffer) => Buffer.from(b instanceof ArrayBuffer ? new Uint8Array(b) : b).toString("base64url");
const part = (o: unknown) => b64(Buffer.from(JSON.stringify(o)));

async function es256Key() {
  const pair = (await subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"])) as webcrypto.CryptoKeyPair;
  const pub = (await subtle.exportKey("jwk", pair.publicKey)) as webcrypto.JsonWebKey;
  const jwk = { kty: "EC", crv: "P-256", x: pub.x!, y: pub.y! };
  const sign = async (header: object, payload: object) => {
    const input = `${part(header)}.${part(payload)}`;
    return `${input}.${b64(await subtle.sign({ name: "ECDSA", hash: "SHA-256" }, pair.privateKey, Buffer.from(input)))}`;
  };
  return { jwk, sign };
}

export interface DbscBench {
  /** `__Host-session=b1.…`, good for the worker's DBSC_COOKIE_TTL. */
  cookie: string;
  /** One refresh (challenge round included); resolves the status. */
  refresh(): Promise<number>;
}

/** A cookie login, then the DBSC registration a browser would make. */
export async function dbscSession(agent: http.Agent, base: string, email: string, password: string): Promise<DbscBench> {
  const headers = { "Content-Type": "application/json", Origin: base, "X-CSRF-Protection": "1" };
  const reg = await request(agent, `${base}/auth/register`, { method: "POST", headers, body: JSON.stringify({ email, password, transport: "cookie" }) });
  const offer = /challenge="([^"]+)"/.exec(String(reg.headers["secure-session-registration"] ?? ""));
  const longLived = [reg.headers["set-cookie"] ?? []].flat().find((c) => c.startsWith("__Host-session="))?.split(";")[0];
  if (reg.status !== 201 || !offer || !longLived) throw new Error(`cookie register answered ${reg.status} without a DBSC offer: ${reg.body.slice(0, 200)}`);
  const key = await es256Key();
  const proof = await key.sign({ alg: "ES256", typ: "dbsc+jwt", jwk: key.jwk }, { jti: offer[1] });
  const bound = await request(agent, `${base}/auth/dbsc/register`, { method: "POST", headers: { Cookie: longLived, "Secure-Session-Response": proof } });
  const cookieOf = (r: typeof bound) => [r.headers["set-cookie"] ?? []].flat().find((c) => c.startsWith("__Host-session=b1."))?.split(";")[0];
  const cookie = cookieOf(bound);
  if (bound.status !== 200 || !cookie) throw new Error(`DBSC registration answered ${bound.status}: ${bound.body.slice(0, 200)}`);
  const sessionId = (JSON.parse(bound.body) as { session_identifier: string }).session_identifier;
  return {
    cookie,
    async refresh() {
      const url = `${base}/auth/dbsc/refresh`;
      const id = { "Sec-Secure-Session-Id": `"${sessionId}"` };
      const first = await request(agent, url, { method: "POST", headers: id });
      const challenge = /^"([^"]+)"/.exec(String(first.headers["secure-session-challenge"] ?? ""))?.[1];
      if (first.status !== 403 || !challenge) return first.status;
      const answer = await request(agent, url, { method: "POST", headers: { ...id, "Secure-Session-Response": await key.sign({ alg: "ES256", typ: "dbsc+jwt" }, { jti: challenge }) } });
      return answer.status;
    },
  };
}

export interface DpopBench {
  token: string;
  /** `n` fresh proofs for GET `url` over the token (unique jti, iat now). */
  proofs(url: string, n: number): Promise<string[]>;
}

/** A Bearer login that proves a DPoP key: the session is bound to it. */
export async function dpopSession(agent: http.Agent, base: string, email: string, password: string): Promise<DpopBench> {
  const key = await es256Key();
  const proof = (htm: string, htu: string, ath?: string) =>
    key.sign({ typ: "dpop+jwt", alg: "ES256", jwk: key.jwk }, { jti: b64(webcrypto.getRandomValues(new Uint8Array(12))), htm, htu, iat: Math.floor(Date.now() / 1000), ...(ath ? { ath } : {}) });
  const reg = await request(agent, `${base}/auth/register`, { method: "POST", headers: { "Content-Type": "application/json", DPoP: await proof("POST", `${base}/auth/register`) }, body: JSON.stringify({ email, password }) });
  const body = JSON.parse(reg.body) as { token?: string; bound?: string };
  if (reg.status !== 201 || !body.token || body.bound !== "dpop") throw new Error(`DPoP register answered ${reg.status}: ${reg.body.slice(0, 200)}`);
  const ath = b64(await subtle.digest("SHA-256", Buffer.from(body.token)));
  return {
    token: body.token,
    async proofs(url, n) {
      const out: string[] = [];
      for (let i = 0; i < n; i++) out.push(await proof("GET", url, ath));
      return out;
    },
  };
}
