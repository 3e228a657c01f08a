/**
 * A short, human label for a User-Agent ("Chrome 136 on macOS"), stored in the session record
 * instead of the raw header. Why: the session list (ASVS 7.5.2) needs to tell devices apart, not
 * to keep a 120-character header, and every stored byte is paid for once per live session in
 * Redis. A few ordered patterns cover the browsers and tools people sign in with; anything else
 * keeps its first product token ("TestBrowser/1.0"). Pure and bounded: the input is cut before
 * any pattern runs, the output never exceeds MAX_DEVICE characters.
 */

/** Longest label stored. */
export const MAX_DEVICE = 40;
/** Only the head of a User-Agent is examined (the header itself may be kilobytes). */
const MAX_INSPECTED = 512;

// Order matters: Edge and Opera also say "Chrome"; Chrome also says "Safari".
const BROWSERS: readonly [RegExp, string][] = [
  [/\bEdg(?:e|A|iOS)?\/(\d+)/, "Edge"],
  [/\bOPR\/(\d+)/, "Opera"],
  [/\bFirefox\/(\d+)/, "Firefox"],
  [/\bFxiOS\/(\d+)/, "Firefox"],
  [/\bCriOS\/(\d+)/, "Chrome"],
  [/\bHeadlessChrome\/(\d+)/, "Headless Chrome"],
  [/\bChrom(?:e|ium)\/(\d+)/, "Chrome"],
  [/\bVersion\/(\d+)[\d.]* (?:Mobile\/\S+ )?Safari\//, "Safari"],
  [/^curl\/(\d+(?:\.\d+)?)/, "curl"],
  [/^(?:node|undici)\b/i, "Node.js"],
];

const SYSTEMS: readonly [RegExp, string][] = [
  [/Windows/, "Windows"],
  [/Android/, "Android"],
  [/iPhone|iPad|iPod/, "iOS"],
  [/Mac OS X|Macintosh/, "macOS"],
  [/CrOS/, "ChromeOS"],
  [/Linux/, "Linux"],
];

export function describeDevice(userAgent: string | null | undefined): string {
  const ua = (userAgent ?? "").slice(0, MAX_INSPECTED).trim();
  if (!ua) return "";
  let browser: string | undefined;
  for (const [pattern, name] of BROWSERS) {
    const m = pattern.exec(ua);
    if (m) {
      browser = m[1] ? `${name} ${m[1]}` : name;
      break;
    }
  }
  if (!browser) return (ua.split(/\s/, 1)[0] ?? "").slice(0, MAX_DEVICE);
  const system = SYSTEMS.find(([pattern]) => pattern.test(ua))?.[1];
  return (system ? `${browser} on ${system}` : browser).slice(0, MAX_DEVICE);
}
