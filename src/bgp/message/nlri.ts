/**
 * NLRI prefixes (RFC 4271 4.3, RFC 4760 5): a length octet, then the fewest octets that hold that
 * many bits. Used for the legacy Withdrawn Routes and NLRI fields and inside MP_(UN)REACH_NLRI.
 *
 * This is the full-table hot path, so decoding validates in one pass, then copies every prefix's
 * bytes into a single buffer per field and hands out views of it: one allocation per field
 * plus one view and one Prefix object per prefix, no per-byte slicing, and no reference kept to
 * the (possibly large) input buffer.
 */
import type { Family, Prefix } from '../../net/prefix.js';
import type { ByteWriter } from './writer.js';

/** Decodes the prefixes in buf[start, end); returns the reason text if the field is malformed. */
export function decodePrefixes(buf: Buffer, start: number, end: number, family: Family): Prefix[] | string {
  const maxBits = family === 4 ? 32 : 128;
  const size = family === 4 ? 4 : 16;
  // Pass 1: RFC 7606 5.3 syntax (length <= maxBits, no overrun) and count.
  let count = 0;
  for (let p = start; p < end; ) {
    const bits = buf[p]!;
    if (bits > maxBits) return `prefix length ${bits} exceeds ${maxBits}`;
    p += 1 + ((bits + 7) >> 3);
    if (p > end) return `prefix /${bits} overruns the field`;
    count++;
  }
  const out: Prefix[] = new Array(count);
  if (count === 0) return out;
  // allocUnsafe takes small sizes from Node's shared pool; every byte is written below.
  const store = Buffer.allocUnsafe(count * size);
  let p = start;
  for (let i = 0; i < count; i++) {
    const bits = buf[p]!;
    const n = (bits + 7) >> 3;
    const at = i * size;
    for (let k = 0; k < n; k++) store[at + k] = buf[p + 1 + k]!;
    for (let k = n; k < size; k++) store[at + k] = 0;
    // Trailing bits past the length are irrelevant (RFC 4271 4.3): zero them, as Prefix requires.
    if (bits & 7) store[at + n - 1] = store[at + n - 1]! & (0xff << (8 - (bits & 7)));
    out[i] = { family, bytes: store.subarray(at, at + size), length: bits };
    p += 1 + n;
  }
  return out;
}

/** Writes prefixes; throws a plain Error for a prefix of the wrong family. */
export function encodePrefixes(w: ByteWriter, prefixes: readonly Prefix[], family: Family): void {
  for (const prefix of prefixes) {
    if (prefix.family !== family) {
      throw new Error(`IPv${prefix.family} prefix in an IPv${family} NLRI field`);
    }
    const n = (prefix.length + 7) >> 3;
    w.u8(prefix.length).bytes(prefix.bytes.subarray(0, n));
  }
}

/** Octets `prefixes` take on the wire. */
export function prefixesLength(prefixes: readonly Prefix[]): number {
  let n = 0;
  for (const p of prefixes) n += 1 + ((p.length + 7) >> 3);
  return n;
}
