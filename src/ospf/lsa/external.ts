/**
 * AS-external-LSA body (RFC 2328 A.4.5):
 *
 *   |                         Network Mask                          |
 *   |E|     0       |                  metric                       |
 *   |                      Forwarding address                       |
 *   |                      External Route Tag                       |
 *   (further TOS blocks of the same shape are ignored)
 */
import { OspfDecodeError, readIp, writeIp } from '../ip.js';

export interface ExternalLsaBody {
  kind: 'external';
  mask: string;
  /** 1 or 2: the E bit (RFC 2328 A.4.5) set means type 2. */
  metricType: 1 | 2;
  metric: number;
  forwardingAddress: string;
  tag: number;
}

export function decodeExternalBody(b: Buffer): ExternalLsaBody {
  if (b.length < 16) throw new OspfDecodeError('bad-lsa', 'AS-external-LSA body truncated');
  const w = b.readUInt32BE(4);
  return {
    kind: 'external',
    mask: readIp(b, 0),
    metricType: w & 0x80000000 ? 2 : 1,
    metric: w & 0xffffff,
    forwardingAddress: readIp(b, 8),
    tag: b.readUInt32BE(12),
  };
}

export function encodeExternalBody(body: ExternalLsaBody): Buffer {
  const out = Buffer.alloc(16);
  writeIp(out, body.mask, 0);
  out.writeUInt32BE(((body.metricType === 2 ? 0x80000000 : 0) | (body.metric & 0xffffff)) >>> 0, 4);
  writeIp(out, body.forwardingAddress, 8);
  out.writeUInt32BE(body.tag >>> 0, 12);
  return out;
}
