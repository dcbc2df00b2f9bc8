/**
 * The two checksums of OSPFv2.
 *
 * - Packets: the Internet checksum (RFC 1071) over the whole packet with the 8-byte Authentication
 *   field left out of the sum (RFC 2328 D.4.1/D.4.2, as zeroes); not used with cryptographic
 *   authentication (D.4.3, checksum field is 0).
 * - LSAs: the Fletcher checksum of ISO 8473 / RFC 905 Annex B over the LSA without its age field,
 *   stored at offset 16 of the LSA header (RFC 2328 12.1.7).
 */

/** RFC 1071 one's-complement sum of 16-bit words, complemented. */
export function internetChecksum(buf: Buffer): number {
  let sum = 0;
  const even = buf.length & ~1;
  for (let i = 0; i < even; i += 2) sum += buf.readUInt16BE(i);
  if (buf.length & 1) sum += buf[buf.length - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** Packet checksum: the Internet checksum with bytes 16..23 (Authentication) treated as zero. */
export function packetChecksum(packet: Buffer): number {
  const copy = Buffer.from(packet);
  copy.fill(0, 16, 24);
  copy.writeUInt16BE(0, 12);
  return internetChecksum(copy);
}

const LSA_CKSUM_OFFSET = 16;

/**
 * Computes the Fletcher checksum for a whole LSA (header included) and returns the 16-bit value to
 * store at offset 16. The sum starts after the 2-byte age (RFC 2328 12.1.7), so the checksum
 * position within the summed range is 14 (the RFC 905 "n" is 15, 1-based).
 */
export function lsaChecksum(lsa: Buffer): number {
  const data = lsa.subarray(2);
  const pos = LSA_CKSUM_OFFSET - 2;
  let c0 = 0;
  let c1 = 0;
  for (let i = 0; i < data.length; i++) {
    // The checksum bytes count as zero while computing.
    const b = i === pos || i === pos + 1 ? 0 : data[i]!;
    c0 = (c0 + b) % 255;
    c1 = (c1 + c0) % 255;
  }
  // RFC 905 B.4: X and Y make both running sums zero over the checksummed range.
  const mul = (data.length - pos - 1) * c0;
  let x = (mul - c1) % 255;
  if (x <= 0) x += 255;
  let y = 510 - c0 - x;
  if (y > 255) y -= 255;
  return ((x & 0xff) << 8) | (y & 0xff);
}

/** RFC 905 B.3 verification: both running sums from byte 2 to the end come out zero. */
export function lsaChecksumValid(lsa: Buffer): boolean {
  if (lsa.length < 20) return false;
  // A zero checksum field means "not computed" in ISO 8473; OSPF always computes it.
  if (lsa.readUInt16BE(LSA_CKSUM_OFFSET) === 0) return false;
  let c0 = 0;
  let c1 = 0;
  for (let i = 2; i < lsa.length; i++) {
    c0 = (c0 + lsa[i]!) % 255;
    c1 = (c1 + c0) % 255;
  }
  return c0 === 0 && c1 === 0;
}
