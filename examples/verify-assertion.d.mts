export interface ExpectedRequest {
  /** The request's method. */
  method: string;
  /** The request target as the origin received it: path and query (Node: `req.url`). */
  target: string;
  /** This origin's GATEWAY_AUDIENCE (by default the gateway's ORIGIN_URL origin). */
  audience: string;
  /** GATEWAY_ASSERTION_KEY. */
  key: string;
  /** @default Date.now() */
  nowMs?: number;
}

export interface VerifiedAssertion {
  user: string;
  roles: string[];
  sessionId: string;
  /** Unique per assertion: remember it until `expiresAt` to make assertions single-use. */
  jti: string;
  /** Seconds since the epoch. */
  expiresAt: number;
}

export function verifyAssertion(
  headers: Record<string, string | string[] | undefined> | Headers,
  expected: ExpectedRequest,
): VerifiedAssertion | null;
