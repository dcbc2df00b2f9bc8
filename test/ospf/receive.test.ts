/**
 * The receive path alone (RFC 2328 8.2, D.5): each check counts its reason and drops the packet,
 * Hellos reach the interface, other packets need a known neighbor, the crypto sequence number
 * guards against replays, and an exception inside processing is counted, not thrown.
 */
import t from 'tap';
import { ManualClock } from '../../src/lib/clock.js';
import { silentLogger } from '../../src/lib/log.js';
import { makeArea } from '../../src/ospf/context.js';
import type { FloodContext } from '../../src/ospf/flood.js';
import { OspfInterface } from '../../src/ospf/interface.js';
import { Lsdb } from '../../src/ospf/lsdb.js';
import { encodePacket, type OspfPacket, type PacketBody } from '../../src/ospf/packet/packet.js';
import { listen, receivePacket } from '../../src/ospf/receive.js';
import { config, FakeLink } from './harness.js';

const ME = '198.18.1.5';
const PEER = '198.18.1.9';
const MD5 = { type: 'md5' as const, keyId: 1, key: 'k' };

function setup(iface: Record<string, unknown> = {}, hooks: { neighborChanged?: () => void } = {}) {
  const clock = new ManualClock(1_000_000);
  const link = new FakeLink(clock);
  const sock = link.attach(ME, '255.255.255.0');
  const drops = new Map<string, number>();
  const ifaces: OspfInterface[] = [];
  const ctx: FloodContext = {
    routerId: ME,
    clock,
    logger: silentLogger,
    asLsdb: new Lsdb(clock),
    count: (r) => drops.set(r, (drops.get(r) ?? 0) + 1),
    neighborChanged: hooks.neighborChanged ?? (() => {}),
    interfaceChanged: () => {},
    floodingInterfaces: () => ifaces,
    isSelfOriginated: () => false,
    selfOriginatedReceived: () => {},
  };
  const i = new OspfInterface(ctx, config({}, iface).interfaces[0]!, makeArea('0.0.0.0', false, clock), sock);
  ifaces.push(i);
  i.event('InterfaceUp');
  const dropped = () => Object.fromEntries(drops);
  return { ctx, i, sock, dropped };
}

const hello = (neighbors: string[] = []): PacketBody => ({
  kind: 'hello',
  mask: '255.255.255.0',
  helloInterval: 10,
  options: 0x02,
  priority: 1,
  deadInterval: 40,
  dr: '0.0.0.0',
  bdr: '0.0.0.0',
  neighbors,
});

const packet = (body: PacketBody, over: Partial<OspfPacket> = {}): OspfPacket => ({
  routerId: PEER,
  areaId: '0.0.0.0',
  body,
  ...over,
});

t.test('generic checks (8.2): area, own router ID, subnet on broadcast, decoding', async (t) => {
  const s = setup({ network: 'broadcast', priority: 0 });
  receivePacket(s.ctx, s.i, encodePacket(packet(hello(), { areaId: '0.0.0.1' })), PEER);
  receivePacket(s.ctx, s.i, encodePacket(packet(hello(), { routerId: ME })), PEER);
  receivePacket(s.ctx, s.i, encodePacket(packet(hello())), '198.18.2.9');
  receivePacket(s.ctx, s.i, encodePacket(packet(hello())).subarray(0, 20), PEER);
  t.same(s.dropped(), { 'wrong-area': 1, 'own-packet': 1, 'wrong-subnet': 1, 'short-packet': 1 });
  t.equal(s.i.neighbors.size, 0, 'no neighbor from a dropped packet');
  receivePacket(s.ctx, s.i, encodePacket(packet(hello())), PEER);
  t.equal(s.i.neighbors.get(PEER)?.state, 'Init', 'a good Hello reaches the interface');
});

t.test('point-to-point takes any source address', async (t) => {
  const s = setup({ network: 'point-to-point' });
  receivePacket(s.ctx, s.i, encodePacket(packet(hello())), '198.18.2.9');
  t.same(s.dropped(), {});
  t.equal(s.i.neighbors.get(PEER)?.address, '198.18.2.9');
});

t.test('packets other than Hello need a known neighbor', async (t) => {
  const s = setup();
  receivePacket(s.ctx, s.i, encodePacket(packet({ kind: 'lsr', entries: [] })), PEER);
  receivePacket(s.ctx, s.i, encodePacket(packet({ kind: 'ack', headers: [] })), PEER);
  t.same(s.dropped(), { 'unknown-neighbor': 2 });
  receivePacket(s.ctx, s.i, encodePacket(packet(hello())), PEER);
  receivePacket(s.ctx, s.i, encodePacket(packet({ kind: 'ack', headers: [] })), PEER);
  t.same(s.dropped(), { 'unknown-neighbor': 2, 'ack-wrong-state': 1 }, 'dispatched to flooding (13.7)');
});

t.test('authentication and the crypto sequence replay check (D.5.2)', async (t) => {
  const s = setup({ auth: MD5 });
  receivePacket(s.ctx, s.i, encodePacket(packet(hello()), { ...MD5, key: 'other' }, 10), PEER);
  receivePacket(s.ctx, s.i, encodePacket(packet(hello())), PEER);
  t.same(s.dropped(), { 'auth-key': 1, 'auth-type': 1 }, 'wrong key and missing auth both dropped');
  t.equal(s.i.neighbors.size, 0);
  receivePacket(s.ctx, s.i, encodePacket(packet(hello()), MD5, 100), PEER);
  t.equal(s.i.neighbors.get(PEER)?.cryptoSeq, 100, 'a new neighbor starts its window at its first Hello');
  receivePacket(s.ctx, s.i, encodePacket(packet(hello()), MD5, 99), PEER);
  t.equal(s.dropped()['auth-replay'], 1, 'lower sequence number: replay');
  receivePacket(s.ctx, s.i, encodePacket(packet(hello()), MD5, 100), PEER);
  t.equal(s.dropped()['auth-replay'], 1, 'the same number is accepted');
  receivePacket(s.ctx, s.i, encodePacket(packet(hello()), MD5, 150), PEER);
  t.equal(s.i.neighbors.get(PEER)?.cryptoSeq, 150);
});

t.test('listen: an exception while processing is counted and logged, never thrown', async (t) => {
  const s = setup(
    {},
    {
      neighborChanged: () => {
        throw new Error('boom');
      },
    },
  );
  listen(s.ctx, s.i);
  t.doesNotThrow(() => s.sock.handler?.(encodePacket(packet(hello())), PEER));
  t.equal(s.dropped()['internal-error'], 1);
});
