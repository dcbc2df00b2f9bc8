/**
 * Kernel test of VLAN-aware forwarding: a node with legs in VLAN 10 and VLAN 20 and a local pod whose
 * network belongs to VLAN 10. The kernel's own forwarding decision (`ip route get … from POD iif
 * pod0`) is the judge: pod traffic to a node in VLAN 20 goes to VLAN 10's gateway, although the node
 * has a direct layer 2 route to it over its VLAN 20 leg, while the node's own traffic takes that route.
 */
import t from 'tap';
import { interopGate } from '../../lab/fixture/gate.js';
import { Lab } from '../../lab/fixture/lab.js';
import { Driver, routeGet, ruleLines, tableLines } from './netns-helpers.js';

const gate = interopGate([]);

t.test('VLAN policy routes pod traffic across VLANs via the gateway', { skip: gate.skip }, async (t) => {
  const lab = await Lab.create();
  let driver: Driver | undefined;
  t.teardown(async () => {
    driver?.kill();
    await lab.destroy();
  });
  const node = await lab.addNamespace('node');
  const v10 = await lab.addNamespace('v10');
  const v20 = await lab.addNamespace('v20');
  const pod = await lab.addNamespace('pod');
  await lab.addLink(
    { ns: node, ifname: 'eth10', addresses: ['198.18.10.2/24'] },
    { ns: v10, ifname: 'n', addresses: ['198.18.10.1/24', '198.18.10.3/24'] },
  );
  await lab.addLink(
    { ns: node, ifname: 'eth20', addresses: ['198.18.20.2/24'] },
    { ns: v20, ifname: 'n', addresses: ['198.18.20.1/24', '198.18.20.3/24'] },
  );
  await lab.addLink(
    { ns: node, ifname: 'pod0', addresses: ['198.19.1.1/26'] },
    { ns: pod, ifname: 'eth0', addresses: ['198.19.1.5/26'] },
  );

  const config = {
    mode: 'layer2',
    vlans: [{ interface: 'eth10', gateway: '198.18.10.1', networks: ['198.19.0.0/20'], table: 110 }],
  };
  const started = await Driver.start(node, config);
  driver = started.driver;
  const st = await driver.send({
    op: 'update',
    announced: ['198.19.1.0/24'],
    peers: [
      { node: 'same-vlan', addresses: ['198.18.10.3'], blocks: ['198.19.2.0/26'] },
      { node: 'other-vlan', addresses: ['198.18.20.3'], blocks: ['198.19.16.0/26'] },
    ],
  });
  t.same(st.vlanIssues, []);
  t.equal(st.errors, 0);

  t.same(await tableLines(node, 110), [
    '198.18.10.0/24 throw proto 176',
    '198.19.1.0/24 throw proto 176',
    '198.19.2.0/26 via 198.18.10.3 dev eth10 proto 176',
    'default via 198.18.10.1 dev eth10 proto 176',
  ]);
  t.ok((await ruleLines(node)).includes('1000 from 198.19.0.0/20 lookup 110 proto 176'), 'ip rule installed');

  const fromPod = { src: '198.19.1.5', iif: 'pod0' };
  t.equal(
    await routeGet(node, '198.19.16.9'),
    'via 198.18.20.3 dev eth20',
    'node itself: direct over VLAN 20',
  );
  t.equal(
    await routeGet(node, '198.19.16.9', fromPod),
    'via 198.18.10.1 dev eth10',
    'pod: to the VLAN 10 gateway',
  );
  t.equal(
    await routeGet(node, '198.18.20.50', fromPod),
    'via 198.18.10.1 dev eth10',
    'pod to a VLAN 20 host: gateway',
  );
  t.equal(
    await routeGet(node, '198.19.2.9', fromPod),
    'via 198.18.10.3 dev eth10',
    'pod to same-VLAN node: direct',
  );
  t.equal(await routeGet(node, '198.18.10.50', fromPod), 'dev eth10', 'pod to a VLAN 10 host: on-link');
  t.equal(await routeGet(node, '198.19.1.6', fromPod), 'dev pod0', 'pod to a local pod: stays local');

  const stopped = await driver.send({ op: 'stop', removeRoutes: true });
  t.equal(stopped.errors, 0);
  t.same(await tableLines(node, 110), [], 'VLAN table emptied');
  t.notOk(
    (await ruleLines(node)).some((l) => l.includes('proto 176')),
    'rule removed',
  );
});
