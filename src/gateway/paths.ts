/**
 * Which paths the gateway protects and proxies. Decisions use the pathname only, never the
 * query (an auth rule matched against path+query is how proxies get bypassed).
 *
 * `GATEWAY_PATHS`: comma-separated patterns; `/x` matches exactly, `/x/*` matches `/x` and
 * everything under it, `*` everything. Default: everything except the worker's own routes.
 */

/** The worker's own routes: never proxied, whatever GATEWAY_PATHS says. */
export const LOCAL_PREFIXES = ["/auth/", "/admin/"];
export const LOCAL_EXACT = ["/auth", "/admin", "/ws", "/health"];

export type PathMatcher = (pathname: string) => boolean;

export function isLocalPath(pathname: string): boolean {
  return LOCAL_EXACT.includes(pathname) || LOCAL_PREFIXES.some((p) => pathname.startsWith(p));
}

export function compilePaths(patterns: string[]): PathMatcher {
  const rules = patterns.length ? patterns : ["*"];
  const tests = rules.map((p): PathMatcher => {
    if (p === "*") return () => true;
    if (p.endsWith("/*")) {
      const base = p.slice(0, -2);
      return (path) => path === base || path.startsWith(base + "/");
    }
    return (path) => path === p;
  });
  return (pathname) => !isLocalPath(pathname) && tests.some((t) => t(pathname));
}
