/**
 * Two sessions with authentication over the in-memory link (RFC 5880 6.7, 6.8.6): the handshake
 * signed with each type, a wrong key or a missing section keeping the session Down (and counted),
 * replays refused by the meticulous sequence rule, a forged packet changing nothing, and the
 * sequence number relearned after a long cut (6.8.1 bfd.AuthSeqKnown).
 */
import t from 'tap';
import type { BfdAuthConfig } from '../../src/bfd/auth.js';
import { type BfdAuthType, decodeControl } from '../../src/bfd/packet.js';
import { FAST, pair } from './harness.js';

const auth = (type: BfdAuthType, key = 'fabric-key', keyId = 7): BfdAuthConfig => ({
  type,
  keyId,
  key: Buffer.from(key),
});

t.test('each Auth Type brings the session Up, every packet signed', async (t) => {
  for (const type of [1, 2, 3, 4, 5] as BfdAuthType[]) {
    const p = pair(FAST, FAST, { auth: { a: auth(type), b: auth(type) } });
    p.a.start();
    p.b.start();
    p.clock.advance(3000);
    t.equal(p.a.sessionState, 'Up', `type ${type}: a Up`);
    t.equal(p.b.sessionState, 'Up', `type ${type}: b Up`);
    t.ok(
      p.sent.every((s) => s.packet.auth?.type === type && s.packet.auth.keyId === 7),
      `type ${type}: every packet carries the section`,
    );
    const st = p.a.status();
    t.same(st.authentication, { type: st.authentication?.type, keyId: 7 });
    t.notOk(JSON.stringify(st).includes('fabric-key'), 'the key is not in status');
    t.same(st.counters.drops, {}, 'nothing dropped');
  }
});

t.test('meticulous: sequence numbers go up by one per packet', async (t) => {
  const p = pair(FAST, FAST, { auth: { a: auth(5), b: auth(5) } });
  p.a.start();
  p.b.start();
  p.clock.advance(2000);
  const seqs = p.sent.filter((s) => s.from === 'a').map((s) => s.packet.auth!.data.readUInt32BE(1));
  t.ok(seqs.length > 5);
  t.ok(
    seqs.every((s, i) => i === 0 || s === (seqs[i - 1]! + 1) >>> 0),
    'consecutive',
  );
});

t.test('a wrong key keeps both sides Down and every packet is counted', async (t) => {
  const p = pair(FAST, FAST, { auth: { a: auth(4), b: auth(4, 'other-key') } });
  p.a.start();
  p.b.start();
  p.clock.advance(5000);
  t.equal(p.a.sessionState, 'Down');
  t.equal(p.b.sessionState, 'Down');
  t.same(p.events, [], 'no state change at all');
  const a = p.a.status();
  const fromB = p.sent.filter((s) => s.from === 'b').length;
  t.equal(a.counters.drops['auth-failed'], fromB, 'each of b’s packets dropped as auth-failed');
  t.equal(a.counters.packetsIn, 0, 'none taken in');
  t.equal(a.remoteDiscriminator, 0, 'bfd.RemoteDiscr untouched');
});

t.test('a Key ID or Auth Type mismatch, or one side without authentication', async (t) => {
  const ids = pair(FAST, FAST, { auth: { a: auth(2, 'k', 1), b: auth(2, 'k', 2) } });
  ids.a.start();
  ids.b.start();
  ids.clock.advance(3000);
  t.equal(ids.a.sessionState, 'Down');
  t.ok(ids.a.status().counters.drops['auth-key-id']! > 0, 'auth-key-id');
  const types = pair(FAST, FAST, { auth: { a: auth(2), b: auth(3) } });
  types.a.start();
  types.b.start();
  types.clock.advance(3000);
  t.equal(types.a.sessionState, 'Down');
  t.ok(types.a.status().counters.drops['auth-type']! > 0, 'auth-type');
  const half = pair(FAST, FAST, { auth: { a: auth(4) } });
  half.a.start();
  half.b.start();
  half.clock.advance(3000);
  t.equal(half.a.sessionState, 'Down');
  t.equal(half.b.sessionState, 'Down');
  t.ok(half.a.status().counters.drops['auth-missing']! > 0, 'a: A bit clear while auth in use');
  t.ok(half.b.status().counters.drops['auth-unsupported']! > 0, 'b: A bit set without auth');
});

t.test('Up: a replayed or forged packet changes nothing (RFC 5880 6.7.3, 6.8.6)', async (t) => {
  const p = pair(FAST, FAST, { auth: { a: auth(3), b: auth(3) } });
  p.a.start();
  p.b.start();
  p.clock.advance(3000);
  t.equal(p.a.sessionState, 'Up');
  const last = p.sent.filter((s) => s.from === 'b').at(-1)!;
  p.inject('a', last.packet, last.bytes);
  t.equal(p.a.status().counters.drops['auth-sequence'], 1, 'the replay of b’s last packet');
  // A Down from b, signed with the wrong key: discarded before it can take the session down.
  const forged = pair(FAST, FAST, { auth: { a: auth(3, 'attacker'), b: auth(3, 'attacker') } });
  forged.b.start();
  forged.clock.advance(1);
  const down = forged.sent.find((s) => s.from === 'b')!;
  const bytes = Buffer.from(down.bytes);
  bytes.writeUInt32BE(0x2222, 4); // b's real discriminator
  bytes.writeUInt32BE(0x1111, 8);
  p.inject('a', decodeControl(bytes), bytes);
  t.equal(p.a.sessionState, 'Up', 'still Up');
  t.equal(p.a.status().counters.drops['auth-failed'], 1);
  const beforeEvents = p.events.length;
  p.clock.advance(1000);
  t.equal(p.events.length, beforeEvents, 'and it stays Up');
  t.equal(p.a.status().remoteState, 'Up');
});

t.test('after a long cut the peer’s new sequence numbers are learned again (RFC 5880 6.8.1)', async (t) => {
  const p = pair(FAST, FAST, { auth: { a: auth(5), b: auth(5) } });
  p.a.start();
  p.b.start();
  p.clock.advance(3000);
  t.equal(p.a.sessionState, 'Up');
  p.cut('b->a');
  p.clock.advance(10_000);
  t.equal(p.a.sessionState, 'Down', 'a timed out');
  p.heal();
  p.clock.advance(5000);
  t.equal(p.a.sessionState, 'Up', 'Up again although b’s numbers moved past the window');
  t.equal(p.b.sessionState, 'Up');
});
