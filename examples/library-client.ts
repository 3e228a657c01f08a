/**
 * The browser side of examples/library-worker.ts: your sign-in route answers what
 * `createSession()` returned, the client adopts it, and `paths` points the client's calls at
 * your routes (the defaults are the edge-session worker's `/auth/*`).
 */
import { createSessionClient } from "edge-session/client";

export const session = createSessionClient({
  baseUrl: "https://app.example",
  paths: { logout: "/private/sign-out" },
});

export async function signIn(email: string, code: string): Promise<void> {
  const res = await fetch("https://app.example/sign-in", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ email, code }),
  });
  if (!res.ok) throw new Error(`sign-in refused: ${res.status}`);
  session.adopt(await res.json()); // { token, expiresAt, user }: held in memory, sent as Bearer
}

export async function signOut(): Promise<void> {
  // Throws (and keeps the token) unless the server confirmed: a failed sign-out is never silent.
  await session.logout();
}
