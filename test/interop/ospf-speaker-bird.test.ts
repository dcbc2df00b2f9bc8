/**
 * Speaker level: the OSPF speaker alone (in a child process inside the node namespace) against
 * BIRD 2, the second reference implementation: HMAC-SHA-256 (RFC 5709, which FRR 8.4 lacks) on
 * point-to-point, and a broadcast segment where BIRD is DR and our priority-0 node is DROther,
 * whose router-LSA carries a transit link once Full with the DR (RFC 2328 12.4.1.2). Each checks
 * our router-LSA's links and the graceful drain.
 * The daemon against BIRD: ospf-daemon-bird.test.ts.
 */
import t, { type Test } from 'tap';
import { interopGate, startBird, waitFor } from '../../lab/fixture/index.js';
import {
  birdAuth,
  birdOspfConfig,
  LEAF,
  leafAndNode,
  NODE,
  startNodeSpeaker,
  unexpectedDrops,
  withDiagnostics,
} from './ospf-lab.js';

const gate = interopGate(['ip', 'bird']);

async function scenario(
  t: Test,
  opts: {
    bird: string;
    ospf: Record<string, unknown>;
    expectState: RegExp;
    expectIfState: string;
    ownLink: RegExp;
  },
): Promise<void> {
  const { lab, leaf, node } = await leafAndNode(t, 29);
  const bird = await startBird(leaf, { config: birdOspfConfig(LEAF, opts.bird) });
  const sp = startNodeSpeaker(lab, node, NODE, opts.ospf, ['198.19.1.0/24']);
  const birdNbr = async () =>
    /198\.18\.0\.2\s+\d+\s+(\S+)/.exec(await bird.birdc('show ospf neighbors'))?.[1] ?? 'absent';
  await withDiagnostics(
    t,
    async () => {
      await waitFor(async () => opts.expectState.test(await birdNbr()), {
        timeoutMs: 30_000,
        intervalMs: 200,
        what: 'BIRD sees us Full',
      });
      await waitFor(async () => sp.read()?.status.interfaces[0]?.neighbors[0]?.state === 'Full', {
        timeoutMs: 5_000,
        intervalMs: 100,
        what: 'we see BIRD Full',
      });
      t.equal(sp.read()?.status.interfaces[0]?.state, opts.expectIfState);
      await waitFor(async () => (await leaf.route('198.19.1.0/24'))?.protocol === 'bird', {
        timeoutMs: 15_000,
        intervalMs: 200,
        what: 'BIRD installs 198.19.1.0/24',
      });
      t.equal((await leaf.route('198.19.1.0/24'))?.gateway, NODE);
      const own = sp.read()?.database.find((e) => e.self && e.type === 1);
      t.match(own?.detail, opts.ownLink, 'our router-LSA links');
      const dropped = sp.read()?.status.dropped;
      t.same(unexpectedDrops(dropped), [], `no unexpected drops: ${JSON.stringify(dropped)}`);
      sp.proc.signal('SIGTERM');
      t.equal((await sp.proc.exited).code, 0);
      await waitFor(async () => (await leaf.route('198.19.1.0/24')) === undefined, {
        timeoutMs: 4_000,
        intervalMs: 100,
        what: 'route withdrawn by drain',
      });
      t.pass('drained');
    },
    () => [sp.proc.tail(30), bird.process?.tail(30) ?? ''],
  );
}

t.test('BIRD point-to-point with HMAC-SHA-256', { skip: gate.skip }, async (t) => {
  await scenario(t, {
    bird: `      type ptp; hello 2; dead 8;\n${birdAuth.hmacSha256(7, 's3cret-key')}`,
    ospf: {
      interfaces: [
        {
          name: 'eth1',
          network: 'point-to-point',
          helloInterval: 2,
          deadInterval: 8,
          auth: { type: 'hmac-sha-256', keyId: 7, key: 's3cret-key' },
        },
      ],
    },
    expectState: /^Full\/PtP/,
    expectIfState: 'PointToPoint',
    ownLink:
      /p2p 198\.18\.0\.1\/198\.18\.0\.2 65535, stub 198\.18\.0\.0\/255\.255\.255\.248 10, stub 198\.19\.1\.0/,
  });
});

t.test('BIRD broadcast: BIRD is DR, our node DROther', { skip: gate.skip }, async (t) => {
  await scenario(t, {
    bird: '      type broadcast; hello 2; dead 8; wait 2; priority 10;',
    ospf: { interfaces: [{ name: 'eth1', network: 'broadcast', helloInterval: 2, deadInterval: 8 }] },
    expectState: /^Full\/Other/,
    expectIfState: 'DROther',
    ownLink: /^transit 198\.18\.0\.1\/198\.18\.0\.2 65535, stub 198\.19\.1\.0/,
  });
});
