/** Link State Acknowledgment body (RFC 2328 A.3.6): LSA headers to the packet length. */
import { OspfDecodeError } from '../ip.js';
import { decodeLsaHeader, encodeLsaHeader, LSA_HEADER_LEN, type LsaHeader } from '../lsa/header.js';

export interface LsAckBody {
  kind: 'ack';
  headers: LsaHeader[];
}

export function decodeLsAck(b: Buffer): LsAckBody {
  if (b.length % LSA_HEADER_LEN !== 0) throw new OspfDecodeError('bad-length', 'LSAck body length');
  const headers: LsaHeader[] = [];
  for (let off = 0; off < b.length; off += LSA_HEADER_LEN) headers.push(decodeLsaHeader(b, off));
  return { kind: 'ack', headers };
}

export function encodeLsAck(a: LsAckBody): Buffer {
  const out = Buffer.alloc(LSA_HEADER_LEN * a.headers.length);
  a.headers.forEach((h, i) => {
    encodeLsaHeader(h, out, LSA_HEADER_LEN * i);
  });
  return out;
}
