/**
 * The router-LSA's link metrics, as pure functions of interface state (originate.ts): a node is
 * never a transit router (RFC 6987 2), so its point-to-point (type 1) and transit (type 2) links
 * carry MaxLinkMetric 0xFFFF whatever the interface cost, while its stub links (type 3: interface
 * subnets, announced prefixes) keep their configured cost (RFC 2328 12.4.1).
 */
import t from 'tap';
import { parsePrefix } from '../../src/net/prefix.js';
import { LinkType, LsType, MAX_LINK_METRIC } from '../../src/ospf/constants.js';
import { decodeRouterBody, encodeRouterBody, type RouterLsaBody } from '../../src/ospf/lsa/router.js';
import {
  desiredLsas,
  interfaceLinks,
  networkLsaBody,
  type OriginatingInterface,
  type OriginationConfig,
  routerLsaBody,
} from '../../src/ospf/originate.js';
import type { InterfaceState, NeighborState } from '../../src/ospf/states.js';

const US = '198.18.0.2';

interface IfaceSpec {
  state?: InterfaceState;
  broadcast?: boolean;
  address: string;
  mask?: string;
  dr?: string;
  cost: number;
  neighbors?: { routerId: string; address: string; state?: NeighborState }[];
}

function iface(s: IfaceSpec): OriginatingInterface {
  return {
    state: s.state ?? (s.broadcast ? 'DROther' : 'PointToPoint'),
    broadcast: s.broadcast ?? false,
    address: s.address,
    mask: s.mask ?? '255.255.255.252',
    dr: s.dr ?? '0.0.0.0',
    config: { cost: s.cost },
    neighbors: new Map(
      (s.neighbors ?? []).map((n) => [n.routerId, { ...n, state: n.state ?? 'Full' }] as const),
    ),
  };
}

const cfg: OriginationConfig = { announceAs: 'stub', metric: 10, externalMetricType: 2, externalTag: 0 };
const pods = [parsePrefix('198.19.1.0/24')];

function routerBody(lsas: ReturnType<typeof desiredLsas>): RouterLsaBody {
  const body = lsas.find((l) => l.type === LsType.Router)?.body;
  if (body?.kind !== 'router') throw new Error('no router-LSA wanted');
  return body;
}

/** The two uplinks of a dual-homed node, cost 1 each, both adjacencies Full. */
const uplinks = () => [
  iface({ address: '198.18.0.2', cost: 1, neighbors: [{ routerId: '198.18.255.1', address: '198.18.0.1' }] }),
  iface({ address: '198.18.0.6', cost: 1, neighbors: [{ routerId: '198.18.255.2', address: '198.18.0.5' }] }),
];

t.equal(MAX_LINK_METRIC, 0xffff, 'MaxLinkMetric is the largest 16-bit cost (RFC 6987 2)');

t.test(
  'point-to-point: the link to the neighbor at MaxLinkMetric, the subnet stub at its cost',
  async (t) => {
    const links = interfaceLinks(
      iface({ address: US, cost: 7, neighbors: [{ routerId: '198.18.255.1', address: '198.18.0.1' }] }),
    );
    t.same(links, [
      { linkId: '198.18.255.1', linkData: US, type: LinkType.PointToPoint, metric: 0xffff },
      { linkId: '198.18.0.0', linkData: '255.255.255.252', type: LinkType.Stub, metric: 7 },
    ]);
  },
);

t.test('point-to-point /32: only the link to the neighbor, at MaxLinkMetric', async (t) => {
  const links = interfaceLinks(
    iface({
      address: US,
      mask: '255.255.255.255',
      cost: 1,
      neighbors: [{ routerId: '198.18.255.1', address: '198.18.0.1' }],
    }),
  );
  t.same(links, [{ linkId: '198.18.255.1', linkData: US, type: LinkType.PointToPoint, metric: 0xffff }]);
});

t.test('point-to-point before Full: no type 1 link; the subnet stub keeps its cost', async (t) => {
  const links = interfaceLinks(
    iface({
      address: US,
      cost: 3,
      neighbors: [{ routerId: '198.18.255.1', address: '198.18.0.1', state: 'Loading' }],
    }),
  );
  t.same(links, [{ linkId: '198.18.0.0', linkData: '255.255.255.252', type: LinkType.Stub, metric: 3 }]);
});

t.test('broadcast, Full with the DR: the transit link at MaxLinkMetric', async (t) => {
  const links = interfaceLinks(
    iface({
      broadcast: true,
      address: '198.18.1.9',
      mask: '255.255.255.0',
      dr: '198.18.1.3',
      cost: 5,
      neighbors: [{ routerId: '198.18.255.3', address: '198.18.1.3' }],
    }),
  );
  t.same(links, [{ linkId: '198.18.1.3', linkData: '198.18.1.9', type: LinkType.Transit, metric: 0xffff }]);
});

t.test('broadcast, not adjacent to the DR yet: the segment as a stub at its cost', async (t) => {
  const links = interfaceLinks(
    iface({
      broadcast: true,
      address: '198.18.1.9',
      mask: '255.255.255.0',
      dr: '198.18.1.3',
      cost: 5,
      neighbors: [{ routerId: '198.18.255.3', address: '198.18.1.3', state: 'ExStart' }],
    }),
  );
  t.same(links, [{ linkId: '198.18.1.0', linkData: '255.255.255.0', type: LinkType.Stub, metric: 5 }]);
});

t.test('broadcast DR: transit link at MaxLinkMetric; the network-LSA has no metric to raise', async (t) => {
  const dr = iface({
    broadcast: true,
    state: 'DR',
    address: '198.18.1.9',
    mask: '255.255.255.0',
    dr: '198.18.1.9',
    cost: 5,
    neighbors: [{ routerId: '198.18.255.3', address: '198.18.1.3' }],
  });
  t.same(interfaceLinks(dr), [
    { linkId: '198.18.1.9', linkData: '198.18.1.9', type: LinkType.Transit, metric: 0xffff },
  ]);
  t.same(networkLsaBody(dr, US), { kind: 'network', mask: '255.255.255.0', routers: [US, '198.18.255.3'] });
});

t.test('a down interface contributes no link', async (t) => {
  t.same(interfaceLinks(iface({ state: 'Down', address: US, cost: 1 })), []);
});

t.test('dual-homed node: every transit link at MaxLinkMetric, every stub at its cost', async (t) => {
  const body = routerLsaBody(uplinks(), pods, 10, false);
  t.same(body, {
    kind: 'router',
    flags: 0,
    links: [
      { linkId: '198.18.255.1', linkData: '198.18.0.2', type: LinkType.PointToPoint, metric: 0xffff },
      { linkId: '198.18.0.0', linkData: '255.255.255.252', type: LinkType.Stub, metric: 1 },
      { linkId: '198.18.255.2', linkData: '198.18.0.6', type: LinkType.PointToPoint, metric: 0xffff },
      { linkId: '198.18.0.4', linkData: '255.255.255.252', type: LinkType.Stub, metric: 1 },
      { linkId: '198.19.1.0', linkData: '255.255.255.0', type: LinkType.Stub, metric: 10 },
    ],
  });
  // On the wire: 0xFFFF in the 16-bit metric field, and back.
  const wire = encodeRouterBody(body);
  t.equal(wire.readUInt16BE(4 + 10), 0xffff, 'first link metric bytes ff ff');
  t.same(decodeRouterBody(wire), body, 'round trip');
});

t.test('desiredLsas: the router-LSA of each area, transit links raised, stubs not', async (t) => {
  const wanted = desiredLsas(
    US,
    cfg,
    [{ area: { id: '0.0.0.0', stub: false }, interfaces: uplinks() }],
    pods,
  );
  const { links } = routerBody(wanted);
  t.same(
    links.filter((l) => l.type !== LinkType.Stub).map((l) => l.metric),
    [0xffff, 0xffff],
    'both links to the leafs at MaxLinkMetric',
  );
  t.same(
    links.filter((l) => l.type === LinkType.Stub).map((l) => `${l.linkId} ${l.metric}`),
    ['198.18.0.0 1', '198.18.0.4 1', '198.19.1.0 10'],
    'interface subnets at their cost, the pod prefix at ospf.metric',
  );
});

t.test(
  'announceAs external: the router-LSA still raises its transit links; the external metric stays',
  async (t) => {
    const wanted = desiredLsas(
      US,
      { ...cfg, announceAs: 'external', metric: 20 },
      [{ area: { id: '0.0.0.0', stub: false }, interfaces: uplinks() }],
      pods,
    );
    const router = routerBody(wanted);
    t.equal(router.flags, 0x02, 'ASBR');
    t.same(
      router.links.map((l) => [l.type, l.metric]),
      [
        [LinkType.PointToPoint, 0xffff],
        [LinkType.Stub, 1],
        [LinkType.PointToPoint, 0xffff],
        [LinkType.Stub, 1],
      ],
    );
    const ext = wanted.find((l) => l.type === LsType.AsExternal);
    t.match(ext?.body, { kind: 'external', metric: 20, metricType: 2 });
  },
);
