/**
 * Speaker level: the OSPF speaker alone (in a child process inside the node namespace) against
 * real FRR ospfd over a veth, point-to-point: adjacency to Full as DD master and as slave (RFC
 * 2328 10.6), with and without MD5 (D.3), the announced prefix installed by FRR as an OSPF route,
 * FRR's router-LSA in our LSDB, our packets' TTL 1 / TOS 0xC0 on the wire (A.1), a live prefix
 * change within MinLSInterval (12.4), the graceful drain; and a crash and restart whose stale
 * router-LSA, several sequence numbers ahead, FRR drops at once (fight-back, 13.4).
 * The daemon with its status, CLI and restarts against FRR: ospf-daemon-frr.test.ts.
 */
import { readFileSync } from 'node:fs';
import t, { type Test } from 'tap';
import { haveCommand, interopGate, sleep, startFrr, waitFor } from '../../lab/fixture/index.js';
import {
  frrMd5,
  frrNeighborState,
  frrOspfConfig,
  leafAndNode,
  NODE,
  startNodeSpeaker,
  unexpectedDrops,
  withDiagnostics,
} from './ospf-lab.js';

const gate = interopGate(['ip', 'frr']);

const frrConfig = (routerId: string, auth?: string) =>
  frrOspfConfig(routerId, [{ name: 'eth1', network: 'point-to-point', auth }]);
const iface = { name: 'eth1', network: 'point-to-point', helloInterval: 2, deadInterval: 8 };

/**
 * `frrRouterId` decides the DD roles: FRR 198.18.0.1 < ours (198.18.0.2) makes us master,
 * 198.18.0.9 makes us slave.
 */
async function scenario(
  t: Test,
  opts: { frrAuth?: string; ourAuth?: unknown; frrRouterId: string },
): Promise<void> {
  const { lab, leaf, node } = await leafAndNode(t);
  const frr = await startFrr(leaf, { config: frrConfig(opts.frrRouterId, opts.frrAuth) });
  // Capture a few of our packets on the leaf side to check TTL and TOS.
  const dump = haveCommand('tcpdump')
    ? leaf.spawn('tcpdump', 'tcpdump', ['-i', 'eth1', '-n', '-v', '-c', '3', `ip proto 89 and src ${NODE}`])
    : undefined;
  await sleep(300);
  const ospf = { interfaces: [{ ...iface, ...(opts.ourAuth ? { auth: opts.ourAuth } : {}) }] };
  const sp = startNodeSpeaker(lab, node, NODE, ospf, ['198.19.1.0/24']);
  const ours = () => sp.read();
  await withDiagnostics(
    t,
    async () => {
      await waitFor(async () => (await frrNeighborState(frr, NODE)).startsWith('Full'), {
        timeoutMs: 20_000,
        intervalMs: 200,
        what: 'FRR sees us Full',
      });
      await waitFor(async () => ours()?.status.interfaces[0]?.neighbors[0]?.state === 'Full', {
        timeoutMs: 5_000,
        intervalMs: 100,
        what: 'we see FRR Full',
      });
      t.pass('adjacency Full on both sides');
      const role = opts.frrRouterId > NODE ? 'slave' : 'master';
      t.equal(ours()?.status.interfaces[0]?.neighbors[0]?.ddRole, role, `we were DD ${role}`);
      await waitFor(async () => (await leaf.route('198.19.1.0/24'))?.protocol === 'ospf', {
        timeoutMs: 15_000,
        intervalMs: 200,
        what: 'leaf installs 198.19.1.0/24 via OSPF',
      });
      t.equal((await leaf.route('198.19.1.0/24'))?.gateway, NODE, 'next hop is the node');
      t.ok(
        ours()?.database.some((e) => e.type === 1 && e.advRouter === opts.frrRouterId),
        "FRR's router-LSA in our LSDB",
      );
      if (dump) {
        await dump.exited;
        const text = readFileSync(dump.logPath, 'utf8');
        t.match(text, /tos 0xc0, ttl 1,/, 'sent with TOS 0xC0 and TTL 1');
      }
      // Change: the route follows (MinLSInterval may delay up to 5 s).
      sp.setDesired(['198.19.2.0/24']);
      await waitFor(
        async () =>
          (await leaf.route('198.19.1.0/24')) === undefined &&
          (await leaf.route('198.19.2.0/24')) !== undefined,
        { timeoutMs: 15_000, intervalMs: 200, what: 'leaf replaces 198.19.1.0/24 with 198.19.2.0/24' },
      );
      t.pass('prefix change reached the leaf');
      // Only MinLSArrival discards are expected (FRR re-originates quickly around Full); no
      // checksum, auth or parameter drops.
      const dropped = ours()?.status.dropped;
      t.same(unexpectedDrops(dropped), [], `no unexpected drops: ${JSON.stringify(dropped)}`);
      // Drain: SIGTERM; the leaf drops the route and the adjacency long before Dead (8 s).
      const t0 = Date.now();
      sp.proc.signal('SIGTERM');
      const exit = await sp.proc.exited;
      t.equal(exit.code, 0, 'runner exits 0 after drain');
      t.ok(Date.now() - t0 < 3000, `drain took ${Date.now() - t0} ms`);
      await waitFor(async () => (await leaf.route('198.19.2.0/24')) === undefined, {
        timeoutMs: 3_000,
        intervalMs: 100,
        what: 'route withdrawn by drain',
      });
      await waitFor(async () => !(await frrNeighborState(frr, NODE)).startsWith('Full'), {
        timeoutMs: 3_000,
        intervalMs: 100,
        what: 'FRR leaves Full at once',
      });
      t.pass('drained: route gone, FRR left Full before Dead');
    },
    () => [sp.proc.tail(40), frr.processes.map((p) => p.tail(30)).join('\n')],
  );
}

t.test('FRR ospfd point-to-point, no authentication, we are DD master', { skip: gate.skip }, async (t) => {
  await scenario(t, { frrRouterId: '198.18.0.1' });
});

t.test('FRR ospfd point-to-point, MD5 authentication, we are DD slave', { skip: gate.skip }, async (t) => {
  await scenario(t, {
    frrRouterId: '198.18.0.9',
    frrAuth: frrMd5(1, 's3cret'),
    ourAuth: { type: 'md5', keyId: 1, key: 's3cret' },
  });
});

t.test(
  'FRR keeps no stale route after our crash and restart (fight-back, RFC 2328 13.4)',
  { skip: gate.skip },
  async (t) => {
    const { lab, leaf, node } = await leafAndNode(t);
    const frr = await startFrr(leaf, { config: frrConfig('198.18.0.1') });
    const ospf = { interfaces: [iface] };
    const first = startNodeSpeaker(lab, node, NODE, ospf, ['198.19.1.0/24']);
    await waitFor(async () => (await leaf.route('198.19.1.0/24'))?.protocol === 'ospf', {
      timeoutMs: 20_000,
      intervalMs: 200,
      what: 'first incarnation announced',
    });
    // Bump the sequence a few times so the stale instance is well ahead of a fresh start.
    for (const p of ['198.19.2.0/24', '198.19.3.0/24']) {
      first.setDesired([p]);
      await waitFor(async () => (await leaf.route(p)) !== undefined, {
        timeoutMs: 15_000,
        intervalMs: 200,
        what: p,
      });
    }
    await first.proc.kill();
    // The new incarnation starts at 0x80000001 with other contents, before FRR's Dead timer fires.
    const second = startNodeSpeaker(lab, node, NODE, ospf, ['198.19.9.0/24']);
    await withDiagnostics(
      t,
      async () => {
        await waitFor(
          async () =>
            (await leaf.route('198.19.3.0/24')) === undefined &&
            (await leaf.route('198.19.9.0/24')) !== undefined,
          { timeoutMs: 20_000, intervalMs: 200, what: 'stale prefix replaced by the new one' },
        );
        t.pass('stale router-LSA replaced');
        const own = second.read()?.database.find((e) => e.self && e.type === 1);
        t.ok(own?.seq && Number(own.seq) > 0x80000003, `re-originated past the old instance (${own?.seq})`);
      },
      () => [second.proc.tail(40), frr.processes.map((p) => p.tail(20)).join('\n')],
    );
    await second.proc.stop();
  },
);
