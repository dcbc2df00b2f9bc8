/**
 * The speaker applies each peer's policy: export lists decide which of the node's prefixes go out
 * (and a changed desired set only sends what the list allows), import lists decide which received
 * prefixes are kept; without policy the default (all own prefixes out, `accept` in) is unchanged.
 * A silent passive peer with a TCP MD5 password gets the likely cause in its lastError.
 */
import t from 'tap';
import { MemoryNetwork } from '../../src/bgp/memory-transport.js';
import type { UpdateMessage } from '../../src/bgp/message/index.js';
import { BgpSpeaker } from '../../src/bgp/speaker.js';
import { bgpPeerSchema } from '../../src/config/bgp.js';
import { ManualClock } from '../../src/lib/clock.js';
import { silentLogger } from '../../src/lib/log.js';
import { formatPrefix, parsePrefix } from '../../src/net/prefix.js';
import { ScriptedPeer, settle } from './scripted-peer.js';

const LEAF = '198.18.0.1';
const NODE = '198.18.0.2';
const P = (s: string) => parsePrefix(s);

function rig(peer: Record<string, unknown> = {}) {
  const clock = new ManualClock();
  const net = new MemoryNetwork(NODE);
  const peers: ScriptedPeer[] = [];
  net.answer(LEAF, 179, (far) => peers.push(new ScriptedPeer(far)));
  const speaker = new BgpSpeaker({
    asn: 65001,
    routerId: NODE,
    peers: [bgpPeerSchema.parse({ address: LEAF, asn: 65000, ipv6NextHop: '2001:db8::2', ...peer })],
    listenPort: 179,
    clock,
    logger: silentLogger,
    transport: net,
    random: null,
  });
  return { clock, net, speaker, peers };
}

async function up(r: ReturnType<typeof rig>): Promise<ScriptedPeer> {
  await r.speaker.start();
  await settle();
  const peer = r.peers[r.peers.length - 1]!;
  peer.accept({ asn: 65000, id: LEAF });
  await settle();
  return peer;
}

function announced(updates: UpdateMessage[]): string[] {
  return updates
    .flatMap((u) => [...u.nlri, ...(u.attributes.mpReach?.nlri ?? [])])
    .map(formatPrefix)
    .sort();
}

const OWN = ['198.19.1.0/24', '198.19.2.0/24', '2001:db8:1::/48', '2001:db8:2::/48'];

t.test('export: default policy sends every own prefix; lists limit it per family', async (t) => {
  for (const [name, cfg, expected] of [
    ['no policy (RFC 8212 default)', {}, OWN],
    [
      'one list: IPv6 gets the implicit deny',
      { export: [{ prefix: '198.19.1.0/24', action: 'permit' }] },
      ['198.19.1.0/24'],
    ],
    [
      'per family: IPv6 without a list keeps the default',
      {
        export: {
          ipv4: [
            { prefix: '198.19.0.0/16', le: 24, action: 'permit' },
            { prefix: '0.0.0.0/0', action: 'deny' },
          ],
        },
      },
      OWN,
    ],
    [
      'deny first, then permit',
      {
        export: [
          { prefix: '2001:db8:2::/48', action: 'deny' },
          { prefix: '::/0', le: 128, action: 'permit' },
        ],
      },
      ['2001:db8:1::/48'],
    ],
  ] as const) {
    const r = rig(cfg as Record<string, unknown>);
    r.speaker.setDesired(OWN.map(P));
    const peer = await up(r);
    t.same(announced(peer.updates), [...expected].sort(), name);
    t.equal(r.speaker.status().peers[0]!.prefixesSent, expected.length, `${name}: prefixesSent`);
  }
});

t.test('export: a new desired prefix goes out only if the list permits it', async (t) => {
  const r = rig({ export: [{ prefix: '198.19.0.0/16', ge: 24, le: 24, action: 'permit' }] });
  r.speaker.setDesired([P('198.19.1.0/24')]);
  const peer = await up(r);
  const before = peer.updates.length;
  r.speaker.setDesired([P('198.19.1.0/24'), P('198.19.3.0/24'), P('198.19.0.0/16')]);
  await settle();
  t.same(announced(peer.updates.slice(before)), ['198.19.3.0/24'], 'the /16 is outside ge 24');
});

function update(prefixes: string[]): UpdateMessage {
  return {
    type: 2,
    withdrawn: [],
    attributes: { origin: 0, asPath: [{ type: 2, asns: [65000] }], nextHop: LEAF },
    nlri: prefixes.map(P),
  };
}

t.test('import: lists narrow accept; default is accept none', async (t) => {
  const sent = ['0.0.0.0/0', '198.18.100.0/24', '198.18.101.0/24'];
  for (const [name, cfg, kept] of [
    ['no policy: accept none', {}, []],
    ['accept default', { accept: 'default' }, ['0.0.0.0/0']],
    ['import list alone', { import: [{ prefix: '198.18.100.0/24', action: 'permit' }] }, ['198.18.100.0/24']],
    [
      'import list with accept default',
      { accept: 'default', import: [{ prefix: '0.0.0.0/0', le: 32, action: 'permit' }] },
      ['0.0.0.0/0'],
    ],
  ] as const) {
    const r = rig(cfg as Record<string, unknown>);
    const peer = await up(r);
    peer.send(update(sent));
    await settle();
    const st = r.speaker.status().peers[0]!;
    t.equal(st.prefixesReceived, 3, `${name}: all counted`);
    t.same(
      r.speaker
        .receivedRoutes()
        .map((x) => formatPrefix(x.prefix))
        .sort(),
      [...kept].sort(),
      name,
    );
  }
});

t.test('a passive peer with a password that stays silent: lastError names the likely cause', async (t) => {
  const r = rig({ passive: true, password: 'secret-xyz', connectRetryTime: 5 });
  await r.speaker.start();
  await settle();
  t.equal(r.speaker.status().peers[0]!.lastError, null, 'nothing to say yet');
  r.clock.advance(9_000);
  t.equal(r.speaker.status().peers[0]!.lastError, null, 'still within two connect-retry times');
  r.clock.advance(2_000);
  const e = r.speaker.status().peers[0]!.lastError;
  t.equal(
    e,
    `no connection from ${LEAF} for 11 s — with a TCP MD5 password configured, a password mismatch is the likely cause`,
  );
  t.notOk(JSON.stringify(r.speaker.status()).includes('secret-xyz'), 'no password in status');
  await r.speaker.stop({ drain: false });
});

t.test('a silent passive peer without MD5 or GTSM keeps plain status', async (t) => {
  const r = rig({ passive: true, connectRetryTime: 5 });
  await r.speaker.start();
  await settle();
  r.clock.advance(60_000);
  t.equal(r.speaker.status().peers[0]!.lastError, null);
  await r.speaker.stop({ drain: false });
});
