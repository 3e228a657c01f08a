/**
 * The session manager in front of its key ring: a forged string pays the HMAC once per isolate,
 * a genuine token is never mistaken for a forged one, and nothing reaches the store.
 */
import { describe, expect, it } from "vitest";
import { keySpace } from "../../src/session/keys.js";
import { DEFAULT_POLICY, SessionManager } from "../../src/session/manager.js";
import type { SessionStoreClient } from "../../src/session/store.js";
import { createKeyRing, type KeyRing } from "../../src/token/key-ring.js";

/** A store that must never be called: any use fails the test. */
const untouchable = new Proxy({} as SessionStoreClient, {
  get: (_t, name) => () => {
    throw new Error(`store.${String(name)} called`);
  },
});

async function countingRing(): Promise<{ ring: KeyRing; verifies: () => number }> {
  const ring = await createKeyRing([{ kid: "k1", key: crypto.getRandomValues(new Uint8Array(32)) }]);
  let n = 0;
  return {
    ring: { ...ring, signerKid: ring.signerKid, kids: ring.kids, issue: () => ring.issue(), verify: (t) => (n++, ring.verify(t)) },
    verifies: () => n,
  };
}

describe("forged tokens in the session manager", () => {
  it("a repeated forged string is refused without a second MAC check; a distinct one is checked", async () => {
    const { ring, verifies } = await countingRing();
    const manager = new SessionManager({ store: untouchable, keyRing: ring, keys: keySpace("t:"), policy: DEFAULT_POLICY });
    const { token } = await ring.issue();
    // One MAC character changed, away from the end (the last one carries padding bits).
    const flip = (t: string, at: number, to: string) => t.slice(0, at) + (t[at] === to ? "Z" : to) + t.slice(at + 1);
    const forged = flip(token, token.length - 10, "A");
    for (let i = 0; i < 5; i++) expect(await manager.validate(forged)).toEqual({ ok: false, reason: "bad_signature" });
    expect(verifies()).toBe(1);
    expect(await manager.validate(forged, { fresh: true })).toEqual({ ok: false, reason: "bad_signature" });
    expect(verifies()).toBe(1);
    const other = flip(token, token.length - 11, "B");
    expect(await manager.validate(other)).toEqual({ ok: false, reason: "bad_signature" });
    expect(verifies()).toBe(2);
  });

  it("malformed strings and unknown keys are not remembered (they are cheap to refuse anyway)", async () => {
    const { ring, verifies } = await countingRing();
    const manager = new SessionManager({ store: untouchable, keyRing: ring, keys: keySpace("t:"), policy: DEFAULT_POLICY });
    const { token } = await ring.issue();
    const unknownKid = token.replace("k1", "k9");
    for (let i = 0; i < 3; i++) {
      expect((await manager.validate("garbage")).ok).toBe(false);
      expect((await manager.validate(unknownKid)).ok).toBe(false);
    }
    expect(verifies()).toBe(6);
  });
});
