import t from 'tap';
import { GRACEFUL_SHUTDOWN, mergeTags, prefixTagsFromAnnounce, tagsKey } from '../../src/bgp/communities.js';
import { MemoryNetwork } from '../../src/bgp/memory-transport.js';
import type { UpdateMessage } from '../../src/bgp/message/index.js';
import { BgpSpeaker } from '../../src/bgp/speaker.js';
import { bgpPeerSchema } from '../../src/config/bgp.js';
import {
  formatCommunity,
  formatLargeCommunity,
  parseCommunity,
  parseLargeCommunity,
} from '../../src/config/communities.js';
import { parseConfig } from '../../src/config/load.js';
import { ManualClock } from '../../src/lib/clock.js';
import { silentLogger } from '../../src/lib/log.js';
import { formatPrefix, parsePrefix } from '../../src/net/prefix.js';
import { ScriptedPeer, settle } from './scripted-peer.js';

const L = (g: number, a: number, b: number) => ({ globalAdmin: g, localData1: a, localData2: b });

t.test('community text: RFC 1997 halves, well-known names, RFC 8092 parts', async (t) => {
  const table: [string, number | undefined][] = [
    ['65001:100', 65001 * 65536 + 100],
    ['0:0', 0],
    ['65535:65535', 0xffffffff],
    ['GRACEFUL_SHUTDOWN', 0xffff0000],
    ['graceful_shutdown', 0xffff0000],
    ['NO_EXPORT', 0xffffff01],
    ['65536:1', undefined],
    ['1:65536', undefined],
    ['1:2:3', undefined],
    ['-1:2', undefined],
    ['1:', undefined],
    ['', undefined],
  ];
  for (const [text, want] of table) t.equal(parseCommunity(text), want, text);
  t.equal(formatCommunity(GRACEFUL_SHUTDOWN), '65535:0');
  t.same(parseLargeCommunity('65001:1:1'), L(65001, 1, 1));
  t.same(parseLargeCommunity('4294967295:0:4294967295'), L(0xffffffff, 0, 0xffffffff));
  for (const bad of ['4294967296:0:0', '1:2', '1:2:3:4', 'a:b:c', '1::2'])
    t.equal(parseLargeCommunity(bad), undefined, bad);
  t.equal(formatLargeCommunity(L(1, 2, 3)), '1:2:3');
});

t.test('configuration: parsed, and refused with key.path messages', async (t) => {
  const c = parseConfig(
    [
      'announce: [198.19.1.0/24, {prefix: 198.19.2.0/24, communities: ["65001:7"], largeCommunities: ["1:2:3"]}]',
      'bgp: {asn: 65001, communities: ["65001:100"], largeCommunities: ["65001:1:1"], gracefulShutdown: {wait: 3},',
      '  peers: [{address: 198.18.0.1, asn: 65000, communities: ["1:1"], holdTime: 9, sendHoldTime: 30}]}',
    ].join('\n'),
  );
  t.same(c.announce[0], '198.19.1.0/24', 'the plain string form stays a string');
  t.same(c.announce[1], {
    prefix: '198.19.2.0/24',
    communities: [65001 * 65536 + 7],
    largeCommunities: [L(1, 2, 3)],
  });
  t.same(c.bgp?.communities, [65001 * 65536 + 100]);
  t.same(c.bgp?.largeCommunities, [L(65001, 1, 1)]);
  t.same(c.bgp?.gracefulShutdown, { wait: 3 });
  t.same(c.bgp?.peers[0]?.communities, [65537]);
  t.equal(c.bgp?.peers[0]?.sendHoldTime, 30);
  const bad: [string, string][] = [
    [
      'bgp: {asn: 1, communities: ["70000:1"]}',
      'bgp.communities[0]: "70000:1" is not a community (ASN:value, each 0..65535, or a well-known name)',
    ],
    [
      'bgp: {asn: 1, peers: [{address: 198.18.0.1, asn: 2, largeCommunities: ["1:2"]}]}',
      'bgp.peers[0].largeCommunities[0]: "1:2" is not a large community',
    ],
    [
      'announce: [{prefix: 198.19.2.0/24, communities: [x]}]',
      'announce[0].communities[0]: "x" is not a community',
    ],
    ['announce: [{prefix: 198.19.2.1/24}]', 'announce[0].prefix: "198.19.2.1/24" is not a valid prefix'],
    ['announce: [{prefix: 198.19.2.0/24, color: 1}]', 'announce[0].color: is not a known key'],
    ['announce: [nonsense]', 'announce[0]: "nonsense" is not a valid prefix'],
    [
      'bgp: {asn: 1, gracefulShutdown: {wait: 31}}',
      'bgp.gracefulShutdown.wait: 31 is not a number of seconds in 0..30',
    ],
    [
      'bgp: {asn: 1, peers: [{address: 198.18.0.1, asn: 2, sendHoldTime: 5}]}',
      'bgp.peers[0].sendHoldTime: 5 is not a number of seconds in 10..65535',
    ],
  ];
  for (const [yaml, msg] of bad)
    t.throws(() => parseConfig(yaml), { message: new RegExp(escapeRe(msg)) }, msg);
});

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

t.test('merge: union without duplicates, sorted; the key tells changes apart', async (t) => {
  const m = mergeTags(
    { communities: [5, 1] },
    undefined,
    { communities: [1, 3], largeCommunities: [L(2, 0, 0)] },
    {
      largeCommunities: [L(1, 9, 9), L(2, 0, 0)],
    },
  );
  t.same(m, { communities: [1, 3, 5], largeCommunities: [L(1, 9, 9), L(2, 0, 0)] });
  t.same(mergeTags(), {});
  t.equal(tagsKey({}), '');
  t.not(tagsKey({ communities: [1] }), tagsKey({ largeCommunities: [L(0, 0, 1)] }));
  t.equal(tagsKey(mergeTags({ communities: [2, 1] })), tagsKey(mergeTags({ communities: [1, 2, 2] })));
  const per = prefixTagsFromAnnounce(['198.19.1.0/24', { prefix: '198.19.2.0/24', communities: [7] }]);
  t.same([...per.entries()], [['198.19.2.0/24', { communities: [7] }]]);
});

const LEAF = '198.18.0.1';
const NODE = '198.18.0.2';

async function rig(wait = 0) {
  const clock = new ManualClock();
  const net = new MemoryNetwork(NODE);
  const peers: ScriptedPeer[] = [];
  net.answer(LEAF, 179, (far) => peers.push(new ScriptedPeer(far)));
  const speaker = new BgpSpeaker({
    asn: 65001,
    routerId: NODE,
    peers: [bgpPeerSchema.parse({ address: LEAF, asn: 65000, communities: ['65001:2'] })],
    listenPort: 179,
    clock,
    logger: silentLogger,
    transport: net,
    random: null,
    communities: { communities: [65001 * 65536 + 1], largeCommunities: [L(65001, 1, 1)] },
    gracefulShutdownWait: wait,
  });
  speaker.setPrefixTags(
    prefixTagsFromAnnounce([{ prefix: '198.19.2.0/24', communities: [65001 * 65536 + 3] }]),
  );
  speaker.setDesired([parsePrefix('198.19.1.0/24'), parsePrefix('198.19.2.0/24')]);
  await speaker.start();
  await settle();
  const peer = peers[0]!;
  peer.accept({ asn: 65000, id: LEAF });
  await settle();
  return { clock, speaker, peer };
}

/** Per announced prefix, the communities of the last UPDATE that carried it. */
function communitiesOf(updates: readonly UpdateMessage[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const u of updates) {
    const c = (u.attributes.communities ?? []).map(formatCommunity).join(' ');
    const l = (u.attributes.largeCommunities ?? []).map(formatLargeCommunity).join(' ');
    for (const p of u.nlri) out[formatPrefix(p)] = `${c} | ${l}`;
    for (const p of u.withdrawn) out[formatPrefix(p)] = 'withdrawn';
  }
  return out;
}

t.test(
  'speaker: global + peer + per-prefix communities; a change of communities alone is sent',
  async (t) => {
    const { speaker, peer } = await rig();
    t.same(communitiesOf(peer.updates), {
      '198.19.1.0/24': '65001:1 65001:2 | 65001:1:1',
      '198.19.2.0/24': '65001:1 65001:2 65001:3 | 65001:1:1',
    });
    const before = peer.updates.length;
    speaker.setDesired([parsePrefix('198.19.1.0/24'), parsePrefix('198.19.2.0/24')]);
    await settle();
    t.equal(peer.updates.length, before, 'the same set and communities: nothing sent');
    speaker.setPrefixTags(
      prefixTagsFromAnnounce([{ prefix: '198.19.1.0/24', largeCommunities: [L(9, 9, 9)] }]),
    );
    await settle();
    const sent = peer.updates.slice(before);
    t.same(communitiesOf(sent), {
      '198.19.1.0/24': '65001:1 65001:2 | 9:9:9 65001:1:1',
      '198.19.2.0/24': '65001:1 65001:2 | 65001:1:1',
    });
    t.equal(sent.flatMap((u) => u.withdrawn).length, 0, 'implicit replacement, no withdrawal');
    await speaker.stop({ drain: true });
  },
);

t.test(
  'drain with gracefulShutdown.wait: GRACEFUL_SHUTDOWN, the wait, then withdraw and Cease',
  async (t) => {
    const { clock, speaker, peer } = await rig(3);
    const before = peer.updates.length;
    const stopped = speaker.stop({ drain: true, message: 'bye' });
    await settle();
    t.same(communitiesOf(peer.updates.slice(before)), {
      '198.19.1.0/24': '65001:1 65001:2 65535:0 | 65001:1:1',
      '198.19.2.0/24': '65001:1 65001:2 65001:3 65535:0 | 65001:1:1',
    });
    t.equal(peer.notifications.length, 0, 'still up during the wait');
    clock.advance(2999);
    await settle();
    t.equal(peer.notifications.length, 0);
    t.same(
      peer.updates.flatMap((u) => u.withdrawn),
      [],
      'nothing withdrawn before the wait is over',
    );
    clock.advance(1);
    await settle();
    await stopped;
    t.same(peer.updates.flatMap((u) => u.withdrawn).map(formatPrefix), ['198.19.1.0/24', '198.19.2.0/24']);
    t.same(peer.notes, ['6/2']);
  },
);

t.test('wait 0 (default): withdrawn at once, no GRACEFUL_SHUTDOWN', async (t) => {
  const { speaker, peer } = await rig(0);
  const before = peer.updates.length;
  await speaker.stop({ drain: true });
  await settle();
  const sent = peer.updates.slice(before);
  t.notOk(sent.some((u) => u.attributes.communities?.includes(GRACEFUL_SHUTDOWN)));
  t.same(sent.flatMap((u) => u.withdrawn).map(formatPrefix), ['198.19.1.0/24', '198.19.2.0/24']);
});

t.test('removePeer: GRACEFUL_SHUTDOWN, wait, withdraw, Cease; the peer is gone from status', async (t) => {
  const { clock, speaker, peer } = await rig(2);
  const before = peer.updates.length;
  const removed = speaker.removePeer(LEAF, 'peer removed from the configuration');
  await settle();
  t.ok(peer.updates.slice(before).every((u) => u.attributes.communities?.includes(GRACEFUL_SHUTDOWN)));
  clock.advance(2000);
  await settle();
  t.equal(await removed, true);
  t.same(peer.notes, ['6/2']);
  t.same(speaker.status().peers, []);
  t.equal(await speaker.removePeer(LEAF), false, 'unknown now');
  await speaker.stop({ drain: true });
});
