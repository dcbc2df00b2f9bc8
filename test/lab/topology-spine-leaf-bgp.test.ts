/**
 * containerlab/spine-leaf-bgp.clab.yml end to end through `bin/podroute lab`: 2 spines, 2 leafs, 4
 * single-homed podroute nodes (eBGP, RFC 7938 style), IPAM through the lab's etcd, pods through
 * podroute-cni + ptp. One `up` for every assertion: the sessions converge and `lab check` loses
 * nothing; each node announces the aggregate of its blocks and both spines carry it; SIGTERM to one
 * node's podroute takes its prefixes off both spines within a second; started again, its pods are
 * reachable again; `lab down` leaves nothing behind.
 */
import { join } from 'node:path';
import t from 'tap';
import { interopGate, run, sleep, waitFor } from '../../lab/fixture/index.js';
import { loadTopology } from '../../lab/topology.js';
import { CLAB, netnsOf, nodeStatus, podroutePid, routesOf, upLab } from './topology-lab.js';

const gate = interopGate(['frr', 'etcd', 'ping', 'podroute']);
const NODES = ['node1', 'node2', 'node3', 'node4'];
const SPINES = ['spine1', 'spine2'];

t.test('spine-leaf-bgp: up, check, SIGTERM withdraw, restart, down', { skip: gate.skip }, async (t) => {
  const topo = loadTopology(join(CLAB, 'spine-leaf-bgp.clab.yml'));
  t.same(
    topo.nodes.filter((n) => n.role === 'podroute').map((n) => n.name),
    NODES,
  );
  const lab = await upLab(t, 'spine-leaf-bgp.clab.yml', 'hb');
  t.comment(`lab up: ${lab.upSeconds.toFixed(1)} s`);
  t.equal(lab.pods.length, 8, 'two pods per node');

  const first = await lab.check(30);
  t.equal(first.code, 0, `lab check passes (${first.seconds.toFixed(1)} s)`);
  t.equal(first.report?.lost, 0, 'no pair lost');
  t.ok((first.report?.pairs ?? 0) >= 8 * 7, 'every pod pinged every other pod');

  // Each node announces its IPAM aggregate; both spines carry every node's prefixes.
  const announced = new Map<string, string[]>();
  for (const n of NODES) {
    const st = await nodeStatus(lab, n);
    t.ok(st && st.announced.length > 0, `${n} announces its aggregate (${st?.announced.join(', ')})`);
    announced.set(n, st?.announced ?? []);
  }
  for (const s of SPINES) {
    const dsts = new Set((await routesOf(lab, s)).map((r) => r.dst));
    for (const [n, prefixes] of announced)
      t.ok(
        prefixes.every((p) => dsts.has(p)),
        `${s} has ${n}'s ${prefixes.join(', ')}`,
      );
  }

  // SIGTERM: podroute withdraws before it exits; both spines lose the prefixes within a second.
  const victim = 'node3';
  const daemon = await podroutePid(lab, victim);
  t.ok(daemon, `${victim}'s podroute found`);
  const gone = announced.get(victim)!;
  const t0 = Date.now();
  process.kill(daemon!.pid, 'SIGTERM');
  const left = new Map<string, number>();
  while (left.size < SPINES.length && Date.now() - t0 < 5000) {
    for (const s of SPINES) {
      if (left.has(s)) continue;
      const dsts = new Set((await routesOf(lab, s)).map((r) => r.dst));
      if (gone.every((p) => !dsts.has(p))) left.set(s, (Date.now() - t0) / 1000);
    }
    await sleep(20);
  }
  for (const s of SPINES) {
    const secs = left.get(s);
    t.ok(secs !== undefined && secs <= 1, `${victim}'s prefixes left ${s} within 1 s (${secs ?? 'never'} s)`);
  }
  for (const n of NODES.filter((x) => x !== victim)) {
    const dsts = new Set((await routesOf(lab, 'spine1')).map((r) => r.dst));
    t.ok(
      announced.get(n)!.every((p) => dsts.has(p)),
      `${n}'s prefixes stay on spine1`,
    );
  }

  // Started again (from its own config, inside its namespace, where `lab down` finds it): its pods
  // keep their addresses (IPAM state on disk) and are reachable again.
  await run('ip', [
    'netns',
    'exec',
    netnsOf(lab, victim),
    'sh',
    '-c',
    'setsid env -u NODE_OPTIONS "$1" run --config "$2" >>"$3" 2>&1 </dev/null &',
    'sh',
    join(CLAB, '..', 'bin', 'podroute'),
    daemon!.config,
    join(lab.state.tmpDir, `${victim}-podroute-restart.log`),
  ]);
  await waitFor(async () => ((await nodeStatus(lab, victim))?.announced.length ?? 0) > 0, {
    timeoutMs: 20_000,
    what: `${victim} announcing again`,
  });
  const again = await lab.check(20);
  t.equal(again.code, 0, `after the restart lab check passes again (${again.seconds.toFixed(1)} s)`);
  t.equal(again.report?.lost, 0, 'no pair lost');

  await lab.down(t);
});
