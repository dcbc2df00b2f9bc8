/**
 * containerlab/spine-leaf-ospf.clab.yml and multi-segment.clab.yml end to end through `bin/podroute
 * lab`, one `up` each: the sessions converge, `lab check` loses nothing, and `lab down` leaves nothing
 * behind. On spine-leaf-ospf the nodes' aggregates reach both spines over OSPF; on multi-segment each
 * pod's address lies in its node's rack range, inside its zone's range.
 */
import t from 'tap';
import { interopGate } from '../../lab/fixture/index.js';
import { parsePrefix, prefixContains } from '../../src/net/prefix.js';
import { nodeStatus, routesOf, upLab } from './topology-lab.js';

const gate = interopGate(['frr', 'etcd', 'ping', 'podroute']);

t.test('spine-leaf-ospf: up, check, aggregates on both spines, down', { skip: gate.skip }, async (t) => {
  const lab = await upLab(t, 'spine-leaf-ospf.clab.yml', 'ho');
  t.comment(`lab up: ${lab.upSeconds.toFixed(1)} s`);
  t.equal(lab.pods.length, 8, 'two pods per node');
  const c = await lab.check(30);
  t.equal(c.code, 0, `lab check passes (${c.seconds.toFixed(1)} s)`);
  t.equal(c.report?.lost, 0, 'no pair lost');
  for (const n of ['node1', 'node2', 'node3', 'node4']) {
    const st = await nodeStatus(lab, n);
    t.ok(st && st.announced.length > 0, `${n} originates its aggregate (${st?.announced.join(', ')})`);
    for (const s of ['spine1', 'spine2']) {
      const dsts = new Set((await routesOf(lab, s)).map((r) => r.dst));
      t.ok(
        st?.announced.every((p) => dsts.has(p)),
        `${s} has ${n}'s aggregate over OSPF`,
      );
    }
  }
  await lab.down(t);
});

t.test('multi-segment: up, check, pods in their rack ranges, down', { skip: gate.skip }, async (t) => {
  const lab = await upLab(t, 'multi-segment.clab.yml', 'hm');
  t.comment(`lab up: ${lab.upSeconds.toFixed(1)} s`);
  const c = await lab.check(30);
  t.equal(c.code, 0, `lab check passes (${c.seconds.toFixed(1)} s)`);
  t.equal(c.report?.lost, 0, 'no pair lost');
  const racks: Record<string, [string, string]> = {
    node1: ['198.19.0.0/20', '198.19.0.0/18'],
    node2: ['198.19.16.0/20', '198.19.0.0/18'],
    node3: ['198.19.128.0/20', '198.19.128.0/18'],
    node4: ['198.19.144.0/20', '198.19.128.0/18'],
  };
  t.equal(lab.pods.length, 8, 'two pods per node');
  for (const pod of lab.pods) {
    const [rack, zone] = racks[pod.node]!;
    const a = parsePrefix(`${pod.addresses[0]!.split('/')[0]}/32`);
    t.ok(prefixContains(parsePrefix(rack), a), `${pod.name} ${pod.addresses[0]} in its rack's ${rack}`);
    t.ok(prefixContains(parsePrefix(zone), a), `${pod.name} in its zone's ${zone}`);
  }
  await lab.down(t);
});
