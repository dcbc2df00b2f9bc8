/**
 * The VPC data path in network namespaces: three "instances" in two "zones" (zone a: n1, n2 on
 * subnet A; zone b: n3 on subnet B), each with a pod namespace behind a veth, and a "VPC router"
 * namespace on both subnets that routes exactly per the route table the controller wrote to the
 * local EC2-compatible server (the test copies that table into the router: EC2 itself is not
 * involved). With a budget of two routes zone a gets one aggregate behind a forwarder, which
 * reaches the other zone-a node over their shared subnet (the layer 2 route the routes module
 * programs between nodes of one subnet; set by hand here). Every pod must reach every other pod,
 * the zone-a pod behind the forwarder included, and when the forwarder dies (its instance
 * stopped, its link down) one controller pass moves the aggregate to the other zone-a node.
 * Addresses: 198.18.0.0/15 only, inside the lab's namespaces.
 */
import t from 'tap';
import { interopGate } from '../../../lab/fixture/gate.js';
import { Lab, type Namespace } from '../../../lab/fixture/index.js';
import { MemoryBlockStore } from '../../../src/ipam/store/memory.js';
import { createLogger } from '../../../src/lib/log.js';
import { parsePrefix } from '../../../src/net/prefix.js';
import { AwsRouteController } from '../../../src/routes/aws/controller.js';
import { FileLeadership } from '../../../src/routes/aws/leader-file.js';
import { Ec2VpcApi } from '../../../src/routes/aws/vpc-api.js';
import { InstantClock } from './env.js';
import { FakeEc2, type FakeTable } from './fake-ec2.js';

const gate = interopGate(['ip', 'ping']);

interface Instance {
  name: string;
  zone: 'zone-a' | 'zone-b';
  subnet: 'subnet-a' | 'subnet-b';
  address: string;
  block: string;
  gw: string;
  pod: string;
  ns?: Namespace;
  podNs?: Namespace;
}

const INSTANCES: Instance[] = [
  {
    name: 'n1',
    zone: 'zone-a',
    subnet: 'subnet-a',
    address: '198.18.10.11',
    block: '198.19.0.0/26',
    gw: '198.19.0.1',
    pod: '198.19.0.2',
  },
  {
    name: 'n2',
    zone: 'zone-a',
    subnet: 'subnet-a',
    address: '198.18.10.12',
    block: '198.19.0.64/26',
    gw: '198.19.0.65',
    pod: '198.19.0.66',
  },
  {
    name: 'n3',
    zone: 'zone-b',
    subnet: 'subnet-b',
    address: '198.18.20.21',
    block: '198.19.1.0/26',
    gw: '198.19.1.1',
    pod: '198.19.1.2',
  },
];

t.test(
  'pods reach pods across zones through a forwarder; the forwarder is replaced',
  { skip: gate.skip },
  async (t) => {
    const lab = await Lab.create();
    t.teardown(() => lab.destroy());
    const vpc = await lab.addNamespace('vpc');
    const bridges = {
      'subnet-a': await lab.addBridge('suba', [{ ns: vpc, ifname: 'eth-a', addresses: ['198.18.10.1/24'] }]),
      'subnet-b': await lab.addBridge('subb', [{ ns: vpc, ifname: 'eth-b', addresses: ['198.18.20.1/24'] }]),
    };
    const gateway = { 'subnet-a': '198.18.10.1', 'subnet-b': '198.18.20.1' };
    // No ICMP redirects: the VPC sends none, and a forwarder's would short-cut the path under test.
    await vpc.sysctl({ 'net.ipv4.conf.all.send_redirects': 0 });
    for (const i of INSTANCES) {
      const ns = await lab.addNamespace(i.name);
      const podNs = await lab.addNamespace(`${i.name}pod`);
      await ns.sysctl({ 'net.ipv4.conf.all.send_redirects': 0, 'net.ipv4.conf.default.send_redirects': 0 });
      await bridges[i.subnet].addMember({ ns, ifname: 'eth0', addresses: [`${i.address}/24`] });
      const len = i.block.split('/')[1];
      await lab.addLink(
        { ns, ifname: 'pod0', addresses: [`${i.gw}/${len}`] },
        { ns: podNs, ifname: 'eth0', addresses: [`${i.pod}/${len}`] },
      );
      await podNs.ip(['route', 'add', 'default', 'via', i.gw]);
      await ns.ip(['route', 'add', 'default', 'via', gateway[i.subnet]]);
      i.ns = ns;
      i.podNs = podNs;
    }
    // Layer 2 routes between nodes of one subnet (what routes.mode layer2 programs).
    for (const a of INSTANCES)
      for (const b of INSTANCES)
        if (a !== b && a.subnet === b.subnet) await a.ns!.ip(['route', 'add', b.block, 'via', b.address]);

    // The EC2 side: the local server, its instances, one route table shared by both subnets.
    const ec2 = new FakeEc2();
    const endpoint = await ec2.listen();
    t.teardown(() => ec2.close());
    const table = ec2.addTable('vpc-0dada', '198.18.0.0/16', ['subnet-a', 'subnet-b']);
    const store = new MemoryBlockStore();
    for (const [k, i] of INSTANCES.entries()) {
      ec2.addInstance({
        instanceId: `i-0${k + 1}`,
        vpcId: 'vpc-0dada',
        zone: i.zone,
        subnet: i.subnet,
        eniId: `eni-0${k + 1}`,
        address: i.address,
      });
      await store.register(i.name, { addresses: [i.address] });
      await store.claim({ block: i.block, node: i.name, group: i.zone, network: 'pods', claimId: i.name });
    }
    const api = new Ec2VpcApi({
      region: 'us-east-1',
      endpoint,
      credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test' },
    });
    t.teardown(() => api.close());
    const ctl = new AwsRouteController({
      store,
      leadership: new FileLeadership(lab.writeFile('ipam.json', '{}'), 'n1'),
      api,
      clock: new InstantClock(),
      random: () => 0.5,
      logger: createLogger('error'),
      networks: [parsePrefix('198.19.0.0/16')],
      budget: 2,
      routeLimit: 50,
      allowCrossZone: false,
      intervalMs: 30_000,
    });

    /** The VPC router forwards exactly per the table: our routes replaced wholesale. */
    const programRouter = async (tbl: FakeTable): Promise<Record<string, string>> => {
      await vpc.ip(['route', 'flush', 'root', '198.19.0.0/16']);
      const applied: Record<string, string> = {};
      for (const [dest, r] of tbl.routes) {
        if (!r.eniId) continue;
        const inst = INSTANCES[[...ec2.instances.values()].findIndex((x) => x.eniId === r.eniId)]!;
        await vpc.ip(['route', 'replace', dest, 'via', inst.address]);
        applied[dest] = inst.name;
      }
      return applied;
    };
    const reachability = async (alive: Instance[]): Promise<string[]> => {
      const lost: string[] = [];
      for (const a of alive)
        for (const b of alive)
          if (a !== b && !(await a.podNs!.ping(b.pod, { count: 2, timeoutS: 3 })))
            lost.push(`${a.name}->${b.name}`);
      return lost;
    };

    await ctl.runPass();
    t.equal(ctl.status().lastApply?.ok, true);
    const routes = await programRouter(table);
    const fw = ctl.status().plan!.forwarders.find((f) => f.group.startsWith('zone-a'))!;
    t.same(
      routes,
      { '198.19.0.0/25': fw.node, '198.19.1.0/26': 'n3' },
      'zone a behind one forwarder, zone b per node',
    );
    const behind = INSTANCES.find((i) => i.zone === 'zone-a' && i.name !== fw.node)!;
    t.same(
      await reachability(INSTANCES),
      [],
      `every pod reaches every pod (${behind.name} only through ${fw.node})`,
    );

    // The forwarder dies: instance stopped, link down.
    const dead = INSTANCES.find((i) => i.name === fw.node)!;
    [...ec2.instances.values()][INSTANCES.indexOf(dead)]!.state = 'stopped';
    await dead.ns!.setLink('eth0', 'down');
    t.equal(
      await INSTANCES[2]!.podNs!.ping(behind.pod, { count: 1, timeoutS: 2 }),
      false,
      'broken until the pass',
    );
    await ctl.runPass();
    const after = await programRouter(table);
    t.equal(
      after['198.19.0.0/25'],
      behind.name,
      'the aggregate moved to the surviving zone-a node in one pass',
    );
    const alive = INSTANCES.filter((i) => i !== dead);
    t.same(await reachability(alive), [], 'the surviving pods reach each other again');
  },
);
