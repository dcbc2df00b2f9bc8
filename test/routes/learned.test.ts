/**
 * The learned-route selection as a table: per case the peers' paths in, the kernel route (or none)
 * and each path's fate out. Covers the RFC 4271 9.1.1 / 9.1.2.2 steps one at a time, ECMP across
 * tied paths, the prefixes podroute must never learn, `install: false`, next-hop resolution
 * (IPv4, IPv6 global, IPv6 link-local through the session's interface) and a peer going away.
 */
import t from 'tap';
import { formatPrefix, parsePrefix } from '../../src/net/prefix.js';
import type { ConnectedPrefix } from '../../src/routes/desired.js';
import {
  asPathLength,
  formatAsPath,
  type LearnedPath,
  type LearnedPeer,
  selectLearned,
} from '../../src/routes/learned.js';
import { learnedStatus } from '../../src/routes/learned-view.js';
import { describeRoute, routeKey } from '../../src/routes/route.js';

const P = parsePrefix;
const SEQ = 2;
const SET = 1;

const connected: ConnectedPrefix[] = [
  { ifindex: 2, ifname: 'eth1', address: '198.18.0.1', prefix: P('198.18.0.0/31') },
  { ifindex: 3, ifname: 'eth2', address: '198.18.0.3', prefix: P('198.18.0.2/31') },
  { ifindex: 2, ifname: 'eth1', address: '2001:db8::1', prefix: P('2001:db8::/127') },
  { ifindex: 3, ifname: 'eth2', address: '2001:db8::3', prefix: P('2001:db8::2/127') },
];

const path = (
  prefix: string,
  nextHop: string,
  asns: number[],
  over: Partial<LearnedPath> = {},
): LearnedPath => ({
  prefix: P(prefix),
  nextHop,
  asPath: asns.length ? [{ type: SEQ, asns }] : [],
  origin: 0,
  ...over,
});

function peer(
  address: string,
  asn: number,
  routerId: string,
  routes: LearnedPath[],
  over: Partial<LearnedPeer> = {},
): LearnedPeer {
  return { address, asn, ibgp: asn === 65001, routerId, install: true, routes, ...over };
}

/** leaf1 = 198.18.0.0 (id 10.0.0.1, AS 65101), leaf2 = 198.18.0.2 (id 10.0.0.2, AS 65102); we are AS 65001. */
const leaf1 = (routes: LearnedPath[], over: Partial<LearnedPeer> = {}) =>
  peer('198.18.0.0', 65101, '10.0.0.1', routes, over);
const leaf2 = (routes: LearnedPath[], over: Partial<LearnedPeer> = {}) =>
  peer('198.18.0.2', 65102, '10.0.0.2', routes, over);

interface Case {
  name: string;
  peers: LearnedPeer[];
  own?: string[];
  pods?: string[];
  /** describeRoute of every kernel route. */
  routes: string[];
  /** "peer prefix: best|multipath|<reason>" per path, in the decision order. */
  paths: string[];
}

const cases: Case[] = [
  {
    name: 'equal AS-path length from two leafs (different ASNs): one ECMP route, lowest BGP id is best',
    peers: [
      leaf2([path('0.0.0.0/0', '198.18.0.2', [65102])]),
      leaf1([path('0.0.0.0/0', '198.18.0.0', [65101])]),
    ],
    routes: ['0.0.0.0/0 via 198.18.0.0 dev 2 via 198.18.0.2 dev 3'],
    paths: ['198.18.0.0 0.0.0.0/0: best', '198.18.0.2 0.0.0.0/0: multipath'],
  },
  {
    name: '(a) the shorter AS path wins alone',
    peers: [
      leaf1([path('0.0.0.0/0', '198.18.0.0', [65101, 65200])]),
      leaf2([path('0.0.0.0/0', '198.18.0.2', [65102])]),
    ],
    routes: ['0.0.0.0/0 via 198.18.0.2 dev 3'],
    paths: ['198.18.0.2 0.0.0.0/0: best', '198.18.0.0 0.0.0.0/0: longer AS path'],
  },
  {
    name: '(a) an AS_SET counts as one AS: {65200,65300} ties with one more AS',
    peers: [
      leaf1([
        path('0.0.0.0/0', '198.18.0.0', [], {
          asPath: [
            { type: SEQ, asns: [65101] },
            { type: SET, asns: [65200, 65300] },
          ],
        }),
      ]),
      leaf2([path('0.0.0.0/0', '198.18.0.2', [65102, 65200])]),
    ],
    routes: ['0.0.0.0/0 via 198.18.0.0 dev 2 via 198.18.0.2 dev 3'],
    paths: ['198.18.0.0 0.0.0.0/0: best', '198.18.0.2 0.0.0.0/0: multipath'],
  },
  {
    name: '(b) the lower origin wins (IGP over incomplete; a missing ORIGIN ranks as incomplete)',
    peers: [
      leaf1([path('0.0.0.0/0', '198.18.0.0', [65101], { origin: 2 })]),
      leaf2([path('0.0.0.0/0', '198.18.0.2', [65102], { origin: 0 })]),
      peer('198.18.0.4', 65103, '10.0.0.0', [
        { prefix: P('0.0.0.0/0'), nextHop: '198.18.0.0', asPath: [{ type: SEQ, asns: [65103] }] },
      ]),
    ],
    routes: ['0.0.0.0/0 via 198.18.0.2 dev 3'],
    paths: [
      '198.18.0.2 0.0.0.0/0: best',
      '198.18.0.0 0.0.0.0/0: higher origin',
      '198.18.0.4 0.0.0.0/0: higher origin',
    ],
  },
  {
    name: '(c) MED decides between paths from the same neighbour AS (a missing MED is 0)',
    peers: [
      leaf1([path('0.0.0.0/0', '198.18.0.0', [65100], { med: 10 })], { asn: 65100 }),
      leaf2([path('0.0.0.0/0', '198.18.0.2', [65100])], { asn: 65100 }),
    ],
    routes: ['0.0.0.0/0 via 198.18.0.2 dev 3'],
    paths: ['198.18.0.2 0.0.0.0/0: best', '198.18.0.0 0.0.0.0/0: higher MED'],
  },
  {
    name: '(c) MED is not compared across neighbour ASes: ECMP',
    peers: [
      leaf1([path('0.0.0.0/0', '198.18.0.0', [65101], { med: 10 })]),
      leaf2([path('0.0.0.0/0', '198.18.0.2', [65102], { med: 20 })]),
    ],
    routes: ['0.0.0.0/0 via 198.18.0.0 dev 2 via 198.18.0.2 dev 3'],
    paths: ['198.18.0.0 0.0.0.0/0: best', '198.18.0.2 0.0.0.0/0: multipath'],
  },
  {
    name: '(d) eBGP over iBGP at equal AS-path length',
    peers: [
      leaf1([path('0.0.0.0/0', '198.18.0.0', [65200])], { asn: 65001, ibgp: true }),
      leaf2([path('0.0.0.0/0', '198.18.0.2', [65102])]),
    ],
    routes: ['0.0.0.0/0 via 198.18.0.2 dev 3'],
    paths: ['198.18.0.2 0.0.0.0/0: best', '198.18.0.0 0.0.0.0/0: iBGP (an eBGP path exists)'],
  },
  {
    name: '9.1.1: an iBGP path with a higher LOCAL_PREF beats a shorter eBGP path (eBGP counts as 100)',
    peers: [
      leaf1([path('0.0.0.0/0', '198.18.0.0', [65200, 65300], { localPref: 200 })], {
        asn: 65001,
        ibgp: true,
      }),
      leaf2([path('0.0.0.0/0', '198.18.0.2', [65102], { localPref: 500 })]),
    ],
    routes: ['0.0.0.0/0 via 198.18.0.0 dev 2'],
    paths: ['198.18.0.0 0.0.0.0/0: best', '198.18.0.2 0.0.0.0/0: lower LOCAL_PREF'],
  },
  {
    name: '(f) then (g): the same BGP id on two sessions, the lower peer address is best',
    peers: [
      peer('198.18.0.2', 65101, '10.0.0.1', [path('0.0.0.0/0', '198.18.0.2', [65101])]),
      peer('198.18.0.0', 65101, '10.0.0.1', [path('0.0.0.0/0', '198.18.0.0', [65101])]),
      peer('2001:db8::', 65101, '10.0.0.9', [path('0.0.0.0/0', '198.18.0.0', [65101])]),
    ],
    routes: ['0.0.0.0/0 via 198.18.0.0 dev 2 via 198.18.0.2 dev 3'],
    paths: [
      '198.18.0.0 0.0.0.0/0: best',
      '198.18.0.2 0.0.0.0/0: multipath',
      '2001:db8:: 0.0.0.0/0: multipath',
    ],
  },
  {
    name: 'never learned: a prefix the node announces, one inside it, one inside a pod network',
    own: ['198.19.1.0/24'],
    pods: ['198.19.0.0/17'],
    peers: [
      leaf1([
        path('198.19.1.0/24', '198.18.0.0', [65101]),
        path('198.19.1.128/25', '198.18.0.0', [65101]),
        path('198.19.64.0/26', '198.18.0.0', [65101]),
        path('198.19.0.0/16', '198.18.0.0', [65101]),
      ]),
    ],
    routes: ['198.19.0.0/16 via 198.18.0.0 dev 2'],
    paths: [
      '198.18.0.0 198.19.0.0/16: best',
      '198.18.0.0 198.19.1.0/24: the node announces this prefix',
      '198.18.0.0 198.19.1.128/25: inside 198.19.1.0/24, which the node announces',
      '198.18.0.0 198.19.64.0/26: inside pod network 198.19.0.0/17',
    ],
  },
  {
    name: 'install: false keeps a peer out of the kernel; the other one installs alone',
    peers: [
      leaf1([path('0.0.0.0/0', '198.18.0.0', [65101])], { install: false }),
      leaf2([path('0.0.0.0/0', '198.18.0.2', [65102])]),
    ],
    routes: ['0.0.0.0/0 via 198.18.0.2 dev 3'],
    paths: ['198.18.0.2 0.0.0.0/0: best', '198.18.0.0 0.0.0.0/0: install: false'],
  },
  {
    name: 'RFC 4271 9.1.2: an unresolvable next hop takes no part (even with a shorter path)',
    peers: [
      leaf1([path('0.0.0.0/0', '198.51.100.1', [])]),
      leaf2([path('0.0.0.0/0', '198.18.0.3', [65102]), path('198.20.0.0/16', '198.18.0.2', [65102])]),
      peer('198.18.0.4', 65103, '10.0.0.3', [path('198.20.0.0/16', '2001:db8::2', [65103])]),
    ],
    routes: ['198.20.0.0/16 via 198.18.0.2 dev 3'],
    paths: [
      '198.18.0.0 0.0.0.0/0: next hop 198.51.100.1 is not on a connected network',
      '198.18.0.2 0.0.0.0/0: next hop 198.18.0.3 is our own address',
      '198.18.0.2 198.20.0.0/16: best',
      '198.18.0.4 198.20.0.0/16: next hop 2001:db8::2 is not an IPv4 address',
    ],
  },
  {
    name: 'IPv6: link-local next hops through the session interfaces (ECMP); global-only resolves on-link',
    peers: [
      peer(
        '2001:db8::',
        65101,
        '10.0.0.1',
        [path('::/0', '2001:db8::', [65101], { linkLocalNextHop: 'fe80::a' })],
        {
          localAddress: '2001:db8::1',
        },
      ),
      peer('2001:db8::2', 65102, '10.0.0.2', [path('::/0', 'fe80::b', [65102])], {
        localAddress: '2001:db8::3',
      }),
      peer('198.18.0.0', 65101, '10.0.0.1', [path('2001:db8:9::/48', '2001:db8::', [65101])], {
        localAddress: '::ffff:198.18.0.1',
      }),
    ],
    routes: ['::/0 via fe80::a dev 2 via fe80::b dev 3', '2001:db8:9::/48 via 2001:db8:: dev 2'],
    paths: ['2001:db8:: ::/0: best', '2001:db8::2 ::/0: multipath', '198.18.0.0 2001:db8:9::/48: best'],
  },
  {
    name: 'a link-local next hop without a known session interface falls back to the global one',
    peers: [
      peer('2001:db8::', 65101, '10.0.0.1', [
        path('::/0', '2001:db8::', [65101], { linkLocalNextHop: 'fe80::a' }),
      ]),
    ],
    routes: ['::/0 via 2001:db8:: dev 2'],
    paths: ['2001:db8:: ::/0: best'],
  },
  {
    name: 'two sessions to one leaf with the same next hop make one next hop',
    peers: [
      peer('198.18.0.0', 65101, '10.0.0.1', [path('0.0.0.0/0', '198.18.0.0', [65101])]),
      peer('2001:db8::', 65101, '10.0.0.1', [path('0.0.0.0/0', '198.18.0.0', [65101])]),
    ],
    routes: ['0.0.0.0/0 via 198.18.0.0 dev 2'],
    paths: ['198.18.0.0 0.0.0.0/0: best', '2001:db8:: 0.0.0.0/0: multipath'],
  },
  {
    name: 'a peer gone (its paths no longer in the input): its next hop leaves the ECMP route',
    peers: [leaf1([path('0.0.0.0/0', '198.18.0.0', [65101])]), leaf2([])],
    routes: ['0.0.0.0/0 via 198.18.0.0 dev 2'],
    paths: ['198.18.0.0 0.0.0.0/0: best'],
  },
];

for (const c of cases) {
  t.test(c.name, async (t) => {
    const sel = selectLearned(
      { peers: c.peers, podNetworks: (c.pods ?? []).map((p) => P(p)) },
      (c.own ?? []).map((p) => P(p)),
      connected,
      { table: 254, metric: 0 },
    );
    t.same(sel.routes.map(describeRoute), c.routes, 'kernel routes');
    t.same(
      sel.paths.map((p) => `${p.peer} ${formatPrefix(p.prefix)}: ${p.selected ?? p.reason}`),
      c.paths,
      'paths',
    );
    for (const r of sel.routes) t.equal(r.table, 254);
  });
}

t.test('routes carry the table and the stored metric (IPv6 0 -> 1024)', async (t) => {
  const sel = selectLearned(
    {
      peers: [
        peer('2001:db8::', 65101, '10.0.0.1', [
          path('::/0', '2001:db8::', [65101]),
          path('0.0.0.0/0', '198.18.0.0', [65101]),
        ]),
      ],
      podNetworks: [],
    },
    [],
    connected,
    { table: 100, metric: 0 },
  );
  t.same(
    sel.routes.map((r) => routeKey(r)),
    ['100 0.0.0.0/0 0', '100 ::/0 1024'],
  );
  t.equal(sel.prefixes, 2);
});

t.test('AS path length and text', async (t) => {
  const p = {
    asPath: [
      { type: SEQ, asns: [65101, 65200] },
      { type: SET, asns: [1, 2] },
      { type: 3, asns: [7] },
    ],
  };
  t.equal(asPathLength(p), 3, 'sequence 2 + set 1 + confederation 0');
  t.equal(formatAsPath(p), '65101 65200 {1,2} 7');
  t.equal(asPathLength({ asPath: [] }), 0);
});

t.test('the status view: counts always, the list capped, installed or why not', async (t) => {
  const routes = Array.from({ length: 5 }, (_, i) => path(`198.20.${i}.0/24`, '198.18.0.0', [65101]));
  const sel = selectLearned(
    {
      peers: [leaf1(routes), leaf2([path('0.0.0.0/0', '198.18.0.2', [65102])], { install: false })],
      podNetworks: [],
    },
    [],
    connected,
    { table: 254, metric: 0 },
  );
  const inKernel = (key: string) => key !== '254 198.20.1.0/24 0';
  const view = learnedStatus(
    sel,
    inKernel,
    (key) => (key === '254 198.20.1.0/24 0' ? 'another route holds it' : undefined),
    3,
  );
  t.equal(view.paths, 6);
  t.equal(view.prefixes, 6);
  t.equal(view.installed, 4, 'five selected, one held by a foreign route');
  t.equal(view.omitted, 3);
  t.same(
    view.routes.map((r) => [r.prefix, r.peer, r.selected, r.installed, r.reason]),
    [
      ['0.0.0.0/0', '198.18.0.2', null, false, 'install: false'],
      ['198.20.0.0/24', '198.18.0.0', 'best', true, null],
      ['198.20.1.0/24', '198.18.0.0', 'best', false, 'another route holds it'],
    ],
  );
  t.match(view.routes[1], {
    nextHop: '198.18.0.0',
    via: '198.18.0.0 dev eth1',
    asPath: '65101',
    origin: 'IGP',
  });
  const fresh = learnedStatus(
    sel,
    () => false,
    () => undefined,
  );
  t.equal(fresh.routes[1]?.reason, 'not programmed yet');
  t.equal(fresh.omitted, 0);
});
