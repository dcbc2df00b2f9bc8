/**
 * Property tests: decoding arbitrary bytes only ever throws BgpDecodeError, and decode(encode(m))
 * gives back every generated valid message, on 2- and 4-octet AS sessions.
 */
import fc from 'fast-check';
import t from 'tap';
import {
  AS_TRANS,
  type AsPathSegment,
  BgpDecodeError,
  type Capability,
  type CodecContext,
  decodeMessage,
  encodeMessage,
  type Message,
  MessageReader,
  type PathAttributes,
  type UpdateMessage,
} from '../../../src/bgp/message/index.js';
import { formatAddress, makePrefix, type Prefix } from '../../../src/net/prefix.js';
import { frame } from './helpers.js';

const RUNS = 3000;

function onlyBgpErrors(bytes: Buffer, ctx: CodecContext): boolean {
  try {
    decodeMessage(bytes, ctx);
  } catch (e) {
    if (e instanceof BgpDecodeError) return true;
    throw e;
  }
  return true;
}

// ===== Arbitrary bytes =====

const ctxArb = fc.record({ fourOctetAs: fc.boolean() });

t.test('arbitrary bytes: only BgpDecodeError', async (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), ctxArb, (bytes, ctx) =>
      onlyBgpErrors(Buffer.from(bytes), ctx),
    ),
    { numRuns: RUNS },
  );
  // Valid header, arbitrary body: reaches the per-type decoders.
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 7 }),
      fc.uint8Array({ maxLength: 300 }),
      ctxArb,
      (type, body, ctx) => onlyBgpErrors(frame(type, Buffer.from(body)), ctx),
    ),
    { numRuns: RUNS * 3 },
  );
  t.pass('no other exception');
});

// ===== Valid messages =====

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const asn = fc.integer({ min: 1, max: 0xffffffff });
const asn2 = fc.integer({ min: 1, max: 0xffff });
const ipv4Text = fc
  .tuple(
    fc.integer({ min: 1, max: 223 }),
    fc.integer({ min: 0, max: 255 }),
    fc.integer({ min: 0, max: 255 }),
    fc.integer({ min: 0, max: 255 }),
  )
  .map((b) => formatAddress(Buffer.from(b)));
const ipv6Text = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => formatAddress(Buffer.from(b)));

function prefixArb(family: 4 | 6): fc.Arbitrary<Prefix> {
  const size = family === 4 ? 4 : 16;
  return fc
    .tuple(fc.uint8Array({ minLength: size, maxLength: size }), fc.integer({ min: 0, max: size * 8 }))
    .map(([b, len]) => makePrefix(Buffer.from(b), len));
}
const prefixes = (family: 4 | 6) => fc.array(prefixArb(family), { maxLength: 12 });

const capabilityArb: fc.Arbitrary<Capability> = fc.oneof(
  fc.record({
    code: fc.constant(1 as const),
    afi: fc.integer({ min: 0, max: 0xffff }),
    safi: fc.integer({ min: 0, max: 255 }),
  }),
  fc.constant({ code: 2 as const }),
  fc.record({ code: fc.constant(65 as const), asn: u32 }),
  fc.record({
    code: fc.constant(64 as const),
    restarting: fc.boolean(),
    notification: fc.boolean(),
    restartTime: fc.integer({ min: 0, max: 4095 }),
    families: fc.array(
      fc.record({
        afi: fc.integer({ min: 0, max: 0xffff }),
        safi: fc.integer({ min: 0, max: 255 }),
        forwardingPreserved: fc.boolean(),
      }),
      { maxLength: 4 },
    ),
  }),
  fc.record({
    code: fc.integer({ min: 3, max: 255 }).filter((c) => c !== 64 && c !== 65),
    value: fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b)),
    unknown: fc.constant(true as const),
  }),
);

const openArb: fc.Arbitrary<Message> = fc.record({
  type: fc.constant(1 as const),
  version: fc.constant(4),
  myAs: fc.integer({ min: 0, max: 0xffff }),
  holdTime: fc.integer({ min: 0, max: 0xffff }).filter((h) => h !== 1 && h !== 2),
  bgpId: ipv4Text,
  capabilities: fc.array(capabilityArb, { maxLength: 12 }),
});

const notificationArb: fc.Arbitrary<Message> = fc.oneof(
  fc
    .record({
      code: fc.integer({ min: 0, max: 255 }),
      subcode: fc.integer({ min: 0, max: 255 }),
      data: fc.uint8Array({ maxLength: 64 }),
    })
    .filter((n) => !(n.code === 6 && (n.subcode === 2 || n.subcode === 4)))
    .map((n) => ({ type: 3 as const, code: n.code, subcode: n.subcode, data: Buffer.from(n.data) })),
  fc
    .record({ subcode: fc.constantFrom(2, 4), text: fc.string({ maxLength: 60 }) })
    .map(({ subcode, text }) => {
      const data = Buffer.concat([Buffer.from([Buffer.byteLength(text)]), Buffer.from(text)]);
      return { type: 3 as const, code: 6, subcode, data, shutdownMessage: text };
    }),
);

const refreshArb: fc.Arbitrary<Message> = fc.record({
  type: fc.constant(5 as const),
  afi: fc.integer({ min: 0, max: 0xffff }),
  safi: fc.integer({ min: 0, max: 255 }),
  subtype: fc.integer({ min: 0, max: 255 }),
});

/** AS paths that survive the trip on the session kind: 2-octet sessions carry confeds up front only. */
function asPathArb(fourOctetAs: boolean): fc.Arbitrary<AsPathSegment[]> {
  const seg = (type: number, a: fc.Arbitrary<number>) =>
    fc.array(a, { minLength: 1, maxLength: 8 }).map((asns) => ({ type, asns }));
  const body = fc.array(fc.oneof(seg(2, asn), seg(1, asn)), { maxLength: 4 });
  if (fourOctetAs)
    return fc.array(fc.oneof(seg(1, asn), seg(2, asn), seg(3, asn), seg(4, asn)), { maxLength: 5 });
  return fc
    .tuple(fc.array(fc.oneof(seg(3, asn2), seg(4, asn2)), { maxLength: 2 }), body)
    .map(([c, b]) => [...c, ...b]);
}

const largeArb = fc.record({ globalAdmin: u32, localData1: u32, localData2: u32 });

function attributesArb(fourOctetAs: boolean, legacyNlri: boolean): fc.Arbitrary<PathAttributes> {
  return fc
    .record(
      {
        origin: fc.constantFrom(0 as const, 1 as const, 2 as const),
        asPath: asPathArb(fourOctetAs),
        nextHop: ipv4Text,
        med: u32,
        localPref: u32,
        atomicAggregate: fc.constant(true),
        aggregator: fc.record({ asn, address: ipv4Text }),
        communities: fc.array(u32, { minLength: 1, maxLength: 10 }),
        largeCommunities: fc.array(largeArb, { minLength: 1, maxLength: 5 }),
        mpReach: fc.oneof(
          fc.record({
            afi: fc.constant(1),
            safi: fc.constant(1),
            nextHop: fc.oneof(ipv4Text, ipv6Text),
            nlri: prefixes(4),
          }),
          fc.record({ afi: fc.constant(2), safi: fc.constant(1), nextHop: ipv6Text, nlri: prefixes(6) }),
          fc.record({
            afi: fc.constant(2),
            safi: fc.constant(1),
            nextHop: ipv6Text,
            linkLocalNextHop: ipv6Text,
            nlri: prefixes(6),
          }),
        ),
        mpUnreach: fc.oneof(
          fc.record({ afi: fc.constant(1), safi: fc.constant(1), withdrawn: prefixes(4) }),
          fc.record({ afi: fc.constant(2), safi: fc.constant(1), withdrawn: prefixes(6) }),
        ),
        unknown: fc
          .uniqueArray(
            fc.integer({ min: 19, max: 255 }).filter((x) => x !== 32),
            { minLength: 1, maxLength: 3 },
          )
          .chain((types) =>
            fc.tuple(
              ...types
                .sort((a, b) => a - b)
                .map((type) =>
                  fc
                    .uint8Array({ maxLength: 300 })
                    .map((v) => ({ flags: 0xe0, type, value: Buffer.from(v) })),
                ),
            ),
          ),
      },
      { requiredKeys: legacyNlri ? ['origin', 'asPath', 'nextHop'] : ['origin', 'asPath'] },
    )
    .map((a) => {
      // Without the 4-octet capability an AGGREGATOR with a 2-octet ASN other than AS_TRANS tells
      // the receiver to ignore AS4_PATH (RFC 6793 4.2.3): give such aggregators a 4-octet ASN.
      if (!fourOctetAs && a.aggregator && a.aggregator.asn <= 0xffff && a.aggregator.asn !== AS_TRANS) {
        return { ...a, aggregator: { ...a.aggregator, asn: a.aggregator.asn + 0x10000 } };
      }
      return a;
    });
}

function updateArb(fourOctetAs: boolean): fc.Arbitrary<UpdateMessage> {
  return fc.boolean().chain((legacy) =>
    fc.record({
      type: fc.constant(2 as const),
      withdrawn: prefixes(4),
      attributes: attributesArb(fourOctetAs, legacy),
      nlri: legacy ? fc.array(prefixArb(4), { minLength: 1, maxLength: 12 }) : fc.constant([]),
    }),
  );
}

function roundTrips(m: Message, ctx: CodecContext): void {
  let bytes: Buffer;
  try {
    bytes = encodeMessage(m, ctx);
  } catch (e) {
    if (e instanceof Error && /exceeds the 4096-byte maximum/.test(e.message)) return;
    throw e;
  }
  const back = decodeMessage(bytes, ctx);
  if (
    !fc.stringify(back).startsWith('') ||
    JSON.stringify(normalize(back)) !== JSON.stringify(normalize(m))
  ) {
    throw new Error(`round trip differs:\n${fc.stringify(m)}\n${fc.stringify(back)}`);
  }
  // Re-encoding the decoded message gives the same bytes.
  if (!encodeMessage(back, ctx).equals(bytes)) throw new Error('re-encode differs');
  // And the stream reader splits it back out.
  const r = new MessageReader();
  const parts = [...r.push(bytes.subarray(0, 7)), ...r.push(bytes.subarray(7))];
  if (parts.length !== 1 || !parts[0]!.equals(bytes)) throw new Error('reader');
}

/** JSON with Buffers as hex and keys sorted, so deep equality is exact. */
function normalize(v: unknown): unknown {
  if (Buffer.isBuffer(v)) return v.toString('hex');
  if (Array.isArray(v)) return v.map(normalize);
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v).filter(([, x]) => x !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return Object.fromEntries(entries.map(([k, x]) => [k, normalize(x)]));
  }
  return v;
}

for (const fourOctetAs of [true, false]) {
  t.test(`decode(encode(m)) = m, fourOctetAs=${fourOctetAs}`, async (t) => {
    const ctx = { fourOctetAs };
    fc.assert(
      fc.property(
        fc.oneof(
          openArb,
          notificationArb,
          refreshArb,
          fc.constant({ type: 4 as const }),
          updateArb(fourOctetAs),
        ),
        (m) => roundTrips(m, ctx),
      ),
      { numRuns: RUNS },
    );
    t.pass('round trips');
  });
}

t.test('mutated valid messages: only BgpDecodeError', async (t) => {
  const ctx = { fourOctetAs: false };
  fc.assert(
    fc.property(
      updateArb(false),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
      (m, edits) => {
        let bytes: Buffer;
        try {
          bytes = Buffer.from(encodeMessage(m, ctx));
        } catch {
          return true;
        }
        for (const [at, v] of edits) bytes[19 + (at % (bytes.length - 19))] = v;
        return onlyBgpErrors(bytes, ctx) && onlyBgpErrors(bytes, { fourOctetAs: true });
      },
    ),
    { numRuns: RUNS },
  );
  t.pass('no other exception');
});
