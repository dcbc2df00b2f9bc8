/** Dotted-quad helpers: OSPF identifiers (router, area, link state IDs) are 32-bit values shown as IPv4. */

export class OspfDecodeError extends Error {
  constructor(
    /** Stable reason, used as the drop counter key. */
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

export function ipToNum(ip: string): number {
  const p = ip.split('.');
  return ((Number(p[0]) << 24) | (Number(p[1]) << 16) | (Number(p[2]) << 8) | Number(p[3])) >>> 0;
}

export function numToIp(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

export function readIp(buf: Buffer, off: number): string {
  return `${buf[off]}.${buf[off + 1]}.${buf[off + 2]}.${buf[off + 3]}`;
}

export function writeIp(buf: Buffer, ip: string, off: number): void {
  buf.writeUInt32BE(ipToNum(ip), off);
}

/** Prefix length of a contiguous netmask, or -1 when the mask has holes. */
export function maskLength(mask: string): number {
  const n = ipToNum(mask);
  let bits = 0;
  while (bits < 32 && n & (0x80000000 >>> bits)) bits++;
  return (n << bits) >>> 0 === 0 ? bits : -1;
}

export function lengthToMask(len: number): string {
  return numToIp(len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0);
}

/** Compares two dotted quads as unsigned 32-bit numbers. */
export function compareIp(a: string, b: string): number {
  return ipToNum(a) - ipToNum(b);
}
