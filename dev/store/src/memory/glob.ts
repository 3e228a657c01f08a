/** Redis `stringmatchlen`: glob-style matching on bytes (`*`, `?`, `[a-z]`, `[^x]`, `\x`). */
export function globMatch(pattern: string, subject: string): boolean {
  const p = Buffer.from(pattern);
  const s = Buffer.from(subject);
  const skip = { longer: false };
  return match(p, 0, s, 0, skip);
}

function match(p: Buffer, pi: number, s: Buffer, si: number, skip: { longer: boolean }): boolean {
  let plen = p.length - pi;
  let slen = s.length - si;
  while (plen > 0 && slen > 0) {
    switch (p[pi]) {
      case 0x2a /* * */: {
        while (plen > 1 && p[pi + 1] === 0x2a) {
          pi++;
          plen--;
        }
        if (plen === 1) return true;
        while (slen > 0) {
          if (match(p, pi + 1, s, si, skip)) return true;
          if (skip.longer) return false;
          si++;
          slen--;
        }
        skip.longer = true;
        return false;
      }
      case 0x3f /* ? */:
        si++;
        slen--;
        break;
      case 0x5b /* [ */: {
        pi++;
        plen--;
        const not = p[pi] === 0x5e;
        if (not) {
          pi++;
          plen--;
        }
        let matched = false;
        for (;;) {
          if (p[pi] === 0x5c && plen >= 2) {
            pi++;
            plen--;
            if (p[pi] === s[si]) matched = true;
          } else if (plen > 0 && p[pi] === 0x5d) {
            break;
          } else if (plen === 0) {
            pi--;
            plen++;
            break;
          } else if (plen >= 3 && p[pi + 1] === 0x2d) {
            let start = p[pi]!;
            let end = p[pi + 2]!;
            if (start > end) [start, end] = [end, start];
            pi += 2;
            plen -= 2;
            const c = s[si]!;
            if (c >= start && c <= end) matched = true;
          } else if (p[pi] === s[si]) {
            matched = true;
          }
          pi++;
          plen--;
        }
        if (not) matched = !matched;
        if (!matched) return false;
        si++;
        slen--;
        break;
      }
      case 0x5c /* \ */:
        if (plen >= 2) {
          pi++;
          plen--;
        }
      // falls through
      default:
        if (p[pi] !== s[si]) return false;
        si++;
        slen--;
        break;
    }
    pi++;
    plen--;
    if (slen === 0) {
      while (plen > 0 && p[pi] === 0x2a) {
        pi++;
        plen--;
      }
      break;
    }
  }
  return plen === 0 && slen === 0;
}
