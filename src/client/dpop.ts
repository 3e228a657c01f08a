/**
 * The client's DPoP key (RFC 9449, issue 24): an ES256 key pair made with WebCrypto as
 * non-extractable (no script, this one included, can read the private key out), kept in
 * IndexedDB in browsers so a reload keeps the binding (structured clone stores the CryptoKey
 * itself, not its bytes), in memory elsewhere. A proof is made per request.
 */
const encoder = new TextEncoder();
/** Spelled out: the type checks run with and without the DOM library. */
type KeyPair = { privateKey: CryptoKey; publicKey: CryptoKey };

function b64url(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
const part = (o: unknown) => b64url(encoder.encode(JSON.stringify(o)));

export interface DpopKey {
  /** The public key as a JWK (`kty`, `crv`, `x`, `y`), sent in every proof's header. */
  readonly jwk: { kty: "EC"; crv: "P-256"; x: string; y: string };
  /** Signs a proof for one request; `accessToken` adds `ath`. */
  proof(method: string, url: string, accessToken?: string): Promise<string>;
}

export interface DpopKeyOptions {
  /** IndexedDB database and key name (browsers); null keeps the key in memory only. @default "edge-session-dpop" */
  storageName?: string | null;
  /** Seconds since the epoch for `iat`. @default Date.now() / 1000 */
  now?: () => number;
}

type Idb = { open(name: string, version?: number): any };

function idb(): Idb | null {
  return (globalThis as { indexedDB?: Idb }).indexedDB ?? null;
}

function request<T>(r: any): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result as T);
    r.onerror = () => reject(r.error);
  });
}

async function loadOrStore(name: string, make: () => Promise<KeyPair>): Promise<KeyPair> {
  const db = idb();
  if (!db) return make();
  const open = db.open(name, 1);
  open.onupgradeneeded = () => open.result.createObjectStore("keys");
  const conn = await request<any>(open);
  try {
    const found = await request<KeyPair | undefined>(conn.transaction("keys", "readonly").objectStore("keys").get("key"));
    if (found?.privateKey && found.publicKey) return found;
    const pair = await make();
    await request(conn.transaction("keys", "readwrite").objectStore("keys").put(pair, "key"));
    return pair;
  } finally {
    conn.close();
  }
}

/** Loads the stored key, or makes (and stores) a new one. */
export async function loadDpopKey(options: DpopKeyOptions = {}): Promise<DpopKey> {
  const make = () => crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"]) as Promise<KeyPair>;
  const name = options.storageName === undefined ? "edge-session-dpop" : options.storageName;
  const pair = name === null ? await make() : await loadOrStore(name, make).catch(make);
  // The public half stays exportable whatever `extractable` says.
  const pub = (await crypto.subtle.exportKey("jwk", pair.publicKey)) as { x?: string; y?: string };
  const jwk = { kty: "EC" as const, crv: "P-256" as const, x: pub.x!, y: pub.y! };
  const now = options.now ?? (() => Date.now() / 1000);
  return {
    jwk,
    async proof(method, url, accessToken) {
      const u = new URL(url);
      const payload: Record<string, unknown> = {
        jti: b64url(crypto.getRandomValues(new Uint8Array(16))),
        htm: method.toUpperCase(),
        htu: `${u.protocol}//${u.host}${u.pathname}`,
        iat: Math.floor(now()),
      };
      if (accessToken !== undefined) payload.ath = b64url(new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(accessToken))));
      const input = `${part({ typ: "dpop+jwt", alg: "ES256", jwk })}.${part(payload)}`;
      const sig = await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, pair.privateKey, encoder.encode(input));
      return `${input}.${b64url(new Uint8Array(sig))}`;
    },
  };
}
