/**
 * Sizes in bytes of listpack elements, as Redis' listpack.c encodes them. Redis closes a
 * stream's macro node once its listpack reaches `stream-node-max-bytes`, and approximate
 * trimming (`~`) removes whole nodes only; counting the same bytes puts the node boundaries
 * where Redis puts them, so `~` trims exactly as much as Redis does.
 */
import { parseInt64 } from "./numbers.ts";

/** Header (total bytes, element count) and the end byte of an empty listpack. */
export const LISTPACK_EMPTY_BYTES = 7;

/** Bytes of the back-length that follows an element whose encoding takes `len` bytes. */
function backlenBytes(len: number): number {
  if (len <= 127) return 1;
  if (len < 16383) return 2;
  if (len < 2097151) return 3;
  if (len < 268435455) return 4;
  return 5;
}

/** Encoding bytes of an integer (`lpEncodeIntegerGetType`). */
function intEncodingBytes(v: bigint): number {
  if (v >= 0n && v <= 127n) return 1;
  if (v >= -4096n && v <= 4095n) return 2;
  if (v >= -32768n && v <= 32767n) return 3;
  if (v >= -8388608n && v <= 8388607n) return 4;
  if (v >= -2147483648n && v <= 2147483647n) return 5;
  return 9;
}

/** An element appended with `lpAppendInteger` (a signed 64-bit value). */
export function intElementBytes(v: bigint | number): number {
  const enc = intEncodingBytes(BigInt.asIntN(64, BigInt(v)));
  return enc + backlenBytes(enc);
}

/** An element appended with `lpAppend`: stored as an integer when it reads as one. */
export function stringElementBytes(s: string): number {
  const size = Buffer.byteLength(s);
  // lpStringToInt64 takes the same canonical forms as string2ll, up to 20 characters.
  const asInt = size < 21 ? parseInt64(s) : null;
  const enc = asInt !== null ? intEncodingBytes(asInt) : size < 64 ? 1 + size : size < 4096 ? 2 + size : 5 + size;
  return enc + backlenBytes(enc);
}
