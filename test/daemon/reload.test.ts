/**
 * Reload end to end inside one process: a BGP speaker with two leafs on the memory transport, the
 * configuration file rewritten, the Reloader applying the difference. The untouched leaf's
 * session must never be reset.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { MemoryNetwork } from '../../src/bgp/memory-transport.js';
import { BgpSpeaker } from '../../src/bgp/speaker.js';
import { type Config, parseConfig } from '../../src/config/index.js';
import { Reloader, ReloadRefused, type ReloadTarget } from '../../src/daemon/reload.js';
import { ManualClock } from '../../src/lib/clock.js';
import { silentLogger } from '../../src/lib/log.js';
import { formatPrefix, parsePrefix } from '../../src/net/prefix.js';
import { ScriptedPeer as Peer, type ScriptedPeer, settle } from '../bgp/scripted-peer.js';

const NODE = '198.18.0.2';
const LEAF1 = '198.18.0.1';
const LEAF2 = '198.18.0.3';
const LEAF3 = '198.18.0.5';

const yaml = (announce: string[], peers: string[]) =>
  `node: { routerId: ${NODE} }\nannounce: [${announce.join(', ')}]\nbgp:\n  asn: 65001\n  peers:\n${peers
    .map((p) => `    - ${p}\n`)
    .join('')}`;

const leaf1 = `{ address: ${LEAF1}, asn: 65000, accept: all }`;
const leaf2 = `{ address: ${LEAF2}, asn: 65000 }`;

async function rig(t: { teardown(fn: () => void): void }, first: string) {
  const dir = mkdtempSync(join(tmpdir(), 'podroute-reload-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'podroute.yaml');
  writeFileSync(file, first);
  let config: Config = parseConfig(first);
  const clock = new ManualClock();
  const net = new MemoryNetwork(NODE);
  const leafs = new Map<string, ScriptedPeer[]>();
  for (const leaf of [LEAF1, LEAF2, LEAF3]) {
    leafs.set(leaf, []);
    net.answer(leaf, 179, (far) => leafs.get(leaf)!.push(new Peer(far)));
  }
  const speaker = new BgpSpeaker({
    asn: 65001,
    routerId: NODE,
    peers: config.bgp!.peers,
    listenPort: 0,
    clock,
    logger: silentLogger,
    transport: net,
    random: null,
  });
  const desired = () => speaker.setDesired(config.announce.map((p) => parsePrefix(String(p))));
  const target: ReloadTarget = {
    get config() {
      return config;
    },
    bgp: speaker,
    node: 'n1',
    logger: silentLogger,
    adopt: (next) => {
      config = next;
      desired();
    },
  };
  const reloader = new Reloader(file, () => target);
  desired();
  await speaker.start();
  await settle();
  const up = async (leaf: string) => {
    const p = leafs.get(leaf)!.at(-1)!;
    p.accept({ asn: 65000, id: leaf });
    await settle();
    return p;
  };
  const state = (leaf: string) => speaker.status().peers.find((p) => p.address === leaf)?.state;
  const write = (text: string) => writeFileSync(file, text);
  return { speaker, leafs, reloader, up, state, write, clock };
}

const announced = (p: ScriptedPeer) => p.updates.flatMap((u) => u.nlri.map(formatPrefix)).sort();
const withdrawn = (p: ScriptedPeer) => p.updates.flatMap((u) => u.withdrawn.map(formatPrefix)).sort();

t.test('add, change announcements, remove: the untouched session stays', async (t) => {
  const r = await rig(t, yaml(['198.18.100.0/24'], [leaf1]));
  const l1 = await r.up(LEAF1);
  t.equal(r.state(LEAF1), 'Established');
  t.same(announced(l1), ['198.18.100.0/24']);

  r.write(yaml(['198.18.100.0/24'], [leaf1, leaf2]));
  t.same(await r.reloader.reload('test'), [`bgp peer ${LEAF2}: added`]);
  await settle();
  const l2 = await r.up(LEAF2);
  t.equal(r.state(LEAF2), 'Established', 'the added peer comes up');
  t.same(announced(l2), ['198.18.100.0/24']);

  r.write(yaml(['198.18.100.0/24', '198.18.101.0/24'], [leaf1, leaf2]));
  t.same(await r.reloader.reload('test'), ['announcements updated']);
  await settle();
  t.same(announced(l1), ['198.18.100.0/24', '198.18.101.0/24'], 'new prefix sent as an UPDATE');
  t.same(announced(l2), ['198.18.100.0/24', '198.18.101.0/24']);

  r.write(yaml(['198.18.101.0/24'], [leaf1]));
  const applied = await r.reloader.reload('test');
  t.same(applied, [`bgp peer ${LEAF2}: removed`, 'announcements updated']);
  await settle();
  t.same(l2.notes, ['6/2'], 'the removed peer gets Cease / Administrative Shutdown');
  t.ok(l2.closed);
  t.same(withdrawn(l1), ['198.18.100.0/24']);
  t.equal(r.state(LEAF1), 'Established');
  t.equal(r.leafs.get(LEAF1)!.length, 1, 'leaf 1 never saw a second connection');
  t.same(l1.notes, [], 'leaf 1 never got a NOTIFICATION');
  t.equal(r.speaker.status().peers.length, 1);
  await r.speaker.stop({ drain: true });
});

t.test('a bad file or a restart-only change is refused, the old config keeps running', async (t) => {
  const r = await rig(t, yaml(['198.18.100.0/24'], [leaf1]));
  const l1 = await r.up(LEAF1);
  const sent = l1.updates.length;
  r.write(`${yaml(['198.18.100.0/24'], [leaf1])}  bogus: 1\n`);
  await t.rejects(r.reloader.reload('test'), new ReloadRefused(['bgp.bogus: is not a known key']));
  r.write(yaml(['198.18.100.0/24'], [leaf1]).replace('asn: 65001', 'asn: 65009'));
  const e = await r.reloader.reload('test').catch((x: unknown) => x);
  t.type(e, ReloadRefused);
  t.same((e as ReloadRefused).problems, ['bgp.asn: changing the local ASN needs a restart']);
  r.write('announce: [not-a-prefix');
  const y = await r.reloader.reload('test').catch((x: unknown) => x);
  t.match((y as ReloadRefused).problems[0], /YAML/);
  await settle();
  t.equal(r.state(LEAF1), 'Established');
  t.same(l1.notes, []);
  t.equal(l1.updates.length, sent, 'nothing sent after the refusals');
  await r.speaker.stop({ drain: true });
});

t.test('session settings reset only that peer; policy changes go without a reset', async (t) => {
  const r = await rig(t, yaml(['198.18.100.0/24', '198.18.101.0/24'], [leaf1, leaf2]));
  const l1 = await r.up(LEAF1);
  const l2 = await r.up(LEAF2);
  // leaf 1 sends two routes; accept: all keeps them.
  l1.send({
    type: 2,
    withdrawn: [],
    attributes: { origin: 0, asPath: [{ type: 2, asns: [65000] }], nextHop: LEAF1 },
    nlri: [parsePrefix('198.19.128.0/17'), parsePrefix('198.18.200.0/24')],
  });
  await settle();
  t.equal(r.speaker.receivedRoutes(LEAF1).length, 2);

  // An import list now keeps only 198.19.128.0/17: 198.18.200.0/24 goes at once, and a ROUTE-REFRESH asks again.
  const l1import = `{ address: ${LEAF1}, asn: 65000, import: { ipv4: [{ prefix: 198.19.128.0/17, action: permit }] } }`;
  // leaf 2 exports only 198.18.100.0/24; leaf 2's holdTime is left alone.
  const l2export = `{ address: ${LEAF2}, asn: 65000, export: { ipv4: [{ prefix: 198.18.100.0/24, action: permit }] } }`;
  r.write(yaml(['198.18.100.0/24', '198.18.101.0/24'], [l1import, l2export]));
  const applied = await r.reloader.reload('test');
  t.same(applied.sort(), [
    `bgp peer ${LEAF1}: import applied without a session reset`,
    `bgp peer ${LEAF2}: export applied without a session reset`,
  ]);
  await settle();
  t.same(
    r.speaker.receivedRoutes(LEAF1).map((x) => formatPrefix(x.prefix)),
    ['198.19.128.0/17'],
  );
  t.equal(l1.count(5), 2, 'ROUTE-REFRESH per negotiated family (RFC 2918)');
  t.same(withdrawn(l2), ['198.18.101.0/24'], 'the export list withdraws what it no longer allows');
  t.same([l1.notes, l2.notes], [[], []]);

  // holdTime on leaf 2 needs a new OPEN: leaf 2 alone is reset.
  r.write(
    yaml(
      ['198.18.100.0/24', '198.18.101.0/24'],
      [l1import, l2export.replace('asn: 65000', 'asn: 65000, holdTime: 30')],
    ),
  );
  t.same(await r.reloader.reload('test'), [`bgp peer ${LEAF2}: session reset for holdTime`]);
  await settle();
  t.same(l2.notes, ['6/2']);
  const l2again = await r.up(LEAF2);
  t.not(l2again, l2, 'a new connection');
  t.equal(l2again.opens[0]?.holdTime, 30);
  t.equal(r.state(LEAF2), 'Established');
  t.same(l1.notes, []);
  t.equal(r.leafs.get(LEAF1)!.length, 1);
  await r.speaker.stop({ drain: true });
});

t.test('reloads run one at a time, and not while the daemon is not running', async (t) => {
  const r = await rig(t, yaml(['198.18.100.0/24'], [leaf1]));
  r.write(yaml(['198.18.100.0/24'], [leaf1, leaf2]));
  const [a, b] = await Promise.all([r.reloader.reload('one'), r.reloader.reload('two')]);
  t.same(a, [`bgp peer ${LEAF2}: added`]);
  t.same(b, [], 'the second found nothing left to do');
  const idle = new Reloader('/nonexistent', () => undefined);
  const refused = await idle.reload('SIGHUP').catch((x: unknown) => x);
  t.same((refused as ReloadRefused).problems, ['reload: the daemon is starting or stopping; try again']);
  await r.speaker.stop({ drain: true });
});

t.test('communities change: UPDATEs with the new ones, no reset', async (t) => {
  const r = await rig(t, yaml(['198.18.100.0/24'], [leaf1]));
  const l1 = await r.up(LEAF1);
  const before = l1.updates.length;
  r.write(
    yaml(
      ['198.18.100.0/24'],
      [leaf1.replace('accept: all', 'accept: all, communities: ["65001:7"]')],
    ).replace('asn: 65001', 'asn: 65001\n  communities: ["65001:100"]'),
  );
  const applied = await r.reloader.reload('test');
  t.same(applied, [
    `bgp peer ${LEAF1}: communities applied without a session reset`,
    'bgp communities / graceful shutdown updated',
  ]);
  await settle();
  const sent = l1.updates.slice(before).filter((u) => u.nlri.length > 0);
  t.ok(sent.length >= 1, 'the route was sent again');
  t.same(sent.at(-1)?.attributes.communities, [65001 * 65536 + 7, 65001 * 65536 + 100]);
  t.same(l1.notes, []);
  t.equal(r.leafs.get(LEAF1)!.length, 1);
  await r.speaker.stop({ drain: true });
});
