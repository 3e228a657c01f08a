import { describe, expect, it } from "vitest";
import { createPasswordHasher, describeHash, MAX_ITERATIONS } from "../../src/accounts/password.js";

const PEPPER = "p".repeat(40);

describe("passwords (PBKDF2-HMAC-SHA-256 + pepper)", () => {
  it("hashes at exactly the production cap of 100,000 iterations, never above", async () => {
    expect(MAX_ITERATIONS).toBe(100_000);
    const h = await createPasswordHasher(PEPPER);
    const stored = await h.hash("correct horse battery staple");
    expect(stored).toMatch(/^\$pbkdf2-sha256\$i=100000\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(describeHash(stored)).toEqual({ iterations: 100_000 });
    await expect(createPasswordHasher(PEPPER, 100_001)).rejects.toThrow(/production Workers cap/);
    await expect(createPasswordHasher(PEPPER, 600_000)).rejects.toThrow();
  });

  it("verifies the right password and refuses a wrong one", async () => {
    const h = await createPasswordHasher(PEPPER);
    const stored = await h.hash("correct horse battery staple");
    expect(await h.verify("correct horse battery staple", stored)).toBe(true);
    expect(await h.verify("correct horse battery stapler", stored)).toBe(false);
  });

  it("uses a per-user salt: the same password hashes differently", async () => {
    const h = await createPasswordHasher(PEPPER);
    expect(await h.hash("same password")).not.toBe(await h.hash("same password"));
  });

  it("depends on the pepper: another pepper does not verify", async () => {
    const stored = await (await createPasswordHasher(PEPPER)).hash("correct horse battery staple");
    expect(await (await createPasswordHasher("q".repeat(40))).verify("correct horse battery staple", stored)).toBe(false);
  });

  describe("Security", () => {
    it("rejects stored hashes asking for parameters outside the allowed range, without deriving", async () => {
      const h = await createPasswordHasher(PEPPER);
      const stored = await h.hash("pw-pw-pw-pw");
      const absurd = stored.replace("i=100000", "i=9999999");
      const tiny = stored.replace("i=100000", "i=1");
      const started = performance.now();
      expect(await h.verify("pw-pw-pw-pw", absurd)).toBe(false);
      expect(await h.verify("pw-pw-pw-pw", tiny)).toBe(false);
      // No derivation happened at all (a 9,999,999-round PBKDF2 would take seconds).
      expect(performance.now() - started).toBeLessThan(50);
    });

    it("never throws on garbage stored values", async () => {
      const h = await createPasswordHasher(PEPPER);
      for (const s of ["", "$pbkdf2-sha256$", "$argon2id$v=19$m=1,t=1,p=1$x$y", "$pbkdf2-sha256$i=100000$***$***", null as never, 42 as never]) {
        expect(await h.verify("whatever", s)).toBe(false);
      }
    });

    it("does the same derivation for unknown users (dummy hash)", async () => {
      const h = await createPasswordHasher(PEPPER);
      expect(await h.verifyDummy("anything at all")).toBe(false);
    });
  });
});
