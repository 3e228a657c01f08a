/**
 * A refusal's words reach the page: the client's error carries the worker's `message` (what a
 * form shows, e.g. "password must be at least 8 characters"), with the machine-readable `code`
 * and `field`-free `reason` beside it; without a message it falls back to the code.
 */
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { MIN_PASSWORD_LENGTH } from "../../src/accounts/password.js";
import { createSessionClient, SessionClientError } from "../../src/client/index.js";
import { uniqueEmail } from "../helpers/http.js";

const BASE = "http://x";

describe("register errors carry the server's message", () => {
  for (const transport of ["cookie", "bearer"] as const) {
    it(`${transport}: a short password is refused with the server's own sentence, code invalid_request`, async () => {
      const c = createSessionClient({ baseUrl: BASE, transport, fetch: (input, init) => SELF.fetch(new Request(input, init)) });
      const error = await c.register(uniqueEmail(), "x".repeat(MIN_PASSWORD_LENGTH - 1)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SessionClientError);
      expect((error as SessionClientError).code).toBe("invalid_request");
      expect((error as SessionClientError).status).toBe(400);
      expect((error as SessionClientError).message).toBe(`password must be at least ${MIN_PASSWORD_LENGTH} characters`);
    });
  }

  it("a refusal without a message keeps the code as its message", async () => {
    const c = createSessionClient({ baseUrl: BASE, fetch: (input, init) => SELF.fetch(new Request(input, init)) });
    const error = (await c.login(uniqueEmail(), "not the password at all").catch((e: unknown) => e)) as SessionClientError;
    expect(error.code).toBe("invalid_credentials");
    expect(error.message).toBe("invalid_credentials");
  });
});
