/**
 * Another worker calling edge-session over a service binding (no HTTP hop), typed end to end:
 * `Service<SessionVerifier>` keeps every field of every result, because results are plain data.
 *
 *   # wrangler.toml of this worker
 *   services = [{ binding = "SESSIONS", service = "edge-session", entrypoint = "SessionVerifier" }]
 */
import type { SessionVerifier } from "edge-session/rpc";

export interface Env {
  SESSIONS: Service<SessionVerifier>;
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/whoami") {
      const token = request.headers.get("Authorization")?.replace(/^Bearer /i, "") ?? "";
      const r = await env.SESSIONS.verify(token);
      if (!r.ok) return Response.json({ error: r.reason }, { status: r.reason === "store_unavailable" ? 503 : 401 });
      return Response.json({ email: r.user.email, roles: r.user.roles, session: r.session.id, expiresAt: r.session.expiresAt });
    }
    if (url.pathname === "/trusted-sign-in" && request.method === "POST") {
      // A trusted worker that authenticated the user itself (its own IdP callback, say).
      const { id, email } = await request.json<{ id: string; email: string }>();
      const r = await env.SESSIONS.createSession({ id, email, roles: [] }, { userAgent: request.headers.get("User-Agent") });
      if (!r.ok) return Response.json({ error: r.reason }, { status: r.reason === "store_unavailable" ? 503 : 403 });
      return Response.json({ token: r.token, user: r.user, expiresAt: r.session.expiresAt });
    }
    if (url.pathname === "/revoke-user" && request.method === "POST") {
      const { id } = await request.json<{ id: string }>();
      return Response.json({ ended: await env.SESSIONS.revokeUser(id) });
    }
    return new Response("not found", { status: 404 });
  },
} satisfies ExportedHandler<Env>;
