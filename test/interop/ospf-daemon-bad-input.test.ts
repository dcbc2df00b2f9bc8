/**
 * Daemon level, bad input: packets with a bad checksum, a wrong area, mismatched Hello or Dead
 * intervals, a wrong key and a replayed cryptographic sequence number, sent from the leaf's
 * namespace at `bin/podroute run`. They are dropped and counted in
 * `podroute status --json` (ospf.dropped), the process keeps running, and both adjacencies to FRR
 * (eth1 without authentication, eth2 with MD5) stay Full with the prefix routed.
 */
import { join } from 'node:path';
import t from 'tap';
import { interopGate, REPO_ROOT, sleep, startFrr, startPodroute, waitFor } from '../../lab/fixture/index.js';
import { encodePacket, type OspfPacket } from '../../src/ospf/packet/packet.js';
import {
  cliText,
  frrMd5,
  frrOspfConfig,
  LEAF,
  leafAndNode,
  NODE,
  ospfNodeConfig,
  ospfOf,
  waitNeighborsFull,
  waitRoute,
  withDiagnostics,
} from './ospf-lab.js';

const gate = interopGate(['ip', 'frr', 'podroute']);

const MD5 = { type: 'md5' as const, keyId: 3, key: 's3cret' };

const frrConfig = frrOspfConfig(LEAF, [
  { name: 'eth1', network: 'point-to-point' },
  { name: 'eth2', network: 'point-to-point', auth: frrMd5(MD5.keyId, MD5.key) },
]);

/** A Hello as the leaf would send it on a 2 s / 8 s point-to-point link, with overrides. */
function hello(over: { routerId?: string; areaId?: string; hello?: number; dead?: number }): OspfPacket {
  return {
    routerId: over.routerId ?? '198.18.0.77',
    areaId: over.areaId ?? '0.0.0.0',
    body: {
      kind: 'hello',
      mask: '255.255.255.252',
      helloInterval: over.hello ?? 2,
      options: 0x02,
      priority: 1,
      deadInterval: over.dead ?? 8,
      dr: '0.0.0.0',
      bdr: '0.0.0.0',
      neighbors: [],
    },
  };
}

const N = 3;

t.test('bad packets are dropped and counted, adjacencies and route stay', { skip: gate.skip }, async (t) => {
  // eth1 as in every p2p lab (LEAF and NODE on a /30); eth2 beside it, with MD5.
  const { lab, leaf: leafNs, node: nodeNs } = await leafAndNode(t);
  await lab.addLink(
    { ns: leafNs, ifname: 'eth2', addresses: ['198.18.0.5/30'] },
    { ns: nodeNs, ifname: 'eth2', addresses: ['198.18.0.6/30'] },
  );
  const frr = await startFrr(leafNs, { config: frrConfig });
  const node = await startPodroute(nodeNs, {
    config: ospfNodeConfig(
      NODE,
      [
        { name: 'eth1', network: 'point-to-point' },
        { name: 'eth2', network: 'point-to-point', auth: MD5 },
      ],
      ['198.19.1.0/24'],
    ),
  });
  await withDiagnostics(
    t,
    async () => {
      await waitNeighborsFull(node, [LEAF]);
      await waitFor(
        async () => ospfOf(await node.status())?.interfaces.every((i) => i.neighbors[0]?.state === 'Full'),
        { timeoutMs: 40_000, intervalMs: 200, what: 'Full on eth1 and eth2' },
      );
      await waitRoute(leafNs, '198.19.1.0/24', 'ospf');
      const before = ospfOf(await node.status())!.dropped;

      // eth1 (no authentication): checksum, area, intervals; and a truncated packet.
      const badChecksum = encodePacket(hello({}));
      badChecksum.writeUInt16BE(badChecksum.readUInt16BE(12) ^ 0x5a5a, 12);
      const eth1 = [
        badChecksum,
        encodePacket(hello({ areaId: '0.0.0.1' })),
        encodePacket(hello({ hello: 10 })),
        encodePacket(hello({ dead: 40 })),
        encodePacket(hello({})).subarray(0, 30),
      ];
      // eth2 (MD5 key 3): a wrong key, and the leaf's own router ID with a sequence number far
      // below what FRR (seeded from wall-clock seconds) already sent: a replay.
      const eth2 = [
        encodePacket(hello({}), { ...MD5, key: 'wrong' }, 2_000_000_000),
        encodePacket(hello({ routerId: LEAF }), MD5, 1),
      ];
      const send = async (ifname: string, packets: Buffer[]) => {
        const lines: string[] = [];
        for (let i = 0; i < N; i++) for (const p of packets) lines.push(p.toString('hex'));
        const file = lab.writeFile(`inject-${ifname}.hex`, `${lines.join('\n')}\n`);
        const r = await leafNs.exec(
          'sh',
          [
            '-c',
            `cd ${REPO_ROOT} && exec env -u NODE_OPTIONS ${process.execPath} --import tsx ${join(REPO_ROOT, 'test/interop/ospf-inject-node.ts')} ${ifname} ${file}`,
          ],
          { timeoutMs: 30_000 },
        );
        t.match(r.stdout, `sent ${lines.length}`);
      };
      await send('eth1', eth1);
      await send('eth2', eth2);
      await sleep(500);

      const s = await node.status();
      t.ok(node.running, 'podroute still running');
      const o = ospfOf(s)!;
      const delta = (k: string) => (o.dropped[k] ?? 0) - (before[k] ?? 0);
      t.comment(`dropped: ${JSON.stringify(o.dropped)}`);
      t.equal(delta('bad-checksum'), N, 'bad checksum counted');
      t.equal(delta('wrong-area'), N, 'wrong area counted');
      t.equal(delta('hello-interval'), N, 'HelloInterval mismatch counted');
      t.equal(delta('dead-interval'), N, 'RouterDeadInterval mismatch counted');
      t.equal(delta('auth-key'), N, 'wrong key counted');
      t.equal(delta('auth-replay'), N, 'replayed sequence number counted');
      const truncated = Object.keys(o.dropped).filter((k) => /length|truncat|short/.test(k));
      t.ok(truncated.length > 0, `truncated packet counted (${truncated.join(', ')})`);
      t.notOk(o.dropped['internal-error'], 'no internal errors');
      for (const i of o.interfaces) t.equal(i.neighbors[0]?.state, 'Full', `${i.name} still Full`);
      t.equal(o.interfaces.flatMap((i) => i.neighbors).length, 2, 'no neighbor created by bad packets');
      t.equal((await leafNs.route('198.19.1.0/24'))?.protocol, 'ospf', 'prefix still routed at the leaf');
      t.match(await cliText(node), /Dropped: .*auth-replay \d+/, 'the table form shows the drop counters');
      await node.stop();
    },
    () => [node.logs().split('\n').slice(-30).join('\n'), frr.processes.map((p) => p.tail(15)).join('\n')],
  );
});
