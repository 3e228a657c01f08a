/**
 * A front end (DOM types only): the browser client, typed calls with `hc<AppType>`, and the
 * React hook. Type-checked by the consumer test in a project with `lib: ["DOM"]`, no Workers
 * types and `skipLibCheck: false`.
 */
import { hc } from "hono/client";
import { createElement } from "react";
import type { AppType } from "edge-session/types";
import { createSessionClient, StoreUnavailableError } from "edge-session/client";
import { SessionProvider, useSession } from "edge-session/react";

export const session = createSessionClient({ baseUrl: "https://auth.example", storage: sessionStorage });
export const api = hc<AppType>("https://auth.example", { fetch: session.fetch });

export async function whoAmI(): Promise<string | null> {
  try {
    const res = await api.api.me.$get();
    if (!res.ok) return null;
    const body = await res.json();
    return body.user.email;
  } catch (error) {
    if (error instanceof StoreUnavailableError) return null; // keep the token, retry after error.retryAfter s
    throw error;
  }
}

export async function signIn(email: string, password: string) {
  const res = await api.auth.login.$post({ json: { email, password } });
  return res.status;
}

export async function wrongBody() {
  // @ts-expect-error request bodies are typed: email is a string
  await api.auth.login.$post({ json: { email: 123, password: "x" } });
}

function Badge() {
  const s = useSession();
  return s.signedIn ? createElement("span", null, s.user.email) : createElement("span", null, s.refusal ?? "signed out");
}

export const root = createElement(SessionProvider, { client: session }, createElement(Badge));
