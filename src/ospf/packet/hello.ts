/**
 * Hello body (RFC 2328 A.3.2):
 *
 *   |                        Network Mask                           |
 *   |         HelloInterval         |    Options    |    Rtr Pri    |
 *   |                     RouterDeadInterval                        |
 *   |                      Designated Router                        |
 *   |                   Backup Designated Router                    |
 *   |                          Neighbor ... (to the packet length)  |
 */
import { OspfDecodeError, readIp, writeIp } from '../ip.js';

export interface HelloBody {
  kind: 'hello';
  mask: string;
  helloInterval: number;
  options: number;
  priority: number;
  deadInterval: number;
  dr: string;
  bdr: string;
  neighbors: string[];
}

export function decodeHello(b: Buffer): HelloBody {
  if (b.length < 20 || b.length % 4 !== 0) throw new OspfDecodeError('bad-length', 'Hello body length');
  const neighbors: string[] = [];
  for (let off = 20; off < b.length; off += 4) neighbors.push(readIp(b, off));
  return {
    kind: 'hello',
    mask: readIp(b, 0),
    helloInterval: b.readUInt16BE(4),
    options: b[6]!,
    priority: b[7]!,
    deadInterval: b.readUInt32BE(8),
    dr: readIp(b, 12),
    bdr: readIp(b, 16),
    neighbors,
  };
}

export function encodeHello(h: HelloBody): Buffer {
  const out = Buffer.alloc(20 + 4 * h.neighbors.length);
  writeIp(out, h.mask, 0);
  out.writeUInt16BE(h.helloInterval, 4);
  out[6] = h.options;
  out[7] = h.priority;
  out.writeUInt32BE(h.deadInterval, 8);
  writeIp(out, h.dr, 12);
  writeIp(out, h.bdr, 16);
  h.neighbors.forEach((n, i) => {
    writeIp(out, n, 20 + 4 * i);
  });
  return out;
}
