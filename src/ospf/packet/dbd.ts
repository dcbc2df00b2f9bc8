/**
 * Database Description body (RFC 2328 A.3.3):
 *
 *   |         Interface MTU         |    Options    |0|0|0|0|0|I|M|MS
 *   |                     DD sequence number                        |
 *   |                  An LSA Header ... (to the packet length)     |
 */
import { OspfDecodeError } from '../ip.js';
import { decodeLsaHeader, encodeLsaHeader, LSA_HEADER_LEN, type LsaHeader } from '../lsa/header.js';

export interface DbDescriptionBody {
  kind: 'dd';
  mtu: number;
  options: number;
  flags: number;
  /** Unsigned 32-bit. */
  seq: number;
  headers: LsaHeader[];
}

export function decodeDbDescription(b: Buffer): DbDescriptionBody {
  if (b.length < 8 || (b.length - 8) % LSA_HEADER_LEN !== 0) {
    throw new OspfDecodeError('bad-length', 'DD body length');
  }
  const headers: LsaHeader[] = [];
  for (let off = 8; off < b.length; off += LSA_HEADER_LEN) headers.push(decodeLsaHeader(b, off));
  return {
    kind: 'dd',
    mtu: b.readUInt16BE(0),
    options: b[2]!,
    flags: b[3]!,
    seq: b.readUInt32BE(4),
    headers,
  };
}

export function encodeDbDescription(d: DbDescriptionBody): Buffer {
  const out = Buffer.alloc(8 + LSA_HEADER_LEN * d.headers.length);
  out.writeUInt16BE(d.mtu, 0);
  out[2] = d.options;
  out[3] = d.flags;
  out.writeUInt32BE(d.seq >>> 0, 4);
  d.headers.forEach((h, i) => {
    encodeLsaHeader(h, out, 8 + LSA_HEADER_LEN * i);
  });
  return out;
}
