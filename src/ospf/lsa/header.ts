/**
 * LSA header (RFC 2328 A.4.1), 20 bytes:
 *
 *   0                   1                   2                   3
 *   |            LS age             |    Options    |    LS type    |
 *   |                        Link State ID                          |
 *   |                     Advertising Router                        |
 *   |                     LS sequence number                        |
 *   |         LS checksum           |             length            |
 */
import { OspfDecodeError, readIp, writeIp } from '../ip.js';

export const LSA_HEADER_LEN = 20;

export interface LsaHeader {
  age: number;
  options: number;
  type: number;
  id: string;
  advRouter: string;
  /** Signed 32-bit (RFC 2328 12.1.6). */
  seq: number;
  checksum: number;
  length: number;
}

/** The identity of an LSA instance-independent (RFC 2328 12.1). */
export function lsaKey(h: { type: number; id: string; advRouter: string }): string {
  return `${h.type}/${h.id}/${h.advRouter}`;
}

export function decodeLsaHeader(buf: Buffer, off = 0): LsaHeader {
  if (buf.length - off < LSA_HEADER_LEN) throw new OspfDecodeError('short-lsa', 'LSA header truncated');
  return {
    age: buf.readUInt16BE(off),
    options: buf[off + 2]!,
    type: buf[off + 3]!,
    id: readIp(buf, off + 4),
    advRouter: readIp(buf, off + 8),
    seq: buf.readInt32BE(off + 12),
    checksum: buf.readUInt16BE(off + 16),
    length: buf.readUInt16BE(off + 18),
  };
}

export function encodeLsaHeader(h: LsaHeader, out: Buffer = Buffer.alloc(LSA_HEADER_LEN), off = 0): Buffer {
  out.writeUInt16BE(h.age, off);
  out[off + 2] = h.options;
  out[off + 3] = h.type;
  writeIp(out, h.id, off + 4);
  writeIp(out, h.advRouter, off + 8);
  out.writeInt32BE(h.seq, off + 12);
  out.writeUInt16BE(h.checksum, off + 16);
  out.writeUInt16BE(h.length, off + 18);
  return out;
}
