/** Link State Request body (RFC 2328 A.3.4): repeated LS type32 · Link State ID · Advertising Router. */
import { OspfDecodeError, readIp, writeIp } from '../ip.js';

export interface LsRequestEntry {
  type: number;
  id: string;
  advRouter: string;
}

export interface LsRequestBody {
  kind: 'lsr';
  entries: LsRequestEntry[];
}

export function decodeLsRequest(b: Buffer): LsRequestBody {
  if (b.length % 12 !== 0) throw new OspfDecodeError('bad-length', 'LSR body length');
  const entries: LsRequestEntry[] = [];
  for (let off = 0; off < b.length; off += 12) {
    entries.push({ type: b.readUInt32BE(off), id: readIp(b, off + 4), advRouter: readIp(b, off + 8) });
  }
  return { kind: 'lsr', entries };
}

export function encodeLsRequest(r: LsRequestBody): Buffer {
  const out = Buffer.alloc(12 * r.entries.length);
  r.entries.forEach((e, i) => {
    out.writeUInt32BE(e.type, 12 * i);
    writeIp(out, e.id, 12 * i + 4);
    writeIp(out, e.advRouter, 12 * i + 8);
  });
  return out;
}
