/**
 * Reads the UDP datagrams of a tcpdump capture (pcap, Ethernet link type) for BFD assertions:
 * tcpdump takes a source port of 49152 for a Broadcom shim header and does not decode those BFD
 * packets, so tests look at the bytes themselves.
 */
import { readFileSync } from 'node:fs';
import { formatAddress } from '../../src/net/prefix.js';

export interface CapturedUdp {
  src: string;
  dst: string;
  sport: number;
  dport: number;
  /** IPv4 TTL or IPv6 Hop Limit as seen on the wire. */
  ttl: number;
  payload: Buffer;
}

export function readPcapUdp(path: string): CapturedUdp[] {
  const f = readFileSync(path);
  if (f.length < 24) return [];
  const le = f.readUInt32LE(0) === 0xa1b2c3d4 || f.readUInt32LE(0) === 0xa1b23c4d;
  const u32 = (o: number) => (le ? f.readUInt32LE(o) : f.readUInt32BE(o));
  if (u32(20) !== 1) throw new Error(`pcap link type ${u32(20)}, expected Ethernet`);
  const out: CapturedUdp[] = [];
  for (let off = 24; off + 16 <= f.length; ) {
    const caplen = u32(off + 8);
    const frame = f.subarray(off + 16, off + 16 + caplen);
    off += 16 + caplen;
    if (frame.length < 14) continue;
    const type = frame.readUInt16BE(12);
    const ip = frame.subarray(14);
    let udp: Buffer;
    let ttl: number;
    let src: string;
    let dst: string;
    if (type === 0x0800 && ip.length >= 20 && ip[9] === 17) {
      const ihl = (ip[0]! & 0x0f) * 4;
      ttl = ip[8]!;
      src = formatAddress(ip.subarray(12, 16));
      dst = formatAddress(ip.subarray(16, 20));
      udp = ip.subarray(ihl);
    } else if (type === 0x86dd && ip.length >= 40 && ip[6] === 17) {
      ttl = ip[7]!;
      src = formatAddress(ip.subarray(8, 24));
      dst = formatAddress(ip.subarray(24, 40));
      udp = ip.subarray(40);
    } else {
      continue;
    }
    if (udp.length < 8) continue;
    out.push({
      src,
      dst,
      sport: udp.readUInt16BE(0),
      dport: udp.readUInt16BE(2),
      ttl,
      payload: udp.subarray(8, udp.readUInt16BE(4)),
    });
  }
  return out;
}
