/**
 * `edge-session/react`: the browser client's session as React state.
 *
 *   import { createSessionClient } from "edge-session/client";
 *   import { SessionProvider, useSession } from "edge-session/react";
 *
 *   const client = createSessionClient({ baseUrl: "https://auth.example", storage: sessionStorage });
 *   root.render(<SessionProvider client={client}><App /></SessionProvider>);
 *
 *   function App() {
 *     const { user, signedIn, refusal, client } = useSession();
 *     return signedIn ? <p>{user.email}</p> : <SignIn onSubmit={(e, p) => client.login(e, p)} />;
 *   }
 *
 * The hook re-renders on the client's `login`, `logout` and `unauthorized` events: a token the
 * worker refuses anywhere (a `client.fetch` answered 401: revoked, expired, signed out
 * elsewhere) turns the state to signed out, with the worker's reason in `refusal`.
 * `react` is an optional peer dependency: only this entry point imports it.
 */
import { createContext, createElement, useContext, useSyncExternalStore, type ReactNode } from "react";
import type { SessionClient, SessionUser } from "../client/index.js";

/** What `useSession()` returns: a snapshot that changes identity only when the session does. */
export type SessionState =
  | { signedIn: true; user: SessionUser; expiresAt: string; refusal: null; client: SessionClient }
  | {
      signedIn: false;
      user: null;
      expiresAt: null;
      /** Why the worker last refused this client's token (`revoked`, `expired`, …); null after a sign-out or before any sign-in. */
      refusal: string | null;
      client: SessionClient;
    };

const SessionContext = createContext<SessionClient | null>(null);

/** Makes `client` the one `useSession()` reads below it. */
export function SessionProvider(props: { client: SessionClient; children?: ReactNode }) {
  return createElement(SessionContext.Provider, { value: props.client }, props.children);
}

interface Tracker {
  state: SessionState;
  refusal: string | null;
  subscribe: (notify: () => void) => () => void;
  read: () => SessionState;
}

/** One tracker per client, shared by every component that uses it. */
const trackers = new WeakMap<SessionClient, Tracker>();

function trackerFor(client: SessionClient): Tracker {
  const existing = trackers.get(client);
  if (existing) return existing;
  const tracker: Tracker = {
    state: snapshot(client, null),
    refusal: null,
    subscribe(notify) {
      const offs = [
        client.on("login", () => {
          tracker.refusal = null;
          notify();
        }),
        client.on("logout", () => {
          tracker.refusal = null;
          notify();
        }),
        client.on("unauthorized", (e) => {
          tracker.refusal = e.reason ?? "unauthorized";
          notify();
        }),
      ];
      return () => offs.forEach((off) => off());
    },
    // useSyncExternalStore needs the same object back while nothing changed.
    read() {
      const s = tracker.state;
      const same = s.user === client.user && s.expiresAt === client.expiresAt && (s.signedIn || s.refusal === tracker.refusal);
      if (!same) tracker.state = snapshot(client, tracker.refusal);
      return tracker.state;
    },
  };
  trackers.set(client, tracker);
  return tracker;
}

function snapshot(client: SessionClient, refusal: string | null): SessionState {
  const { user, expiresAt } = client;
  if (user && expiresAt) return { signedIn: true, user, expiresAt, refusal: null, client };
  return { signedIn: false, user: null, expiresAt: null, refusal, client };
}

/**
 * The session of `client`, or of the nearest `SessionProvider`'s client. Throws when neither
 * is there: a silent "signed out" would hide the mistake.
 */
export function useSession(client?: SessionClient): SessionState {
  const fromContext = useContext(SessionContext);
  const c = client ?? fromContext;
  if (!c) throw new Error("useSession(): pass a client or render inside <SessionProvider client={…}>");
  const tracker = trackerFor(c);
  return useSyncExternalStore(tracker.subscribe, tracker.read, tracker.read);
}
