/**
 * Mutated copies of real Control packets (and datagrams with a failed TTL check, and from a
 * stranger's address) fed to a BfdManager whose session is Up: nothing throws, nothing is an
 * internal error, every discard is counted under a reason, and the session is Up again afterwards
 * whatever the garbage did to it.
 */
import t from 'tap';
import { BfdManager } from '../../src/bfd/manager.js';
import type { BfdSocket, BfdSocketOptions } from '../../src/bfd/socket.js';
import { ManualClock } from '../../src/lib/clock.js';

const FAST = { desiredMinTxMs: 100, requiredMinRxMs: 100, detectMult: 3 };

t.test('mutated datagrams never throw and the session recovers', async (t) => {
  const clock = new ManualClock(1000);
  const sockets = new Map<string, BfdSocketOptions>();
  const corpus: Buffer[] = [];
  const open = async (opts: BfdSocketOptions): Promise<BfdSocket> => {
    sockets.set(opts.localAddress, opts);
    return {
      localAddress: opts.localAddress,
      interface: undefined,
      txPort: 50000,
      send: (data, peer) => {
        if (opts.localAddress === '198.18.0.1') corpus.push(data);
        clock.setTimer(1, () =>
          sockets.get(peer)?.onPacket({ data, from: opts.localAddress, port: 50000, ttlOk: true }),
        );
      },
      close: async () => {},
    };
  };
  const a = new BfdManager({ clock, openSocket: open });
  const b = new BfdManager({ clock, openSocket: open });
  await a.add({ peer: '198.18.0.1', localAddress: '198.18.0.0', ...FAST });
  await b.add({ peer: '198.18.0.0', localAddress: '198.18.0.1', ...FAST });
  clock.advance(3000);
  t.equal(a.status().sessions[0]!.state, 'Up');
  t.ok(corpus.length > 10, `corpus of ${corpus.length} packets`);
  let seed = 5880;
  const rnd = (n: number) => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) % n;
  };
  const rx = sockets.get('198.18.0.0')!;
  let thrown = 0;
  for (let i = 0; i < 5000; i++) {
    const p = Buffer.from(corpus[rnd(corpus.length)]!);
    for (let f = 1 + rnd(3); f > 0; f--) p[rnd(p.length)] = rnd(256);
    const data = rnd(8) === 0 ? p.subarray(0, rnd(p.length + 1)) : p;
    try {
      rx.onPacket({
        data,
        from: rnd(5) === 0 ? '198.18.0.9' : '198.18.0.1',
        port: 50000,
        ttlOk: rnd(10) !== 0,
      });
    } catch {
      thrown++;
    }
    if (i % 50 === 0) clock.advance(20);
  }
  t.equal(thrown, 0, 'nothing thrown');
  const s = a.status();
  const drops = { ...s.sessions[0]!.counters.drops, ...s.unmatchedDrops };
  t.notOk('internal-error' in drops, 'no internal error');
  const total = Object.values(s.sessions[0]!.counters.drops).reduce((x, y) => x + y, 0);
  t.ok(total > 1000, `drops by reason: ${JSON.stringify(drops)}`);
  clock.advance(10_000);
  t.equal(a.status().sessions[0]!.state, 'Up', 'Up again');
  t.equal(b.status().sessions[0]!.state, 'Up');
  await a.close();
  await b.close();
});
