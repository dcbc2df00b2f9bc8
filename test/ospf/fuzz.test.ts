/**
 * Mutated versions of real packets (with the checksum fixed up so they get past the first check)
 * are fed to a speaker in every adjacency state: processing must never throw, and every drop is
 * counted under a reason.
 */
import t from 'tap';
import { packetChecksum } from '../../src/ospf/checksum.js';
import { p2pPair } from './harness.js';

t.test('mutated packets never throw and the speaker recovers', async (t) => {
  const { clock, link, a, b, sa } = p2pPair();
  await a.start();
  await b.start();
  clock.advance(20_000);
  const corpus = link.log.filter((s) => s.from === '198.18.0.2').map((s) => s.bytes);
  t.ok(corpus.length >= 5, `corpus of ${corpus.length} packets`);
  let seed = 12345;
  const rnd = (n: number) => {
    // xorshift32: the low bits of a plain LCG cycle too quickly for `% 4`.
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) % n;
  };
  let thrown = 0;
  for (let i = 0; i < 3000; i++) {
    const b0 = Buffer.from(corpus[rnd(corpus.length)]!);
    const flips = 1 + rnd(4);
    for (let f = 0; f < flips; f++) b0[24 + rnd(Math.max(1, b0.length - 24))] = rnd(256);
    const cut = rnd(10) === 0 ? b0.subarray(0, rnd(b0.length + 1)) : b0;
    if (cut.length >= 24 && rnd(4) !== 0)
      cut.writeUInt16BE(packetChecksum(cut.subarray(0, Math.min(cut.readUInt16BE(2), cut.length))), 12);
    try {
      sa.handler?.(cut, '198.18.0.2');
    } catch {
      thrown++;
    }
    if (i % 100 === 0) clock.advance(500);
  }
  t.equal(thrown, 0, 'nothing thrown');
  t.equal(a.status().dropped['internal-error'], undefined, 'no internal error');
  const total = Object.values(a.status().dropped).reduce((x, y) => x + y, 0);
  t.ok(total > 1000, `drops counted by reason (${JSON.stringify(a.status().dropped)})`);
  // Whatever the garbage did to the adjacency, it comes back to Full.
  clock.advance(60_000);
  t.equal(a.status().interfaces[0]!.neighbors[0]?.state, 'Full');
  await a.stop({ drain: false });
  await b.stop({ drain: false });
});
