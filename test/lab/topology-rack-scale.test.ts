/**
 * containerlab/rack-scale.clab.yml end to end through `bin/podroute lab`: a leaf pair and 32 podroute
 * nodes, one pod each, built by the runner in parallel. One `up`: every node's sessions come up with
 * both leafs, both leafs carry all 32 aggregates, `lab check` loses nothing (32 x 31 pod pairs plus
 * gateways), `lab down` leaves nothing behind. The wall times are printed (bench/lab-converge.ts
 * measures them).
 */
import t from 'tap';
import { interopGate, waitFor } from '../../lab/fixture/index.js';
import { routesOf, upLab } from './topology-lab.js';

const gate = interopGate(['frr', 'ping', 'podroute']);

t.test('rack-scale: 32 nodes up, check, down', { skip: gate.skip }, async (t) => {
  const lab = await upLab(t, 'rack-scale.clab.yml', 'hr');
  t.comment(`lab up: ${lab.upSeconds.toFixed(1)} s`);
  t.equal(lab.nodes.filter((n) => n.role === 'podroute').length, 32, '32 podroute nodes');
  t.equal(lab.pods.length, 32, 'one pod per node');
  const c = await lab.check(30);
  t.equal(c.code, 0, `lab check passes (${c.seconds.toFixed(1)} s)`);
  t.equal(c.report?.lost, 0, 'no pair lost');
  t.ok((c.report?.pairs ?? 0) >= 32 * 31, `${c.report?.pairs} pairs pinged`);
  for (const leaf of ['leaf1', 'leaf2']) {
    const aggregates = await waitFor(
      async () => {
        const n = (await routesOf(lab, leaf)).filter((r) => r.dst.startsWith('198.19.')).length;
        return n >= 32 ? n : undefined;
      },
      { timeoutMs: 10_000, what: `${leaf} with every node's aggregate` },
    );
    t.ok(aggregates >= 32, `${leaf} has a route to every node's pods (${aggregates})`);
  }
  await lab.down(t);
});
