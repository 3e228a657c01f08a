import { describe, expect, it } from "vitest";
import { forwardHeaders, isStripped, setForwarding } from "../../src/gateway/forward-headers.js";

describe("forwardHeaders", () => {
  it("keeps ordinary end-to-end headers", () => {
    const out = forwardHeaders(new Headers({ Accept: "application/json", "Content-Type": "text/plain", Cookie: "a=1", "X-Request-Id": "r1", "User-Agent": "t" }));
    expect([...out.keys()].sort()).toEqual(["accept", "content-type", "cookie", "user-agent", "x-request-id"]);
  });

  it("drops Authorization unless asked to keep it", () => {
    const h = new Headers({ Authorization: "Bearer x" });
    expect(forwardHeaders(h).has("authorization")).toBe(false);
    expect(forwardHeaders(h, { forwardAuthorization: true }).get("authorization")).toBe("Bearer x");
  });
});

describe("attack: header spellings a CGI-style origin maps onto X-Session-*", () => {
  it.each(["X_Session_User", "x_session_roles", "X-Session_User", "X_SESSION-ID", "X-Session-User", "x-session-assertion", "X-SESSION-ROLES", "X-Sessionx", "Any_Name", "Accept_Language"])("%s is stripped", (name) => {
    expect(isStripped(name)).toBe(true);
    expect(forwardHeaders(new Headers([[name, "admin"]])).has(name)).toBe(false);
  });
});

describe("attack: client-supplied proxy headers and Connection-named headers", () => {
  it.each([
    "Forwarded",
    "X-Forwarded-For",
    "X-Forwarded-Host",
    "X-Forwarded-Proto",
    "X-Forwarded-Prefix",
    "X-Real-IP",
    "X-Original-URL",
    "X-Rewrite-URL",
    "Remote-User",
    "X-Remote-User",
    "Proxy-Connection",
    "Keep-Alive",
    "TE",
    "Trailer",
    "Transfer-Encoding",
    "Upgrade",
    "Proxy-Authorization",
    "X-HTTP-Method-Override",
    "True-Client-IP",
    "Host",
  ])("%s is stripped", (name) => {
    expect(forwardHeaders(new Headers([[name, "x"]])).has(name)).toBe(false);
  });

  it("every header named in Connection (and Proxy-Connection) is stripped, whatever its case", () => {
    const out = forwardHeaders(new Headers({ Connection: "close, X-Drop-One , x-DROP-two", "Proxy-Connection": "X-Drop-Three", "X-Drop-One": "1", "X-Drop-Two": "2", "X-Drop-Three": "3", "X-Keep": "k" }));
    expect([...out.keys()]).toEqual(["x-keep"]);
  });

  it("the forwarding headers are set from what the gateway saw, IPv6 quoted in Forwarded", () => {
    const h = new Headers();
    setForwarding(h, { clientAddress: "2001:db8::1", host: "app.example", proto: "https" });
    expect(h.get("forwarded")).toBe('for="[2001:db8::1]";host="app.example";proto=https');
    expect(h.get("x-forwarded-for")).toBe("2001:db8::1");
    const none = new Headers();
    setForwarding(none, { clientAddress: null, host: "app.example", proto: "https" });
    expect(none.has("x-forwarded-for")).toBe(false);
    expect(none.get("forwarded")).toBe('host="app.example";proto=https');
  });
});
