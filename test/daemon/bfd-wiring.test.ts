/**
 * BfdWiring on the injected clock with a fake speaker and a fake BFD manager: which BFD session
 * each peer gets (configured local address at once, else the Established session's), RFC 5882
 * reactions (Up → Down takes BGP down and holds it; AdminDown from the peer does not; BFD Up again
 * or the hold time releases it), and detach.
 */
import t from 'tap';
import type { BfdSessionConfig, BfdSessionKey, BfdStateChange } from '../../src/bfd/index.js';
import { BfdDiag, type BfdStateName } from '../../src/bfd/index.js';
import { bgpPeerSchema } from '../../src/config/bgp.js';
import { BfdWiring } from '../../src/daemon/bfd-wiring.js';
import { ManualClock } from '../../src/lib/clock.js';
import { silentLogger } from '../../src/lib/log.js';

function setup(peers: Record<string, unknown>[]) {
  const clock = new ManualClock();
  const calls: string[] = [];
  let stateFn: ((a: string, s: string, l?: string) => void) | undefined;
  let bfdFn: ((e: BfdStateChange) => void) | undefined;
  const added: BfdSessionConfig[] = [];
  const removed: BfdSessionKey[] = [];
  const bgp = {
    onPeerState: (fn: (a: string, s: string, l?: string) => void) => {
      stateFn = fn;
    },
    pathDown: (a: string, reason: string, hold: boolean) => {
      calls.push(`down ${a} hold=${hold} ${reason}`);
      return true;
    },
    resumePeer: (a: string) => {
      calls.push(`resume ${a}`);
    },
  };
  const bfd = {
    add: async (c: BfdSessionConfig) => {
      added.push(c);
      return {} as never;
    },
    remove: async (k: BfdSessionKey) => {
      removed.push(k);
    },
    onStateChange: (fn: (e: BfdStateChange) => void) => {
      bfdFn = fn;
      return () => {
        bfdFn = undefined;
      };
    },
  };
  const config = peers.map((p) => bgpPeerSchema.parse(p));
  const w = new BfdWiring({ bgp, bfd, peers: config, clock, logger: silentLogger });
  w.start();
  const change = (key: BfdSessionKey, from: BfdStateName, to: BfdStateName, remoteAdminDown = false) =>
    bfdFn?.({
      key,
      from,
      to,
      diag: BfdDiag.ControlDetectionTimeExpired,
      diagName: 'Control Detection Time Expired',
      remoteAdminDown,
      at: clock.now(),
    });
  return {
    clock,
    calls,
    added,
    removed,
    change,
    established: (a: string, l: string) => stateFn?.(a, 'Established', l),
    wiring: w,
  };
}

const FAST = { minRx: 100, minTx: 100, multiplier: 3 };

t.test(
  'sessions: configured local address at start, else the Established one; peers without bfd ignored',
  async (t) => {
    const s = setup([
      { address: '198.18.0.0', asn: 65101, bfd: FAST, localAddress: '198.18.0.1' },
      { address: '2001:db8:0::2', asn: 65102, bfd: true },
      { address: '198.18.0.4', asn: 65103 },
    ]);
    t.same(s.added, [
      {
        peer: '198.18.0.0',
        localAddress: '198.18.0.1',
        interface: undefined,
        desiredMinTxMs: 100,
        requiredMinRxMs: 100,
        detectMult: 3,
      },
    ]);
    s.established('2001:db8:0::2', '2001:db8:0::3');
    s.established('198.18.0.4', '198.18.0.5');
    t.same(
      s.added[1],
      {
        peer: '2001:db8::2',
        localAddress: '2001:db8::3',
        interface: undefined,
        desiredMinTxMs: 300,
        requiredMinRxMs: 300,
        detectMult: 3,
      },
      'bfd: true is 300/300/3, addresses canonical',
    );
    t.equal(s.added.length, 2, 'no session for the peer without bfd');
    s.established('2001:db8:0::2', '2001:db8::3');
    t.equal(s.added.length, 2, 'same address after a flap: the session is kept');
    s.established('2001:db8:0::2', '2001:db8::9');
    t.equal(s.added.length, 3, 'a new local address: a new session');
    t.same(
      s.removed,
      [{ peer: '2001:db8::2', localAddress: '2001:db8::3', interface: undefined }],
      'and the old one removed',
    );
  },
);

t.test('RFC 5882: Up → Down takes BGP down and holds it until BFD is Up', async (t) => {
  const s = setup([
    { address: '198.18.0.0', asn: 65101, holdTime: 9, bfd: FAST, localAddress: '198.18.0.1' },
  ]);
  const key = { peer: '198.18.0.0', localAddress: '198.18.0.1', interface: undefined };
  s.change(key, 'Down', 'Init');
  s.change(key, 'Init', 'Up');
  t.same(s.calls, [], 'coming Up does nothing when nothing is held');
  s.change(key, 'Up', 'Down');
  t.same(s.calls, ['down 198.18.0.0 hold=true BFD went Down: Control Detection Time Expired']);
  s.clock.advance(5000);
  s.change(key, 'Down', 'Init');
  t.equal(s.calls.length, 1, 'Init is not Up: still held');
  s.change(key, 'Init', 'Up');
  t.same(s.calls.slice(1), ['resume 198.18.0.0'], 'BFD Up releases the hold');
  s.clock.advance(20_000);
  t.equal(s.calls.length, 2, 'the hold timer was cancelled');
});

t.test('the hold ends after the hold time when BFD never comes back', async (t) => {
  const s = setup([
    { address: '198.18.0.0', asn: 65101, holdTime: 9, bfd: FAST, localAddress: '198.18.0.1' },
  ]);
  const key = { peer: '198.18.0.0', localAddress: '198.18.0.1' };
  s.change(key, 'Up', 'Down');
  s.clock.advance(8999);
  t.equal(s.calls.length, 1);
  s.clock.advance(1);
  t.same(s.calls[1], 'resume 198.18.0.0');
});

t.test('RFC 5882 3.2: the peer going AdminDown does not take BGP down; detach stops reacting', async (t) => {
  const s = setup([{ address: '198.18.0.0', asn: 65101, bfd: FAST, localAddress: '198.18.0.1' }]);
  const key = { peer: '198.18.0.0', localAddress: '198.18.0.1' };
  s.change(key, 'Up', 'Down', true);
  t.same(s.calls, [], 'AdminDown from the peer: BGP stays');
  s.change({ peer: '198.18.0.9', localAddress: '198.18.0.1' }, 'Up', 'Down');
  t.same(s.calls, [], 'a session of another client: ignored');
  s.wiring.detach();
  s.change(key, 'Up', 'Down');
  t.same(s.calls, [], 'after detach nothing reaches BGP');
});
