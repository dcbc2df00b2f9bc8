/**
 * Per-peer policy against a real FRR leaf: the IPv4 session's export list lets one of the node's
 * two IPv4 prefixes through, the IPv6 session's list denies one of two IPv6 prefixes, and the
 * leaf's own tables show exactly that. The import list keeps one of the two routes the leaf sends.
 */
import t from 'tap';
import { frrBgpConfig, interopGate, Lab, startFrr, startPodroute, waitFor } from '../../lab/fixture/index.js';
import { addUplink, waitEstablished, waitRoute } from './bgp-helpers.js';

const gate = interopGate(['frr', 'podroute']);

const LEAF = frrBgpConfig({
  asn: 65000,
  routerId: '198.18.0.0',
  extra: ['no bgp network import-check'],
  neighbors: [
    { address: '198.18.0.1', asn: 65001 },
    { address: '2001:db8::1', asn: 65001 },
  ],
  networks: ['198.18.100.0/24', '198.18.101.0/24'],
});

interface FrrRib {
  routes?: Record<string, unknown>;
}

t.test(
  'export lists limit what the FRR leaf receives; import lists what podroute keeps',
  { skip: gate.skip },
  async (t) => {
    const lab = await Lab.create();
    t.teardown(() => lab.destroy());
    const leafNs = await lab.addNamespace('leaf');
    const nodeNs = await lab.addNamespace('node');
    await addUplink(lab, leafNs, nodeNs, 0);
    const frr = await startFrr(leafNs, { config: LEAF });
    const node = await startPodroute(nodeNs, {
      config: {
        node: { name: 'node1', routerId: '198.18.0.1' },
        announce: ['198.19.1.0/24', '198.19.2.0/24', '2001:db8:100::/48', '2001:db8:200::/48'],
        bgp: {
          asn: 65001,
          peers: [
            {
              address: '198.18.0.0',
              asn: 65000,
              holdTime: 9,
              export: { ipv4: [{ prefix: '198.19.1.0/24', action: 'permit' }] },
              import: [{ prefix: '198.18.100.0/24', action: 'permit' }],
            },
            {
              address: '2001:db8::',
              asn: 65000,
              holdTime: 9,
              export: [
                { prefix: '2001:db8:200::/48', action: 'deny' },
                { prefix: '2001:db8::/32', le: 64, action: 'permit' },
              ],
            },
          ],
        },
      },
    });
    await waitEstablished(node, ['198.18.0.0', '2001:db8::'], 30_000);
    t.equal(
      (await waitRoute(leafNs, '198.19.1.0/24')).gateway,
      '198.18.0.1',
      'IPv4 prefix permitted by the list',
    );
    t.equal(
      (await waitRoute(leafNs, '2001:db8:100::/48')).gateway,
      '2001:db8::1',
      'IPv6 prefix permitted by the list',
    );
    // The lists were applied to the initial dump; give FRR a moment for anything else to arrive.
    await new Promise((r) => setTimeout(r, 2000));
    const v4 = await frr.vtyshJson<FrrRib>('show bgp ipv4 unicast json');
    const v6 = await frr.vtyshJson<FrrRib>('show bgp ipv6 unicast json');
    const v4Node = Object.keys(v4.routes ?? {}).filter((p) => p.startsWith('198.19.'));
    const v6Node = Object.keys(v6.routes ?? {}).filter((p) => p.startsWith('2001:db8:'));
    t.same(
      v4Node,
      ['198.19.1.0/24'],
      'the IPv4 list permits 198.19.1.0/24 only (implicit deny for the other)',
    );
    t.same(v6Node, ['2001:db8:100::/48'], 'the IPv6 list denies 2001:db8:200::/48 and permits the other');
    t.equal(await leafNs.route('2001:db8:200::/48'), undefined, 'no kernel route for the denied prefix');

    const s = await waitFor(
      async () => {
        const st = await node.status();
        const p = st.bgp?.peers.find((x) => x.address === '198.18.0.0');
        return p && p.prefixesReceived === 3 ? st : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 200, what: 'podroute received both leaf routes' },
    );
    const p4 = s.bgp!.peers.find((x) => x.address === '198.18.0.0')!;
    const p6 = s.bgp!.peers.find((x) => x.address === '2001:db8::')!;
    t.equal(p4.prefixesSent, 1, 'status: one prefix sent on the IPv4 session');
    t.equal(p6.prefixesSent, 1, 'status: one prefix sent on the IPv6 session');
    // The leaf's two routes, and our own 198.19.1.0/24 sent back (an AS_PATH loop, never kept).
    t.equal(p4.prefixesReceived, 3, 'the leaf sent three routes');
    t.equal(p4.prefixesAccepted, 1, 'the import list kept 198.18.100.0/24 only');
    t.equal(p6.prefixesAccepted, 0, 'no import list on the IPv6 session: accept none, the default');
  },
);
