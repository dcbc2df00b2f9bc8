/**
 * The CI-sized slice of bench/fuzz-bgp.ts: 5,000 mutated inputs per message type from a fixed seed.
 * Decoding must only ever throw BgpDecodeError, and no input may take long enough to be a hang.
 */
import t from 'tap';
import { BgpDecodeError, decodeMessage } from '../../../src/bgp/message/index.js';
import { corpus, fuzzType, mutate, prng } from './mutation-fuzzer.js';

const PER_TYPE = 5000;
const SEED = 20261201;

t.test('seeded mutations of every message type: only BgpDecodeError, no hang', async (t) => {
  const c = corpus();
  t.same(Object.keys(c.types), [
    'open',
    'capabilities',
    'update',
    'communities',
    'mpReach',
    'notification',
    'keepalive',
    'routeRefresh',
  ]);
  for (const [i, type] of Object.keys(c.types).entries()) {
    const r = fuzzType(c, type, PER_TYPE, SEED + i);
    t.equal(r.crashes, 0, `${type}: no exception other than BgpDecodeError`, { samples: r.crashSamples });
    t.equal(r.decoded + r.decodeErrors, PER_TYPE, `${type}: every input decoded or refused`);
    t.ok(r.decoded > 0 && r.decodeErrors > 0, `${type}: the mutations reach both outcomes`);
    // Far above a decode's microseconds even on a loaded machine (GC pauses included): a loop would not end.
    t.ok(r.maxMs < 2000, `${type}: slowest input ${r.maxMs.toFixed(1)} ms`);
  }
});

t.test('the seed fixes the inputs; the seeds decode unmutated', async (t) => {
  const c = corpus();
  const a = prng(7);
  const b = prng(7);
  const seed = c.types.update![0]!;
  t.same(mutate(seed, c, a), mutate(seed, c, b));
  for (const [type, seeds] of Object.entries(c.types)) {
    for (const s of seeds) {
      let ok = true;
      try {
        decodeMessage(s, { fourOctetAs: true });
      } catch (e) {
        // The 2-octet-AS encodings of the UPDATE seeds need a 2-octet session.
        ok =
          e instanceof BgpDecodeError &&
          (() => {
            try {
              decodeMessage(s, { fourOctetAs: false });
              return true;
            } catch {
              return false;
            }
          })();
      }
      t.ok(ok, `${type} seed ${s.toString('hex').slice(36, 60)} is valid`);
    }
  }
});
