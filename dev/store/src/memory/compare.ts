/**
 * Byte-wise (memcmp on UTF-8) ordering of JS strings, as Redis orders sorted-set members
 * and lex ranges. UTF-16 order differs from UTF-8 order only between surrogates (code points
 * above U+FFFF) and U+E000..U+FFFF, which this corrects.
 */
export function compareBytes(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let ca = a.charCodeAt(i);
    let cb = b.charCodeAt(i);
    if (ca !== cb) {
      if (ca >= 0xd800 && cb >= 0xd800) {
        ca = ca <= 0xdfff ? ca + 0x2000 : ca - 0x800;
        cb = cb <= 0xdfff ? cb + 0x2000 : cb - 0x800;
      }
      return ca < cb ? -1 : 1;
    }
  }
  return a.length < b.length ? -1 : 1;
}

/** Length in bytes, as Redis counts it (STRLEN, APPEND). */
export const byteLength = (s: string): number => Buffer.byteLength(s, "utf8");
