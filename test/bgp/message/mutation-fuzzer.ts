/**
 * A seeded mutation fuzzer for the BGP codecs (RFC 4271 4: OPEN, UPDATE, NOTIFICATION, KEEPALIVE;
 * RFC 2918 ROUTE-REFRESH; RFC 5492 capabilities): valid seed messages per message type (built with
 * our encoder, one per path attribute type, plus the real daemons' messages of
 * captured-vectors.test.ts and exabgp-vectors.test.ts) are mutated by bit flips, byte changes,
 * truncation, extension, length-field edits and splices with other seeds, then decoded. The only
 * exception a decoder may throw is BgpDecodeError (the NOTIFICATION it names); anything else is
 * a crash. Time per input is measured to find hangs. Used by bench/fuzz-bgp.ts (millions of
 * inputs) and fuzz-slice.test.ts (a CI-sized slice).
 */
import { readFileSync } from 'node:fs';
import {
  BgpDecodeError,
  type CodecContext,
  decodeMessage,
  encodeMessage,
  type Message,
  MessageReader,
} from '../../../src/bgp/message/index.js';
import { parsePrefix } from '../../../src/net/prefix.js';

/** mulberry32: small, fast, and the same sequence for the same seed on every machine. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const P = parsePrefix;
const AS4 = { fourOctetAs: true };
const AS2 = { fourOctetAs: false };
const base = { origin: 0, asPath: [{ type: 2, asns: [65001, 4200000000] }], nextHop: '198.18.0.2' } as const;
const upd = (attributes: object, nlri = [P('198.19.1.0/24')], withdrawn = [P('198.19.9.0/24')]): Message =>
  ({ type: 2, withdrawn, attributes, nlri }) as Message;
const open = (capabilities: object[]): Message =>
  ({ type: 1, version: 4, myAs: 23456, holdTime: 90, bgpId: '198.18.0.2', capabilities }) as Message;

/** The message types fuzzed, each with its valid seeds. */
function builtSeeds(): Record<string, Message[]> {
  return {
    open: [
      open([]),
      open([
        { code: 1, afi: 1, safi: 1 },
        { code: 65, asn: 4200000000 },
      ]),
    ],
    capabilities: [
      open([{ code: 1, afi: 2, safi: 1 }]),
      open([{ code: 2 }]),
      open([{ code: 65, asn: 65001 }]),
      open([
        {
          code: 64,
          restarting: true,
          notification: true,
          restartTime: 120,
          families: [
            { afi: 1, safi: 1, forwardingPreserved: true },
            { afi: 2, safi: 1, forwardingPreserved: false },
          ],
        },
      ]),
      open([
        { code: 70, value: Buffer.alloc(0), unknown: true },
        { code: 69, value: Buffer.from([0, 1, 1, 3]), unknown: true },
      ]),
    ],
    update: [
      upd(base),
      upd({ ...base, med: 10, localPref: 100 }),
      upd({ ...base, atomicAggregate: true, aggregator: { asn: 4200000000, address: '198.18.0.9' } }),
      upd({
        ...base,
        asPath: [
          { type: 1, asns: [1, 2, 3] },
          { type: 3, asns: [7] },
          { type: 4, asns: [8, 9] },
        ],
      }),
      upd({ ...base, unknown: [{ flags: 0xc0, type: 99, value: Buffer.from('abcd') }] }),
      upd({}, [], [P('198.19.1.0/24'), P('198.18.0.0/15')]),
      upd({}, [], []),
    ],
    communities: [
      upd({ ...base, communities: [0xfde90064, 0xffff0000, 0xffffff01] }),
      upd({ ...base, largeCommunities: [{ globalAdmin: 65001, localData1: 1, localData2: 1 }] }),
      upd({
        ...base,
        communities: Array.from({ length: 70 }, (_, i) => i),
        largeCommunities: [{ globalAdmin: 1, localData1: 2, localData2: 3 }],
      }),
    ],
    mpReach: [
      upd(
        {
          ...base,
          nextHop: undefined,
          mpReach: {
            afi: 2,
            safi: 1,
            nextHop: '2001:db8::2',
            linkLocalNextHop: 'fe80::2',
            nlri: [P('2001:db8:1::/48')],
          },
        },
        [],
        [],
      ),
      upd({ mpUnreach: { afi: 2, safi: 1, withdrawn: [P('2001:db8:1::/48'), P('::/0')] } }, [], []),
      upd({ mpUnreach: { afi: 2, safi: 1, withdrawn: [] } }, [], []),
    ],
    notification: [
      {
        type: 3,
        code: 6,
        subcode: 2,
        data: Buffer.from('\x07goodbye'),
        shutdownMessage: 'goodbye',
      } as Message,
      { type: 3, code: 2, subcode: 2, data: Buffer.from([0xfd, 0xe9]) } as Message,
      { type: 3, code: 8, subcode: 0, data: Buffer.alloc(0) } as Message,
    ],
    keepalive: [{ type: 4 } as Message],
    routeRefresh: [
      { type: 5, afi: 1, safi: 1, subtype: 0 } as Message,
      { type: 5, afi: 2, safi: 1, subtype: 2 } as Message,
    ],
  };
}

/** The real daemons' messages kept as hex in the vector tests of this folder. */
function capturedVectors(): Buffer[] {
  const out: Buffer[] = [];
  const dir = new URL('.', import.meta.url);
  for (const f of ['captured-vectors.test.ts', 'exabgp-vectors.test.ts']) {
    const text = readFileSync(new URL(f, dir), 'utf8');
    for (const m of text.matchAll(/\$\{M\}([0-9a-f]{6,})/g))
      out.push(Buffer.from(`${'ff'.repeat(16)}${m[1]}`, 'hex'));
  }
  return out;
}

export interface Corpus {
  readonly types: Record<string, Buffer[]>;
  /** Everything, for splices across types. */
  readonly all: Buffer[];
}

export function corpus(): Corpus {
  const types: Record<string, Buffer[]> = {};
  for (const [name, msgs] of Object.entries(builtSeeds())) {
    types[name] = msgs.flatMap((m) => [
      encodeMessage(m, AS4),
      ...(m.type === 2 ? [encodeMessage(m, AS2)] : []),
    ]);
  }
  for (const v of capturedVectors()) {
    const name = ({ 1: 'open', 2: 'update', 3: 'notification', 4: 'keepalive', 5: 'routeRefresh' } as const)[
      v[18] as 1 | 2 | 3 | 4 | 5
    ];
    if (name) types[name]!.push(v);
  }
  return { types, all: Object.values(types).flat() };
}

const INTERESTING = [0, 1, 2, 3, 4, 0x7f, 0x80, 0xfe, 0xff];

/** One to four mutations of `seed`; half of the results get a header length that matches again. */
export function mutate(seed: Buffer, c: Corpus, rnd: () => number): Buffer {
  let b = Buffer.from(seed);
  const pick = (n: number) => Math.floor(rnd() * n);
  const rounds = 1 + pick(4);
  for (let r = 0; r < rounds; r++) {
    const at = b.length > 0 ? pick(b.length) : 0;
    switch (pick(8)) {
      case 0: // bit flip
        if (b.length > 0) b[at]! ^= 1 << pick(8);
        break;
      case 1: // byte change
        if (b.length > 0) b[at] = rnd() < 0.5 ? INTERESTING[pick(INTERESTING.length)]! : pick(256);
        break;
      case 2: // truncation
        b = b.subarray(0, pick(b.length + 1));
        break;
      case 3: // extension with random bytes
        b = Buffer.concat([b, Buffer.from(Array.from({ length: 1 + pick(16) }, () => pick(256)))]);
        break;
      case 4: // a length field: one or two octets set to an edge value
        if (b.length > 1) {
          const v = [0, 1, 255, 256, 0xffff, b.length - 19, b.length - 18, b.length][pick(8)]! & 0xffff;
          if (rnd() < 0.5) b.writeUInt16BE(v, Math.min(at, b.length - 2));
          else b[at] = (v + pick(3) - 1) & 0xff;
        }
        break;
      case 5: {
        // splice: our head, another vector's tail
        const other = c.all[pick(c.all.length)]!;
        b = Buffer.concat([b.subarray(0, at), other.subarray(pick(other.length + 1))]);
        break;
      }
      case 6: // delete a run
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + pick(8))]);
        break;
      default: // duplicate a run
        b = Buffer.concat([b.subarray(0, at), b.subarray(at, at + 1 + pick(12)), b.subarray(at)]);
    }
  }
  if (rnd() < 0.5 && b.length >= 19) b.writeUInt16BE(Math.min(b.length, 0xffff), 16);
  return b;
}

export interface TypeResult {
  readonly type: string;
  readonly inputs: number;
  readonly decoded: number;
  readonly decodeErrors: number;
  /** Exceptions other than BgpDecodeError: crashes, with the first inputs that caused them. */
  readonly crashes: number;
  readonly crashSamples: { hex: string; error: string }[];
  readonly maxMs: number;
  readonly maxHex: string;
  readonly totalMs: number;
}

function decodeOnce(b: Buffer, ctx: CodecContext, viaReader: boolean): void {
  if (!viaReader) {
    decodeMessage(b, ctx);
    return;
  }
  // The framing path the session uses: split in two reads.
  const r = new MessageReader();
  const cut = b.length >> 1;
  for (const f of [...r.push(b.subarray(0, cut)), ...r.push(b.subarray(cut))]) decodeMessage(f, ctx);
}

/** Runs `inputs` mutated messages of `type` from `seed`; every 16th one goes through MessageReader. */
export function fuzzType(c: Corpus, type: string, inputs: number, seed: number): TypeResult {
  const rnd = prng(seed);
  const seeds = c.types[type]!;
  let decoded = 0;
  let decodeErrors = 0;
  let crashes = 0;
  const crashSamples: { hex: string; error: string }[] = [];
  let maxMs = 0;
  let maxHex = '';
  const start = performance.now();
  for (let i = 0; i < inputs; i++) {
    const input = mutate(seeds[Math.floor(rnd() * seeds.length)]!, c, rnd);
    const ctx = i & 1 ? AS2 : AS4;
    const t0 = performance.now();
    try {
      decodeOnce(input, ctx, (i & 15) === 0);
      decoded++;
    } catch (e) {
      if (e instanceof BgpDecodeError) decodeErrors++;
      else {
        crashes++;
        if (crashSamples.length < 5) crashSamples.push({ hex: input.toString('hex'), error: String(e) });
      }
    }
    const ms = performance.now() - t0;
    if (ms > maxMs) {
      maxMs = ms;
      maxHex = input.toString('hex');
    }
  }
  const totalMs = performance.now() - start;
  return { type, inputs, decoded, decodeErrors, crashes, crashSamples, maxMs, maxHex, totalMs };
}
