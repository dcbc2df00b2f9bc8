/**
 * The synthetic full table the feeder sends: `count` distinct IPv4 prefixes of lengths /24 to /32,
 * a new AS_PATH every `perPath` prefixes, encoded ahead of time into UPDATEs (RFC 4271 4.3) that
 * each carry one path and its prefixes, and concatenated into large write chunks so that sending
 * costs the feeder nothing but `write()` calls.
 *
 * Address space: 100.64.0.0/10 (RFC 6598 shared address space, never routed on the Internet).
 * The test ranges (198.18.0.0/15) hold only 262,143 distinct prefixes of /15../32, fewer than a
 * full table; these prefixes stay data inside the lab's namespaces: no speaker under test programs
 * them into a kernel (podroute keeps received routes in its Adj-RIB-In only, BIRD runs with no
 * kernel protocol, GoBGP has no zebra connection).
 */
import { encodeMessage, endOfRib, SegmentType, type UpdateMessage } from '../../src/bgp/message/index.js';
import type { Prefix } from '../../src/net/prefix.js';

export const TABLE_BASE = 0x64400000; // 100.64.0.0
export const TABLE_BITS = 10;

export interface TableOptions {
  count: number;
  perPath: number;
  /** The feeder's ASN: first on every AS_PATH (eBGP, RFC 4271 5.1.2). */
  asn: number;
  nextHop: string;
  /** Bytes per write chunk; UPDATEs are never split across chunks. */
  chunkBytes?: number;
}

export interface Table {
  chunks: Buffer[];
  updates: number;
  prefixes: number;
  bytes: number;
  paths: number;
  endOfRib: Buffer;
}

/**
 * The i-th prefix: /24 blocks one after another, and in each block its /24, two /25s, ..., 256 /32s
 * (511 prefixes per block), so lengths and nesting look like a routing table rather than a list.
 */
export function* prefixes(count: number): Generator<Prefix> {
  let n = 0;
  for (let block = 0; ; block++) {
    const base = TABLE_BASE + block * 256;
    if (block * 256 >= 2 ** (32 - TABLE_BITS))
      throw new Error(`${count} prefixes do not fit in 100.64.0.0/10`);
    for (let len = 24; len <= 32; len++) {
      const step = 2 ** (32 - len);
      for (let off = 0; off < 256; off += step) {
        if (n++ >= count) return;
        const bytes = Buffer.alloc(4);
        bytes.writeUInt32BE(base + off);
        yield { family: 4, bytes, length: len };
      }
    }
  }
}

export function buildTable(opts: TableOptions): Table {
  const ctx = { fourOctetAs: true };
  const chunkBytes = opts.chunkBytes ?? 256 * 1024;
  const chunks: Buffer[] = [];
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let updates = 0;
  let bytes = 0;
  let paths = 0;
  let group: Prefix[] = [];
  const flush = (): void => {
    if (pending.length) chunks.push(Buffer.concat(pending, pendingBytes));
    pending = [];
    pendingBytes = 0;
  };
  const emit = (): void => {
    if (!group.length) return;
    // A distinct second AS per group: 4-octet ASNs from 100000 up, so every path differs.
    const msg: UpdateMessage = {
      type: 2,
      withdrawn: [],
      attributes: {
        origin: 0,
        asPath: [{ type: SegmentType.AsSequence, asns: [opts.asn, 100_000 + paths] }],
        nextHop: opts.nextHop,
      },
      nlri: group,
    };
    const buf = encodeMessage(msg, ctx);
    paths++;
    updates++;
    bytes += buf.length;
    if (pendingBytes + buf.length > chunkBytes) flush();
    pending.push(buf);
    pendingBytes += buf.length;
    group = [];
  };
  let total = 0;
  for (const p of prefixes(opts.count)) {
    group.push(p);
    total++;
    if (group.length === opts.perPath) emit();
  }
  emit();
  flush();
  return {
    chunks,
    updates,
    prefixes: total,
    bytes,
    paths,
    endOfRib: encodeMessage(endOfRib(1, 1), ctx),
  };
}
