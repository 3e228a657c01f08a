export function verifyAssertion(
  headers: Record<string, string | string[] | undefined>,
  method: string,
  path: string,
  key: string,
  nowMs?: number,
): { user: string; roles: string[]; sessionId: string } | null;
