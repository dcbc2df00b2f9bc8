/**
 * Summary-LSA body, types 3 and 4 (RFC 2328 A.4.4): Network Mask · 0 · metric24, then TOS entries
 * (ignored).
 */
import { OspfDecodeError, readIp, writeIp } from '../ip.js';

export interface SummaryLsaBody {
  kind: 'summary';
  mask: string;
  metric: number;
}

export function decodeSummaryBody(b: Buffer): SummaryLsaBody {
  if (b.length < 8) throw new OspfDecodeError('bad-lsa', 'summary-LSA body truncated');
  return { kind: 'summary', mask: readIp(b, 0), metric: b.readUInt32BE(4) & 0xffffff };
}

export function encodeSummaryBody(body: SummaryLsaBody): Buffer {
  const out = Buffer.alloc(8);
  writeIp(out, body.mask, 0);
  out.writeUInt32BE(body.metric & 0xffffff, 4);
  return out;
}
