/**
 * BFD Control packet codec (RFC 5880 4.1, 4.2, 6.8.6): byte vectors both ways, every reception
 * check as its own vector, a round-trip property, and a seeded mutation fuzz in which the only
 * error decode may throw is BfdDecodeError.
 */

import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import t from 'tap';
import { BfdState } from '../../src/bfd/constants.js';
import {
  BfdAuthType,
  type BfdControlPacket,
  BfdDecodeError,
  decodeControl,
  encodeControl,
} from '../../src/bfd/packet.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

const base: BfdControlPacket = {
  diag: 0,
  state: BfdState.Down,
  poll: false,
  final: false,
  cpi: false,
  demand: false,
  detectMult: 3,
  myDiscriminator: 1,
  yourDiscriminator: 0,
  desiredMinTxUs: 1_000_000,
  requiredMinRxUs: 100_000,
  requiredMinEchoRxUs: 0,
};

const vectors: { name: string; bytes: string; packet: BfdControlPacket }[] = [
  {
    // Vers 1 Diag 0 | Sta Down(01) no flags | Mult 3 | Len 24 | My 1 | Your 0 | 1 s | 100 ms | 0
    name: 'Down, first packet of a session',
    bytes: '20 40 03 18  00000001  00000000  000f4240  000186a0  00000000',
    packet: base,
  },
  {
    // Diag 3 (Neighbor Signaled Session Down) | Up(11) P | Mult 5 | Len 24
    name: 'Up with Poll and a diagnostic',
    bytes: '23 e0 05 18  deadbeef  0badf00d  000186a0  0003d090  000c3500',
    packet: {
      ...base,
      diag: 3,
      state: BfdState.Up,
      poll: true,
      detectMult: 5,
      myDiscriminator: 0xdeadbeef,
      yourDiscriminator: 0x0badf00d,
      desiredMinTxUs: 100_000,
      requiredMinRxUs: 250_000,
      requiredMinEchoRxUs: 800_000,
    },
  },
  {
    // Init(10) F C D | Mult 1
    name: 'Init with Final, C and D bits',
    bytes: '20 9a 01 18  00000002  00000003  00000001  00000000  00000000',
    packet: {
      ...base,
      state: BfdState.Init,
      final: true,
      cpi: true,
      demand: true,
      detectMult: 1,
      myDiscriminator: 2,
      yourDiscriminator: 3,
      desiredMinTxUs: 1,
      requiredMinRxUs: 0,
    },
  },
  {
    // AdminDown(00), Diag 7 (Administratively Down), Your Discriminator zero is allowed
    name: 'AdminDown',
    bytes: '27 00 03 18  00000009  00000000  000f4240  000f4240  00000000',
    packet: { ...base, diag: 7, state: BfdState.AdminDown, myDiscriminator: 9, requiredMinRxUs: 1_000_000 },
  },
  {
    // A bit, Len 31: Simple Password (4.2.2) type 1, Auth Len 7, Key ID 5, "abcd"
    name: 'Simple Password authentication section',
    bytes: '20 44 03 1f  00000001  00000000  000f4240  000186a0  00000000  01 07 05 61626364',
    packet: { ...base, auth: { type: BfdAuthType.SimplePassword, keyId: 5, data: Buffer.from('abcd') } },
  },
  {
    // A bit, Len 48: Keyed MD5 (4.2.3) type 2, Auth Len 24, Key ID 1, Reserved, Seq 7, digest
    name: 'Keyed MD5 authentication section',
    bytes: `20 44 03 30  00000001  00000000  000f4240  000186a0  00000000  02 18 01 00 00000007 ${'ab'.repeat(16)}`,
    packet: {
      ...base,
      auth: { type: BfdAuthType.KeyedMd5, keyId: 1, data: hex(`00 00000007 ${'ab'.repeat(16)}`) },
    },
  },
];

t.test('vectors decode and encode', async (t) => {
  for (const v of vectors) {
    t.same(decodeControl(hex(v.bytes)), v.packet, `${v.name}: decode`);
    t.equal(encodeControl(v.packet).toString('hex'), hex(v.bytes).toString('hex'), `${v.name}: encode`);
  }
});

t.test('bytes past Length are ignored', async (t) => {
  const bytes = Buffer.concat([hex(vectors[0]!.bytes), hex('ffffffff')]);
  t.same(decodeControl(bytes), base);
});

const bad: { name: string; bytes: string; reason: string }[] = [
  { name: 'shorter than 24 bytes', bytes: '20 40 03 18 00000001 00000000 000f4240', reason: 'bad-length' },
  {
    name: 'version 0',
    bytes: '00 40 03 18 00000001 00000000 000f4240 000186a0 00000000',
    reason: 'bad-version',
  },
  {
    name: 'version 2',
    bytes: '40 40 03 18 00000001 00000000 000f4240 000186a0 00000000',
    reason: 'bad-version',
  },
  {
    name: 'Length 23',
    bytes: '20 40 03 17 00000001 00000000 000f4240 000186a0 00000000',
    reason: 'bad-length',
  },
  {
    name: 'Length past the payload',
    bytes: '20 40 03 20 00000001 00000000 000f4240 000186a0 00000000',
    reason: 'bad-length',
  },
  {
    name: 'A bit with Length 24 (26 is the minimum)',
    bytes: '20 44 03 18 00000001 00000000 000f4240 000186a0 00000000 0107',
    reason: 'bad-length',
  },
  {
    name: 'Detect Mult 0',
    bytes: '20 40 00 18 00000001 00000000 000f4240 000186a0 00000000',
    reason: 'zero-detect-mult',
  },
  {
    name: 'Multipoint bit',
    bytes: '20 41 03 18 00000001 00000000 000f4240 000186a0 00000000',
    reason: 'multipoint',
  },
  {
    name: 'My Discriminator 0',
    bytes: '20 40 03 18 00000000 00000000 000f4240 000186a0 00000000',
    reason: 'zero-my-discriminator',
  },
  {
    name: 'Your Discriminator 0 in Up',
    bytes: '20 c0 03 18 00000001 00000000 000f4240 000186a0 00000000',
    reason: 'zero-your-discriminator',
  },
  {
    name: 'Your Discriminator 0 in Init',
    bytes: '20 80 03 18 00000001 00000000 000f4240 000186a0 00000000',
    reason: 'zero-your-discriminator',
  },
  {
    name: 'MD5 with Auth Len 20',
    bytes: `20 44 03 2c 00000001 00000000 000f4240 000186a0 00000000 02 14 01 00 ${'00'.repeat(16)}`,
    reason: 'bad-auth-length',
  },
  {
    name: 'Auth Len past Length',
    bytes: '20 44 03 1c 00000001 00000000 000f4240 000186a0 00000000 01 07 05 61',
    reason: 'bad-auth-length',
  },
];

t.test('RFC 5880 6.8.6 reception checks', async (t) => {
  for (const v of bad) {
    t.throws(() => decodeControl(hex(v.bytes)), { name: 'BfdDecodeError', reason: v.reason }, v.name);
  }
});

t.test('encode refuses P and F together (RFC 5880 6.5)', async (t) => {
  t.throws(() => encodeControl({ ...base, poll: true, final: true }), RangeError);
});

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const arbPacket: fc.Arbitrary<BfdControlPacket> = fc
  .record({
    diag: fc.integer({ min: 0, max: 31 }),
    state: fc.constantFrom(BfdState.AdminDown, BfdState.Down, BfdState.Init, BfdState.Up),
    pf: fc.constantFrom('none', 'poll', 'final'),
    cpi: fc.boolean(),
    demand: fc.boolean(),
    detectMult: fc.integer({ min: 1, max: 255 }),
    myDiscriminator: fc.integer({ min: 1, max: 0xffffffff }),
    yourDiscriminator: u32,
    desiredMinTxUs: u32,
    requiredMinRxUs: u32,
    requiredMinEchoRxUs: u32,
    auth: fc.option(
      fc.oneof(
        fc.record({
          type: fc.constant(1),
          keyId: fc.integer({ min: 0, max: 255 }),
          data: fc.uint8Array({ minLength: 1, maxLength: 16 }),
        }),
        fc.record({
          type: fc.constant(2),
          keyId: fc.integer({ min: 0, max: 255 }),
          data: fc.uint8Array({ minLength: 21, maxLength: 21 }),
        }),
      ),
      { nil: undefined },
    ),
  })
  .map(({ pf, auth, ...r }) => {
    const p: BfdControlPacket = { ...r, poll: pf === 'poll', final: pf === 'final' };
    if (r.yourDiscriminator === 0 && (r.state === BfdState.Init || r.state === BfdState.Up)) {
      p.yourDiscriminator = 1;
    }
    if (auth) p.auth = { type: auth.type, keyId: auth.keyId, data: Buffer.from(auth.data) };
    return p;
  });

t.test('round trip: decode(encode(p)) = p', async (t) => {
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(arbPacket, (p) => isDeepStrictEqual(decodeControl(encodeControl(p)), p)),
      { seed: 5880, numRuns: 2000 },
    ),
  );
});

t.test('mutated packets: only BfdDecodeError is thrown, and decoding is stable', async (t) => {
  const mutation = fc.record({
    packet: arbPacket,
    flips: fc.array(fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }), { maxLength: 6 }),
    cut: fc.option(fc.nat(), { nil: undefined }),
    extra: fc.uint8Array({ maxLength: 8 }),
  });
  let accepted = 0;
  let rejected = 0;
  let unstable = 0;
  const reasons = new Set<string>();
  fc.assert(
    fc.property(mutation, ({ packet, flips, cut, extra }) => {
      let b = Buffer.concat([encodeControl(packet), Buffer.from(extra)]);
      for (const f of flips) b[f.at % b.length] = f.value;
      if (cut !== undefined) b = b.subarray(0, cut % (b.length + 1));
      try {
        const p = decodeControl(b);
        accepted++;
        // Whatever was accepted encodes to a packet that decodes the same.
        if (!(p.poll && p.final) && !isDeepStrictEqual(decodeControl(encodeControl(p)), p)) unstable++;
      } catch (e) {
        if (!(e instanceof BfdDecodeError)) throw e;
        rejected++;
        reasons.add(e.reason);
      }
    }),
    { seed: 5881, numRuns: 20_000 },
  );
  t.ok(accepted > 0 && rejected > 0, `accepted ${accepted}, rejected ${rejected}`);
  t.equal(unstable, 0, 'every accepted packet re-encodes to itself');
  t.ok(reasons.size >= 5, `reasons seen: ${[...reasons].join(', ')}`);
});
