/**
 * BfdManager over an in-memory network on ManualClock: sessions keyed by (peer, local address,
 * interface), demultiplexing by Your Discriminator and by address (RFC 5880 6.8.6, RFC 5881 3),
 * drops counted by reason on the session they target (or as unmatched), shared sockets, AdminDown
 * on remove and close, and the status view.
 */
import t from 'tap';
import { BfdState } from '../../src/bfd/constants.js';
import { BfdManager } from '../../src/bfd/manager.js';
import { type BfdControlPacket, encodeControl } from '../../src/bfd/packet.js';
import type { BfdDatagram, BfdSocket, BfdSocketOptions } from '../../src/bfd/socket.js';
import type { BfdStateChange } from '../../src/bfd/types.js';
import { ManualClock } from '../../src/lib/clock.js';

const FAST = { desiredMinTxMs: 100, requiredMinRxMs: 100, detectMult: 3 };

/** Sockets by local address; a send reaches the socket bound to the peer address after 1 ms. */
class FakeNet {
  readonly sockets = new Map<string, BfdSocketOptions>();
  opened = 0;
  closed = 0;
  failNext = false;
  constructor(readonly clock: ManualClock) {}
  open = async (opts: BfdSocketOptions): Promise<BfdSocket> => {
    if (this.failNext) {
      this.failNext = false;
      throw new Error('bfd: cannot open the socket');
    }
    this.opened++;
    this.sockets.set(opts.localAddress, opts);
    return {
      localAddress: opts.localAddress,
      interface: opts.interface,
      txPort: 49152,
      send: (packet, peer) =>
        this.deliver(peer, { data: packet, from: opts.localAddress, port: 49152, ttlOk: true }),
      close: async () => {
        this.closed++;
        this.sockets.delete(opts.localAddress);
      },
    };
  };
  deliver(to: string, d: BfdDatagram): void {
    this.clock.setTimer(1, () => this.sockets.get(to)?.onPacket(d));
  }
}

const flush = () => new Promise((r) => setImmediate(r));

async function setup() {
  const clock = new ManualClock(1000);
  const net = new FakeNet(clock);
  let d = 100;
  const a = new BfdManager({ clock, openSocket: net.open, random: () => 0.5, discriminator: () => d++ });
  const b = new BfdManager({ clock, openSocket: net.open, random: () => 0.5, discriminator: () => d++ });
  const events: BfdStateChange[] = [];
  a.onStateChange((e) => events.push(e));
  await a.add({ peer: '198.18.0.1', localAddress: '198.18.0.0', ...FAST });
  await b.add({ peer: '198.18.0.0', localAddress: '198.18.0.1', ...FAST });
  clock.advance(3000);
  return { clock, net, a, b, events };
}

const packet = (over: Partial<BfdControlPacket>): BfdControlPacket => ({
  diag: 0,
  state: BfdState.Up,
  poll: false,
  final: false,
  cpi: false,
  demand: false,
  detectMult: 3,
  myDiscriminator: 101,
  yourDiscriminator: 100,
  desiredMinTxUs: 100_000,
  requiredMinRxUs: 100_000,
  requiredMinEchoRxUs: 0,
  ...over,
});

t.test('two managers bring a session Up; status shows the negotiated view', async (t) => {
  const { a, events } = await setup();
  const [s] = a.status().sessions;
  t.match(s, {
    peer: '198.18.0.1',
    localAddress: '198.18.0.0',
    state: 'Up',
    remoteState: 'Up',
    localDiscriminator: 100,
    remoteDiscriminator: 101,
    txIntervalMs: 100,
    rxIntervalMs: 100,
    detectTimeMs: 300,
    diagnostic: 'No Diagnostic',
  });
  t.ok(s!.counters.packetsIn > 10 && s!.counters.packetsOut > 10, 'counters move');
  t.same(
    events.map((e) => e.to),
    ['Init', 'Up'],
    'events through the manager',
  );
});

t.test('malformed and misdirected packets are dropped and counted; the session stays Up', async (t) => {
  const { clock, net, a } = await setup();
  const from = '198.18.0.1';
  const to = '198.18.0.0';
  const send = (data: Buffer, src = from, ttlOk = true) =>
    net.deliver(to, { data, from: src, port: 50000, ttlOk });
  const good = encodeControl(packet({}));
  const badVersion = Buffer.from(good);
  badVersion[0] = (2 << 5) | (badVersion[0]! & 0x1f);
  const badLength = Buffer.from(good);
  badLength[3] = 40;
  send(badVersion);
  send(badLength);
  send(Buffer.alloc(0), from, false);
  send(encodeControl(packet({ yourDiscriminator: 0xdead })));
  send(encodeControl(packet({ state: BfdState.Down, yourDiscriminator: 0 })), '198.18.0.9');
  send(good, '198.18.0.9');
  clock.advance(5);
  const s = a.status();
  t.same(s.sessions[0]!.counters.drops, {
    'bad-version': 1,
    'bad-length': 1,
    ttl: 1,
    'unknown-discriminator': 1,
  });
  t.same(s.unmatchedDrops, { 'no-session': 1, 'address-mismatch': 1 });
  clock.advance(2000);
  t.equal(a.status().sessions[0]!.state, 'Up');
  t.equal(a.status().sessions[0]!.counters.downTransitions, 0);
});

t.test('remove: AdminDown reaches the peer, then the session and its socket go', async (t) => {
  const { clock, net, a, b } = await setup();
  const seen: BfdStateChange[] = [];
  b.onStateChange((e) => seen.push(e));
  let done = false;
  void a.remove({ peer: '198.18.0.1', localAddress: '198.18.0.0' }).then(() => {
    done = true;
  });
  clock.advance(10);
  t.match(seen.at(-1), { to: 'Down', diagName: 'Neighbor Signaled Session Down', remoteAdminDown: true });
  t.equal(a.status().sessions.length, 0, 'not listed while going away');
  clock.advance(3000);
  await flush();
  t.ok(done, 'removed after the AdminDown period');
  t.equal(net.closed, 1, 'its socket closed');
  await a.add({ peer: '198.18.0.1', localAddress: '198.18.0.0', ...FAST });
  clock.advance(3000);
  t.equal(a.status().sessions[0]!.state, 'Up', 'a new session comes Up');
  t.equal(b.status().sessions[0]!.state, 'Up');
});

t.test('two clients share a session; the last remove ends it', async (t) => {
  const { clock, a } = await setup();
  const key = { peer: '198.18.0.1', localAddress: '198.18.0.0' };
  const again = await a.add({ ...key, ...FAST, desiredMinTxMs: 200 });
  t.equal(again, a.get(key), 'same session');
  clock.advance(50);
  t.equal(a.status().sessions[0]!.desiredMinTxMs, 200, 'new timers applied');
  void a.remove(key);
  clock.advance(5000);
  t.equal(a.status().sessions[0]?.state, 'Up', 'one client left');
  void a.remove(key);
  clock.advance(5000);
  t.equal(a.status().sessions.length, 0);
});

t.test('a socket that cannot open rejects add; a later add retries', async (t) => {
  const clock = new ManualClock();
  const net = new FakeNet(clock);
  const m = new BfdManager({ clock, openSocket: net.open });
  net.failNext = true;
  await t.rejects(m.add({ peer: '198.18.0.1', localAddress: '198.18.0.0', ...FAST }), /cannot open/);
  await m.add({ peer: '198.18.0.1', localAddress: '198.18.0.0', ...FAST });
  t.equal(m.status().sessions.length, 1);
  t.equal(net.opened, 1);
  await m.close();
});

t.test('close sends AdminDown to every peer and closes the sockets', async (t) => {
  const { clock, net, a, b } = await setup();
  const seen: BfdStateChange[] = [];
  b.onStateChange((e) => seen.push(e));
  await a.close();
  clock.advance(10);
  t.match(seen.at(-1), { to: 'Down', remoteAdminDown: true });
  t.equal(net.sockets.has('198.18.0.0'), false);
  await t.rejects(a.add({ peer: '198.18.0.1', localAddress: '198.18.0.0', ...FAST }), /closed/);
  await b.close();
});

t.test('authentication: the datagram as received is what the session verifies', async (t) => {
  const clock = new ManualClock(1000);
  const net = new FakeNet(clock);
  let d = 100;
  const a = new BfdManager({ clock, openSocket: net.open, random: () => 0.5, discriminator: () => d++ });
  const b = new BfdManager({ clock, openSocket: net.open, random: () => 0.5, discriminator: () => d++ });
  const sha1 = (key: string) => ({ type: 4, keyId: 1, key: Buffer.from(key) });
  await a.add({ peer: '198.18.0.1', localAddress: '198.18.0.0', ...FAST, auth: sha1('k1') });
  await b.add({ peer: '198.18.0.0', localAddress: '198.18.0.1', ...FAST, auth: sha1('k1') });
  clock.advance(3000);
  const st = a.status().sessions[0]!;
  t.equal(st.state, 'Up');
  t.same(st.authentication, { type: 'keyed-sha1', keyId: 1 });
  // A datagram with a trailing byte beyond Length: the digest covers Length bytes only.
  const seen = b.status().sessions[0]!.counters.packetsIn;
  const out = net.sockets.get('198.18.0.1')!;
  net.sockets.set('198.18.0.1', {
    ...out,
    onPacket: (dg) => out.onPacket({ ...dg, data: Buffer.concat([dg.data, Buffer.from([0xff])]) }),
  });
  clock.advance(1000);
  t.ok(b.status().sessions[0]!.counters.packetsIn > seen, 'still accepted');
  t.same(b.status().sessions[0]!.counters.drops, {});
  await a.close();
  await b.close();
});
