/**
 * RTA_MULTIPATH codec. netlink 0.3.0 passes the attribute as an opaque Buffer both ways
 * (it does not parse it), so the array of `struct rtnexthop` is built and parsed here.
 *
 * Layout (include/uapi/linux/rtnetlink.h, host byte order, each entry padded to 4 bytes):
 *
 *   0      2        3       4            8
 *   +------+--------+-------+------------+---------------------------------------+
 *   | len  | flags  | hops  | ifindex    | nested rtattrs (RTA_GATEWAY = 5, ...)  |
 *   | u16  | u8     | u8    | i32        | len u16, type u16, address (net order) |
 *   +------+--------+-------+------------+---------------------------------------+
 *
 * `hops` is the weight minus one; podroute programs equal weights (ECMP).
 */
import { endianness } from 'node:os';
import { formatAddress, parseAddress } from '../net/prefix.js';
import type { NextHop } from './route.js';

export const RTA_GATEWAY = 5;
export const RTNH_F_ONLINK = 4;
const RTNH_HDRLEN = 8;
const RTA_HDRLEN = 4;

const LE = endianness() === 'LE';

const align4 = (n: number): number => (n + 3) & ~3;

export class MultipathError extends Error {
  override name = 'MultipathError';
}

export function encodeMultipath(hops: readonly NextHop[]): Buffer {
  const parts = hops.map((h) => {
    const gw = parseAddress(h.gateway);
    const attrLen = RTA_HDRLEN + gw.length;
    const len = RTNH_HDRLEN + attrLen;
    const b = Buffer.alloc(align4(len));
    writeU16(b, len, 0);
    b.writeUInt8(h.onlink ? RTNH_F_ONLINK : 0, 2);
    b.writeUInt8(0, 3);
    writeI32(b, h.ifindex, 4);
    writeU16(b, attrLen, 8);
    writeU16(b, RTA_GATEWAY, 10);
    gw.copy(b, 12);
    return b;
  });
  return Buffer.concat(parts);
}

/** Next hops with a gateway; entries without one (device-only paths) cannot be ours and are dropped. */
export function decodeMultipath(buf: Buffer): NextHop[] {
  const out: NextHop[] = [];
  let off = 0;
  while (off + RTNH_HDRLEN <= buf.length) {
    const len = readU16(buf, off);
    if (len < RTNH_HDRLEN || off + len > buf.length) {
      throw new MultipathError(`rtnexthop length ${len} at offset ${off} exceeds ${buf.length} bytes`);
    }
    const flags = buf.readUInt8(off + 2);
    const ifindex = readI32(buf, off + 4);
    let gateway: string | undefined;
    let a = off + RTNH_HDRLEN;
    const end = off + len;
    while (a + RTA_HDRLEN <= end) {
      const alen = readU16(buf, a);
      const atype = readU16(buf, a + 2) & 0x3fff; // strip NLA_F_NESTED / NLA_F_NET_BYTEORDER
      if (alen < RTA_HDRLEN || a + alen > end) {
        throw new MultipathError(`rtattr length ${alen} at offset ${a} overruns its rtnexthop`);
      }
      const value = buf.subarray(a + RTA_HDRLEN, a + alen);
      if (atype === RTA_GATEWAY && (value.length === 4 || value.length === 16)) {
        gateway = formatAddress(Buffer.from(value));
      }
      a += align4(alen);
    }
    if (gateway !== undefined) {
      const hop: NextHop =
        (flags & RTNH_F_ONLINK) !== 0 ? { gateway, ifindex, onlink: true } : { gateway, ifindex };
      out.push(hop);
    }
    off += align4(len);
  }
  return out;
}

function writeU16(b: Buffer, v: number, off: number): void {
  if (LE) b.writeUInt16LE(v, off);
  else b.writeUInt16BE(v, off);
}
function writeI32(b: Buffer, v: number, off: number): void {
  if (LE) b.writeInt32LE(v, off);
  else b.writeInt32BE(v, off);
}
function readU16(b: Buffer, off: number): number {
  return LE ? b.readUInt16LE(off) : b.readUInt16BE(off);
}
function readI32(b: Buffer, off: number): number {
  return LE ? b.readInt32LE(off) : b.readInt32BE(off);
}
