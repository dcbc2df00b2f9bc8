/**
 * The BFD Authentication Section codec (RFC 5880 4.2, 6.7.2-6.7.4) and the sequence-number rules of
 * one session (6.7.3, 6.7.4, 6.8.1). The vectors were laid out byte by byte from RFC 5880 4.1-4.4
 * and their digests computed with Python's hashlib, independently of node:crypto.
 */
import fc from 'fast-check';
import t from 'tap';
import {
  type BfdAuthConfig,
  checkAuthConfig,
  checkAuthentication,
  encodeAuthenticated,
  receivedSequence,
} from '../../src/bfd/auth.js';
import { BfdAuthState } from '../../src/bfd/auth-state.js';
import { BfdState } from '../../src/bfd/constants.js';
import { BfdAuthType, type BfdControlPacket, decodeControl } from '../../src/bfd/packet.js';

const base: BfdControlPacket = {
  diag: 0,
  state: BfdState.Up,
  poll: false,
  final: false,
  cpi: false,
  demand: false,
  detectMult: 3,
  myDiscriminator: 0x11111111,
  yourDiscriminator: 0x22222222,
  desiredMinTxUs: 300_000,
  requiredMinRxUs: 300_000,
  requiredMinEchoRxUs: 0,
};
/** Vers 1, Diag 0; State Up with the A bit; Detect Mult 3 (Length follows). */
const HEAD = '20c403';
const BODY = '1111111122222222000493e0000493e000000000';
const key = (type: BfdAuthType, k = 'secret', keyId = 1): BfdAuthConfig => ({
  type,
  keyId,
  key: Buffer.from(k),
});

t.test('Simple Password: RFC 5880 4.2.2 layout, Auth Len 3 + password', async (t) => {
  const out = encodeAuthenticated(base, key(BfdAuthType.SimplePassword), 0);
  t.equal(out.toString('hex'), `${HEAD}21${BODY}010901${Buffer.from('secret').toString('hex')}`);
  const p = decodeControl(out);
  t.equal(checkAuthentication(out, p, key(BfdAuthType.SimplePassword)), undefined);
  t.equal(checkAuthentication(out, p, key(BfdAuthType.SimplePassword, 'secreT')), 'auth-failed');
  t.equal(checkAuthentication(out, p, key(BfdAuthType.SimplePassword, 'secre')), 'auth-failed');
  t.equal(checkAuthentication(out, p, key(BfdAuthType.SimplePassword, 'secret', 2)), 'auth-key-id');
  t.equal(checkAuthentication(out, p, key(BfdAuthType.KeyedSha1)), 'auth-type');
  t.equal(receivedSequence(p), undefined, 'no sequence number');
});

t.test('Keyed MD5: RFC 5880 4.2.3 layout and the digest of 6.7.3', async (t) => {
  const out = encodeAuthenticated(base, key(BfdAuthType.KeyedMd5), 5);
  t.equal(
    out.toString('hex'),
    `${HEAD}30${BODY}0218010000000005d19da11be636736b1fdb470c2bea53e7`,
    'Type 2, Len 24, Key ID 1, Reserved 0, Sequence 5, MD5 over the packet with the padded key',
  );
  const p = decodeControl(out);
  t.equal(receivedSequence(p), 5);
  t.equal(checkAuthentication(out, p, key(BfdAuthType.KeyedMd5)), undefined);
  t.equal(checkAuthentication(out, p, key(BfdAuthType.KeyedMd5, 'Secret')), 'auth-failed');
  t.equal(checkAuthentication(out, p, key(BfdAuthType.MeticulousKeyedMd5)), 'auth-type');
  const tampered = Buffer.from(out);
  tampered[2] = 4; // Detect Mult
  t.equal(checkAuthentication(tampered, decodeControl(tampered), key(BfdAuthType.KeyedMd5)), 'auth-failed');
});

t.test('Keyed SHA1: RFC 5880 4.2.4 layout and the digest of 6.7.4', async (t) => {
  const out = encodeAuthenticated(base, key(BfdAuthType.KeyedSha1), 0xfffffffe);
  t.equal(
    out.toString('hex'),
    `${HEAD}34${BODY}041c0100fffffffe4c4a659dc66e372534d74263449f3d4e7261af6b`,
    'Type 4, Len 28, Key ID 1, Reserved 0, Sequence 2^32-2, SHA1 over the packet with the padded key',
  );
  const p = decodeControl(out);
  t.equal(checkAuthentication(out, p, key(BfdAuthType.KeyedSha1)), undefined);
  t.equal(checkAuthentication(out, p, key(BfdAuthType.KeyedSha1, 'x'.repeat(20))), 'auth-failed');
  t.equal(
    checkAuthentication(
      out,
      decodeControl(encodeAuthenticated(base, key(BfdAuthType.KeyedSha1), 0)),
      key(BfdAuthType.KeyedSha1),
    ),
    undefined,
  );
  const unsigned = Buffer.from(out.subarray(0, 24));
  unsigned[1] = 0xc0;
  unsigned[3] = 24;
  t.equal(checkAuthentication(unsigned, decodeControl(unsigned), key(BfdAuthType.KeyedSha1)), 'auth-missing');
});

t.test('round trip: every type, every field of the packet kept', async (t) => {
  for (const type of [1, 2, 3, 4, 5] as BfdAuthType[]) {
    const p = { ...base, poll: true, diag: 3, state: BfdState.Init };
    const auth = key(type, type === 1 ? 'p' : '0123456789abcdef', 255);
    const out = encodeAuthenticated(p, auth, 77);
    const back = decodeControl(out);
    const { auth: section, ...fields } = back;
    t.same(fields, p, `type ${type}: fields`);
    t.equal(section?.type, type);
    t.equal(section?.keyId, 255);
    t.equal(checkAuthentication(out, back, auth), undefined, `type ${type}: verifies`);
  }
});

t.test('key lengths per RFC 5880 4.2.2-4.2.4', async (t) => {
  t.throws(() => checkAuthConfig(key(BfdAuthType.SimplePassword, '')), /1\.\.16/);
  t.throws(() => checkAuthConfig(key(BfdAuthType.SimplePassword, 'x'.repeat(17))), /1\.\.16/);
  t.throws(() => checkAuthConfig(key(BfdAuthType.KeyedMd5, 'x'.repeat(17))), /0\.\.16/);
  t.throws(() => checkAuthConfig(key(BfdAuthType.KeyedSha1, 'x'.repeat(21))), /0\.\.20/);
  t.throws(() => checkAuthConfig(key(BfdAuthType.KeyedSha1, 'x', 256)), /Key ID/);
  t.doesNotThrow(() => checkAuthConfig(key(BfdAuthType.MeticulousKeyedSha1, 'x'.repeat(20), 0)));
});

/** Packets from a sender whose sequence numbers we pick. */
function from(auth: BfdAuthConfig, seq: number, detectMult = 3): [Buffer, BfdControlPacket] {
  const out = encodeAuthenticated({ ...base, detectMult }, auth, seq);
  return [out, decodeControl(out)];
}

t.test('Keyed SHA1: sequence window RcvAuthSeq..RcvAuthSeq+3*DetectMult (RFC 5880 6.7.4)', async (t) => {
  const auth = key(BfdAuthType.KeyedSha1);
  const s = new BfdAuthState(auth, 0);
  t.equal(s.verify(...from(auth, 0xfffffffa), 0, 300), undefined, 'first packet: any number');
  t.equal(s.receiveSequence, 0xfffffffa);
  t.equal(s.verify(...from(auth, 0xfffffffa), 10, 300), undefined, 'the same number again: accepted');
  t.equal(s.verify(...from(auth, 0xfffffff9), 20, 300), 'auth-sequence', 'one back: refused');
  t.equal(s.verify(...from(auth, 3), 30, 300), undefined, '+9 across the wrap: accepted');
  t.equal(s.verify(...from(auth, 13), 40, 300), 'auth-sequence', '+10: refused');
  t.equal(s.receiveSequence, 3, 'a refused packet does not move RcvAuthSeq');
  t.equal(s.verify(...from(auth, 1000), 40 + 600, 300), undefined, 'after 2 Detection Times: any number');
});

t.test('Meticulous Keyed MD5: RcvAuthSeq+1..RcvAuthSeq+3*DetectMult (RFC 5880 6.7.3)', async (t) => {
  const auth = key(BfdAuthType.MeticulousKeyedMd5);
  const s = new BfdAuthState(auth, 0);
  t.equal(s.verify(...from(auth, 100), 0, 300), undefined);
  t.equal(s.verify(...from(auth, 100), 1, 300), 'auth-sequence', 'a replay of the last number: refused');
  t.equal(s.verify(...from(auth, 106, 2), 2, 300), undefined, '+6 with Detect Mult 2: accepted');
  t.equal(s.verify(...from(auth, 113, 2), 3, 300), 'auth-sequence', '+7 with Detect Mult 2: refused');
});

t.test('transmit: bfd.XmitAuthSeq goes up by one per packet, wrapping', async (t) => {
  const auth = key(BfdAuthType.MeticulousKeyedSha1);
  const s = new BfdAuthState(auth, 0xffffffff);
  const seqs = [0, 1, 2].map(() => receivedSequence(decodeControl(s.encode(base))));
  t.same(seqs, [0xffffffff, 0, 1]);
  const simple = new BfdAuthState(key(BfdAuthType.SimplePassword), 7);
  t.equal(decodeControl(simple.encode(base)).auth?.data.toString(), 'secret');
});

t.test('any change to an authenticated packet is refused, never thrown on', async (t) => {
  const types = [BfdAuthType.SimplePassword, BfdAuthType.KeyedMd5, BfdAuthType.MeticulousKeyedSha1];
  fc.assert(
    fc.property(
      fc.constantFrom(...types),
      fc.nat(),
      fc.integer({ min: 1, max: 255 }),
      fc.nat({ max: 0xffffffff }),
      (type, at, xor, seq) => {
        const auth = key(type);
        const good = encodeAuthenticated(base, auth, seq);
        const bad = Buffer.from(good);
        const i = at % bad.length;
        bad[i] = bad[i]! ^ xor;
        let p: BfdControlPacket;
        try {
          p = decodeControl(bad);
        } catch {
          return true; // the codec discards it (RFC 5880 6.8.6)
        }
        // A changed byte the password check does not cover (simple: outside the section) is the
        // one case that passes; every keyed type covers the whole packet.
        const failure = checkAuthentication(bad, p, auth);
        return type === BfdAuthType.SimplePassword ? i < 24 || failure !== undefined : failure !== undefined;
      },
    ),
    { numRuns: 2000 },
  );
  t.pass('2000 mutations');
});
