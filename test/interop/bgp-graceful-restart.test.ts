/**
 * Graceful restart (RFC 4724, RFC 8538) against real FRR bgpd (Debian's FRR 8.4, `bgp
 * graceful-restart`) in namespaces: one leaf, one IPv4 session, the node announcing 198.19.1.0/24
 * with a "pod" address 198.19.1.10 on its loopback, the leaf sending a default route and
 * 198.18.201.0/24. Verdicts are packets and kernel tables:
 *   (a) rolling restart: the leaf pings the pod address every 10 ms while podroute gets SIGTERM and
 *       is started again: no packet lost with graceful restart; without it some are (both printed);
 *   (b) the leaf's bgpd killed (SIGKILL) and started again: the node pings through the leaf's
 *       default route every 10 ms and loses nothing; the default stays in the node's kernel;
 *   (c) `podroute drain`: the route is gone at the leaf within 1 s, the daemon exits 0;
 *   (d) stale routes: a leaf restart that no longer sends 198.18.201.0/24 removes it from the
 *       node's kernel after the leaf's End-of-RIB; a leaf that never comes back loses everything
 *       after its restart time (5 s there; 60 s elsewhere, as FRR needs seconds to restart here).
 * The lab and the ping counter are in gr-lab.ts (bench/rolling-restart.ts uses them too).
 */
import { spawn } from 'node:child_process';
import t, { type Test } from 'tap';
import {
  CLEAN_NODE,
  daemonEnv,
  type FrrRouter,
  interopGate,
  Lab,
  type PodrouteNode,
  waitFor,
} from '../../lab/fixture/index.js';
import { waitEstablished, waitNoRoute } from './bgp-helpers.js';
import {
  AGGREGATE,
  buildGrLab,
  EXTRA,
  LEAF_LO,
  LEAF_RESTART_TIME,
  leafConfig,
  POD,
  ping,
  pingDuring,
} from './gr-lab.js';

const gate = interopGate(['frr', 'podroute']);
/** For the leaf that never comes back. */
const SHORT_RESTART_TIME = 5;

async function rig(t: Test, o: { gr: boolean; leafGr?: boolean }) {
  const lab = await Lab.create();
  t.teardown(() => lab.destroy());
  const { leafNs, nodeNs, leaf, node } = await buildGrLab(lab, o);
  return { leafNs, nodeNs, leaf, node: node! };
}

/** What a DaemonSet does: SIGTERM, wait for the exit, start the new process. */
async function rollingRestart(t: Test, node: PodrouteNode): Promise<void> {
  const exit = await node.sigterm();
  t.equal(exit.code, 0, 'old podroute exits 0');
  await node.start();
  await waitEstablished(node, ['198.18.0.0'], 30_000);
}

function bgpd(leaf: FrrRouter) {
  const p = leaf.processes.find((x) => x.name.endsWith('-bgpd'));
  if (!p) throw new Error(`no bgpd in ${leaf.ns.name}`);
  return p;
}

t.test(
  '(a) rolling restart: no packet lost with graceful restart, some without',
  { skip: gate.skip },
  async (t) => {
    const counts: Record<string, [number, number]> = {};
    for (const gr of [true, false]) {
      await t.test(gr ? 'with gracefulRestart' : 'without', async (t) => {
        const { leafNs, nodeNs, leaf, node } = await rig(t, { gr });
        const s = await node.status();
        if (gr) {
          t.match(s.bgp?.peers[0]?.gracefulRestart, {
            negotiated: true,
            localRestartTime: 30,
            notification: true,
          });
          t.equal(s.bgp?.peers[0]?.gracefulRestart?.peerRestartTime, LEAF_RESTART_TIME);
        }
        // The other way too: the node reaches the leaf's loopback through the learned default,
        // which the restarting podroute must leave in the kernel (RFC 4724 4.1).
        const back = ping(nodeNs, LEAF_LO, 8);
        const [sent, lost] = await pingDuring(leafNs, POD, 8, () => rollingRestart(t, node));
        const [backSent, backLost] = await back;
        counts[gr ? 'gr' : 'plain'] = [sent, lost];
        t.comment(
          `rolling restart ${gr ? 'with' : 'without'} graceful restart: ${lost} of ${sent} pings lost`,
        );
        if (gr) {
          t.equal(lost, 0, 'no packet lost');
          t.comment(`node to leaf through the learned default: ${backLost} of ${backSent} lost`);
          t.equal(backLost, 0, 'no packet lost through the learned default either');
          const after = await node.status();
          t.equal(after.bgp?.gracefulRestart?.restarting, false, 'the new process finished its restart');
          t.ok(await nodeNs.route('default'), 'the learned default survived the restart');
          t.ok(await nodeNs.route(EXTRA), 'and the other learned route');
          const frr = await leaf.vtysh('show bgp neighbors 198.18.0.1');
          t.match(frr, /Graceful Restart/i, 'FRR saw the capability');
          t.match(frr, /R bit: True/, 'FRR saw our R bit (we restarted)');
          t.match(frr, /F bit: True/, 'and the F bit (our forwarding state survived)');
          t.match(frr, /N bit: True/, 'N bit (RFC 8538) negotiated');
          t.match(frr, /Notifications:\s+0\s+\d+/, 'the leaf sent no NOTIFICATION');
        } else {
          t.ok(lost > 0, 'packets lost while the node was withdrawn');
        }
      });
    }
    t.comment(
      `pings lost across a rolling restart: with graceful restart ${counts.gr?.[1]} of ${counts.gr?.[0]}, ` +
        `without ${counts.plain?.[1]} of ${counts.plain?.[0]}`,
    );
  },
);

t.test(
  "(b) the leaf's bgpd killed and restarted: the node keeps forwarding",
  { skip: gate.skip },
  async (t) => {
    const { nodeNs, leaf, node } = await rig(t, { gr: true });
    const [sent, lost] = await pingDuring(nodeNs, LEAF_LO, 6, async () => {
      await bgpd(leaf).kill();
      await waitFor(
        async () => ((await node.status()).bgp?.peers[0]?.gracefulRestart?.helping ? true : undefined),
        { timeoutMs: 10_000, intervalMs: 50, what: 'podroute helping the leaf' },
      );
      const helping = (await node.status()).bgp!.peers[0]!.gracefulRestart!;
      t.ok(helping.staleRoutes >= 2, `stale routes kept: ${helping.staleRoutes}`);
      t.ok(
        helping.staleSecondsLeft !== null && helping.staleSecondsLeft <= LEAF_RESTART_TIME,
        'time left shown',
      );
      t.ok(await nodeNs.route('default'), 'default still in the node kernel while the leaf is away');
      await leaf.kill();
      await leaf.start();
      await waitEstablished(node, ['198.18.0.0'], 30_000);
    });
    t.comment(`leaf bgpd restart: ${lost} of ${sent} pings through the leaf's default lost`);
    if (lost > 0) {
      const why = node
        .logs()
        .split('\n')
        .filter((l) => /stale|End-of-RIB|graceful|kernel changed/.test(l));
      t.comment(why.join('\n'));
    }
    t.equal(lost, 0, 'no packet lost');
    t.ok(await nodeNs.route('default'), 'the default is in the node kernel after the leaf is back');
  },
);

t.test('(c) podroute drain: withdrawn at the leaf within 1 s, exit 0', { skip: gate.skip }, async (t) => {
  const { leafNs, node } = await rig(t, { gr: true });
  const exited = node.process!.exited;
  const args = [...CLEAN_NODE.slice(1), node.bin, 'drain', '--reason', 'node1 decommissioned'];
  const cli = spawn(CLEAN_NODE[0], [...args, '--socket', node.socketPath], { env: daemonEnv() });
  let stdout = '';
  let accepted: number | undefined;
  cli.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    // The daemon answered: from here on it withdraws (the CLI's own start-up is not counted).
    if (accepted === undefined && stdout.includes('draining')) accepted = performance.now();
  });
  const code = new Promise<number | null>((resolve) => cli.on('exit', (c) => resolve(c)));
  await waitNoRoute(leafNs, AGGREGATE, 10_000);
  const gone = performance.now();
  t.ok(accepted !== undefined, 'the daemon accepted the drain');
  const ms = gone - (accepted ?? gone);
  t.ok(ms < 1000, `leaf dropped ${AGGREGATE} ${ms.toFixed(0)} ms after the drain was accepted (< 1000 ms)`);
  t.equal(await code, 0, `drain command exits 0: ${stdout}`);
  t.match(stdout, /draining node1: node1 decommissioned/);
  t.match(stdout, /the daemon has exited/);
  t.equal((await exited).code, 0, 'daemon exits 0');
});

t.test(
  '(d) stale routes: swept after the End-of-RIB, or after the restart time',
  { skip: gate.skip },
  async (t) => {
    const { nodeNs, leaf, node } = await rig(t, { gr: true });
    await leaf.kill();
    // Back without EXTRA, and with a short restart time for the last part.
    leaf.setConfig(leafConfig({ gr: true, extra: false, restartTime: SHORT_RESTART_TIME }));
    await waitFor(
      async () => ((await node.status()).bgp?.peers[0]?.gracefulRestart?.helping ? true : undefined),
      { timeoutMs: 10_000, intervalMs: 50, what: 'podroute helping the leaf' },
    );
    t.ok(await nodeNs.route(EXTRA), `${EXTRA} kept (stale) while the leaf restarts`);
    await leaf.start();
    await waitEstablished(node, ['198.18.0.0'], 30_000);
    await waitNoRoute(nodeNs, EXTRA, 5000);
    t.pass(`${EXTRA}, not re-sent, left the node kernel after the leaf's End-of-RIB`);
    t.ok(await nodeNs.route('default'), 'the re-sent default stayed');
    const st = (await node.status()).bgp!.peers[0]!.gracefulRestart!;
    t.match(st, { helping: false, staleRoutes: 0 });
    t.ok(st.staleSwept >= 1);

    // The leaf goes away for good.
    await leaf.kill();
    const gone = performance.now();
    await waitFor(
      async () => ((await node.status()).bgp?.peers[0]?.gracefulRestart?.helping ? true : undefined),
      { timeoutMs: 10_000, intervalMs: 50, what: 'podroute helping the leaf' },
    );
    t.ok(await nodeNs.route('default'), 'default kept within the restart time');
    await waitNoRoute(nodeNs, 'default', (SHORT_RESTART_TIME + 10) * 1000);
    const s = (performance.now() - gone) / 1000;
    t.ok(
      s >= SHORT_RESTART_TIME - 1,
      `everything from the leaf gone ${s.toFixed(1)} s after it went (restart time ${SHORT_RESTART_TIME} s)`,
    );
    t.equal((await node.status()).bgp?.peers[0]?.prefixesAccepted, 0);
    await node.stop();
  },
);
