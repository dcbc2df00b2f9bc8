/** Shared by the store conformance suite and its child claimer. */

/** The i-th /26 block of 198.18.0.0/15 (up to 2048 blocks). */
export function blockName(i: number): string {
  const n = (198 << 24) + (18 << 16) + i * 64;
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}/26`;
}
