/**
 * podroute's BGP speaker against BIRD 2 (Debian's bird2) as the leaf: BIRD exports what it learns
 * into its namespace's kernel table, so the verdict is the same as with FRR.
 */
import t from 'tap';
import { interopGate, Lab, startBird, startPodroute } from '../../lab/fixture/index.js';
import { addUplink, sigtermWithdraws, waitEstablished, waitRoute } from './bgp-helpers.js';

const gate = interopGate(['bird', 'podroute']);

const BIRD_LEAF = `log stderr all;
router id 198.18.0.0;
protocol device { scan time 1; }
protocol kernel { ipv4 { export all; }; }
protocol kernel { ipv6 { export all; }; }
protocol bgp node4 {
  local 198.18.0.0 as 65000;
  neighbor 198.18.0.1 as 4200000001;
  hold time 9;
  connect retry time 1;
  ipv4 { import all; export none; };
}
protocol bgp node6 {
  local 2001:db8:: as 65000;
  neighbor 2001:db8::1 as 4200000001;
  hold time 9;
  connect retry time 1;
  ipv6 { import all; export none; };
}
`;

t.test(
  'BIRD leaf: IPv4 and IPv6 sessions, 4-byte node ASN; SIGTERM withdraws',
  { skip: gate.skip },
  async (t) => {
    const lab = await Lab.create();
    t.teardown(() => lab.destroy());
    const leafNs = await lab.addNamespace('leaf');
    const nodeNs = await lab.addNamespace('node');
    await addUplink(lab, leafNs, nodeNs, 0);
    const bird = await startBird(leafNs, { config: BIRD_LEAF });
    const node = await startPodroute(nodeNs, {
      config: {
        node: { name: 'node1', routerId: '198.18.0.1' },
        announce: ['198.19.4.0/24', '2001:db8:400::/48'],
        bgp: {
          asn: 4200000001,
          peers: [
            { address: '198.18.0.0', asn: 65000, holdTime: 9 },
            { address: '2001:db8::', asn: 65000, holdTime: 9 },
          ],
        },
      },
    });
    t.equal(
      (await waitRoute(leafNs, '198.19.4.0/24')).gateway,
      '198.18.0.1',
      'IPv4 prefix in the leaf kernel',
    );
    t.equal(
      (await waitRoute(leafNs, '2001:db8:400::/48')).gateway,
      '2001:db8::1',
      'IPv6 prefix in the leaf kernel',
    );
    t.equal(await bird.protocolInfo('node4'), 'Established', 'BIRD: node4 Established');
    t.equal(await bird.protocolInfo('node6'), 'Established', 'BIRD: node6 Established');
    t.match(
      await bird.birdc('show route 198.19.4.0/24 all'),
      /BGP.as_path: 4200000001/,
      'AS path with the 4-byte ASN',
    );
    const s = await waitEstablished(node, ['198.18.0.0', '2001:db8::']);
    t.same(
      s.bgp!.peers.map((p) => [p.address, p.state, p.prefixesSent]),
      [
        ['198.18.0.0', 'Established', 1],
        ['2001:db8::', 'Established', 1],
      ],
    );
    await sigtermWithdraws(t, node, leafNs, ['198.19.4.0/24', '2001:db8:400::/48']);
    t.match(
      await bird.birdc('show protocols all node4'),
      /Administrative shutdown/i,
      'BIRD saw Cease / Administrative Shutdown',
    );
  },
);
