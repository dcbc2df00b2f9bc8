/** Network-LSA body (RFC 2328 A.4.3): Network Mask, then the attached routers' IDs. */
import { OspfDecodeError, readIp, writeIp } from '../ip.js';

export interface NetworkLsaBody {
  kind: 'network';
  mask: string;
  routers: string[];
}

export function decodeNetworkBody(b: Buffer): NetworkLsaBody {
  if (b.length < 4 || b.length % 4 !== 0) throw new OspfDecodeError('bad-lsa', 'network-LSA body length');
  const routers: string[] = [];
  for (let off = 4; off < b.length; off += 4) routers.push(readIp(b, off));
  return { kind: 'network', mask: readIp(b, 0), routers };
}

export function encodeNetworkBody(body: NetworkLsaBody): Buffer {
  const out = Buffer.alloc(4 + 4 * body.routers.length);
  writeIp(out, body.mask, 0);
  body.routers.forEach((r, i) => {
    writeIp(out, r, 4 + 4 * i);
  });
  return out;
}
