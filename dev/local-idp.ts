/**
 * The local OpenID Connect provider of `npm run dev` and of the browser tests: oidc-provider
 * (a certified implementation) in its default configuration — development login and consent
 * forms (any login, any password), scope claims from UserInfo only, not in the ID token — plus
 * what any deployment must supply: one client, signing keys, accounts, back-channel logout, and
 * outgoing requests allowed to loopback (the worker's back-channel logout URI).
 *
 * The client is registered for the demo at both http://localhost:<port> and
 * http://127.0.0.1:<port> (the worker derives its callback from the page's origin).
 */
import { generateKeyPairSync } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import Provider from "oidc-provider";

/** The provider id in the worker's paths: /sso/local/start, /sso/local/callback, … */
export const LOCAL_PROVIDER_ID = "local";

export interface LocalIdpOptions {
  /** The worker's port (the client's redirect, post-logout and back-channel URIs). */
  workerPort: number;
  clientId: string;
  clientSecret: string;
  /** @default 0 (a free port) */
  port?: number;
  /** @default "RS256" */
  idTokenAlg?: "RS256" | "PS256" | "ES256" | "EdDSA";
}

export interface LocalIdp {
  issuer: string;
  provider: Provider;
  /** The provider's HTTP server (tests add listeners to it). */
  server: Server;
  /** Logout tokens the provider sent, with when (ms since epoch) each POST went out and its answer's status. */
  backchannel: { sentAt: number; status: number | null }[];
  close(): Promise<void>;
}

/** The login typed in the development form is the account: an email as is, else `<login>@example.com`. */
export const emailOf = (login: string) => (login.includes("@") ? login : `${login}@example.com`);

function signingKeys() {
  const jwk = (k: ReturnType<typeof generateKeyPairSync>["privateKey"], alg: string) => ({ ...k.export({ format: "jwk" }), kid: `dev-${alg}-${Date.now().toString(36)}`, alg, use: "sig" });
  return [
    jwk(generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey, "RS256"),
    jwk(generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey, "PS256"),
    jwk(generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey, "ES256"),
    jwk(generateKeyPairSync("ed25519").privateKey, "EdDSA"),
  ];
}

export async function startLocalIdp(o: LocalIdpOptions): Promise<LocalIdp> {
  const server: Server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port ?? 0, "127.0.0.1", resolve);
  });
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const origins = [`http://localhost:${o.workerPort}`, `http://127.0.0.1:${o.workerPort}`];
  const backchannel: LocalIdp["backchannel"] = [];
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: o.clientId,
        client_secret: o.clientSecret,
        redirect_uris: origins.map((a) => `${a}/sso/${LOCAL_PROVIDER_ID}/callback`),
        post_logout_redirect_uris: origins.map((a) => `${a}/`),
        // Node may resolve localhost to ::1, and wrangler listens on 127.0.0.1 only.
        backchannel_logout_uri: `http://127.0.0.1:${o.workerPort}/sso/${LOCAL_PROVIDER_ID}/backchannel-logout`,
        backchannel_logout_session_required: true,
        id_token_signed_response_alg: o.idTokenAlg ?? "RS256",
      },
    ],
    jwks: { keys: signingKeys() as never },
    findAccount: (_ctx, id) => ({ accountId: id, claims: () => ({ sub: id, email: emailOf(id), email_verified: true }) }),
    claims: { email: ["email", "email_verified"] },
    features: { backchannelLogout: { enabled: true } },
    // The provider refuses outgoing requests to special-use addresses (SSRF protection); its
    // documented `fetch` hook lets the back-channel logout reach the worker on loopback.
    fetch: async (url, options) => {
      const { dispatcher: _ssrfGuard, ...rest } = options as RequestInit & { dispatcher?: unknown };
      const entry: LocalIdp["backchannel"][number] = { sentAt: Date.now(), status: null };
      backchannel.push(entry);
      const res = await globalThis.fetch(url, rest);
      entry.status = res.status;
      return res;
    },
  });
  provider.on("server_error", (_ctx, err) => console.error("[dev] oidc-provider server_error", err));
  provider.on("backchannel.error", (_ctx, err) => console.error("[dev] oidc-provider backchannel.error", err));
  server.on("request", provider.callback());
  return {
    issuer,
    provider,
    server,
    backchannel,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
