/**
 * Router-LSA body (RFC 2328 A.4.2):
 *
 *   |    0    |V|E|B|        0      |            # links            |
 *   |                          Link ID                              |
 *   |                         Link Data                             |
 *   |     Type      |     # TOS     |            metric             |
 *   (# TOS entries of TOS 8 · 0 8 · metric 16, skipped: RFC 2328 dropped TOS routing)
 */
import { OspfDecodeError, readIp, writeIp } from '../ip.js';

export interface RouterLink {
  linkId: string;
  linkData: string;
  type: number;
  metric: number;
}

export interface RouterLsaBody {
  kind: 'router';
  /** V=4, E=2, B=1 */
  flags: number;
  links: RouterLink[];
}

export function decodeRouterBody(b: Buffer): RouterLsaBody {
  if (b.length < 4) throw new OspfDecodeError('bad-lsa', 'router-LSA body truncated');
  const count = b.readUInt16BE(2);
  const links: RouterLink[] = [];
  let off = 4;
  for (let i = 0; i < count; i++) {
    if (off + 12 > b.length) throw new OspfDecodeError('bad-lsa', 'router-LSA link truncated');
    const tos = b[off + 9]!;
    links.push({
      linkId: readIp(b, off),
      linkData: readIp(b, off + 4),
      type: b[off + 8]!,
      metric: b.readUInt16BE(off + 10),
    });
    off += 12 + 4 * tos;
  }
  if (off > b.length) throw new OspfDecodeError('bad-lsa', 'router-LSA TOS entries truncated');
  return { kind: 'router', flags: b[0]!, links };
}

export function encodeRouterBody(body: RouterLsaBody): Buffer {
  const out = Buffer.alloc(4 + 12 * body.links.length);
  out[0] = body.flags;
  out.writeUInt16BE(body.links.length, 2);
  body.links.forEach((l, i) => {
    const off = 4 + 12 * i;
    writeIp(out, l.linkId, off);
    writeIp(out, l.linkData, off + 4);
    out[off + 8] = l.type;
    out[off + 9] = 0;
    out.writeUInt16BE(l.metric, off + 10);
  });
  return out;
}
