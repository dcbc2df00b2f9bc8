/**
 * Which free block a node claims next: buddy-style, so a node's blocks aggregate.
 *
 * With blocks held, take the free block sharing the longest prefix with one of them (its buddy,
 * then its buddy's buddy...): four /26 claimed this way become one /24 announcement. Ties go to
 * the smallest free region (fill holes, keep big regions whole) and then the lowest address.
 * With no block held, take the first block of the largest free region, so each new node starts
 * where it has the most room to grow without interleaving with its neighbours.
 */
import { subtract } from '../net/aggregate.js';
import { addressBits, fromBigInt, makePrefix, type Prefix, toBigInt } from '../net/prefix.js';

function commonLength(a: bigint, b: bigint, bits: number): number {
  const x = a ^ b;
  return x === 0n ? bits : bits - x.toString(2).length;
}

/** Free space of a pool once `claimed` blocks are taken out, as aligned prefixes ≥ one block. */
export function freeSpace(
  pool: readonly Prefix[],
  claimed: readonly Prefix[],
  blockLength: number,
): Prefix[] {
  return subtract(pool, claimed).filter((p) => p.length <= blockLength);
}

export function chooseBlock(
  free: readonly Prefix[],
  blockLength: number,
  held: readonly Prefix[],
): Prefix | undefined {
  let best: Prefix | undefined;
  let bestScore = -1;
  const heldInts = held.map((h) => toBigInt(h.bytes));
  for (const f of free) {
    if (f.length > blockLength) continue;
    const bits = addressBits(f.family);
    const base = toBigInt(f.bytes);
    let score: number;
    if (heldInts.length > 0) {
      score = 0;
      for (const h of heldInts) score = Math.max(score, Math.min(commonLength(base, h, bits), f.length));
    } else score = bits - f.length; // bigger region first
    const better =
      score > bestScore ||
      (score === bestScore &&
        best !== undefined &&
        (heldInts.length > 0 && f.length !== best.length
          ? f.length > best.length
          : Buffer.compare(f.bytes, best.bytes) < 0));
    if (better) {
      best = f;
      bestScore = score;
    }
  }
  return best ? makePrefix(fromBigInt(toBigInt(best.bytes), best.family), blockLength) : undefined;
}
