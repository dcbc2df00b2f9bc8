/**
 * podroute's BFD (a BfdManager in a child process inside the node namespace) against BIRD 2's
 * `protocol bfd` with static neighbors (100 ms x 3), IPv4 and IPv6 single hop: Up at both ends,
 * a silent failure (iptables DROP both ways in the leaf namespace) detected within the Detection
 * Time, recovery, a timer change BIRD follows (Poll/Final), and AdminDown when our side stops.
 */
import t from 'tap';
import { type BirdRouter, interopGate, Lab, startBird, waitFor } from '../../lab/fixture/index.js';
import { blackhole, FAST_TIMERS, startBfdNode } from '../bfd/interop-helpers.js';

const gate = interopGate(['ip', 'bird']);

const LEAF4 = '198.18.0.1';
const NODE4 = '198.18.0.2';
const LEAF6 = '2001:db8::1';
const NODE6 = '2001:db8::2';

const birdConfig = `log stderr all;
router id ${LEAF4};
protocol device { }
protocol bfd bfd1 {
  interface "eth1" {
    min rx interval 100 ms;
    min tx interval 100 ms;
    multiplier 3;
  };
  neighbor ${NODE4} dev "eth1" local ${LEAF4};
  neighbor ${NODE6} dev "eth1" local ${LEAF6};
}
`;

/** One row of `show bfd sessions`: address, interface, state, and the Interval/Timeout seconds. */
interface BirdBfdSession {
  address: string;
  state: string;
  interval: number;
  timeout: number;
}

async function birdSessions(bird: BirdRouter): Promise<BirdBfdSession[]> {
  const out = await bird.birdc('show bfd sessions');
  const rows: BirdBfdSession[] = [];
  for (const line of out.split('\n')) {
    const w = line.trim().split(/\s+/);
    if (w.length < 6 || !/^[0-9a-f:.]+$/i.test(w[0]!) || !/^[\d.]+$/.test(w.at(-1)!)) continue;
    rows.push({ address: w[0]!, state: w[2]!, interval: Number(w.at(-2)), timeout: Number(w.at(-1)) });
  }
  return rows;
}

function waitBird(bird: BirdRouter, address: string, ok: (s: BirdBfdSession) => boolean, what: string) {
  return waitFor(
    async () => {
      const s = (await birdSessions(bird)).find((x) => x.address === address);
      return s && ok(s) ? s : undefined;
    },
    { timeoutMs: 15_000, intervalMs: 50, what: `BIRD: ${what}` },
  );
}

t.test(
  'BFD with BIRD: up, silent failure, recovery, timer change, AdminDown',
  { skip: gate.skip },
  async (t) => {
    const lab = await Lab.create();
    t.teardown(() => lab.destroy());
    const leaf = await lab.addNamespace('leaf');
    const nodeNs = await lab.addNamespace('node');
    await lab.addLink(
      { ns: leaf, ifname: 'eth1', addresses: [`${LEAF4}/30`, `${LEAF6}/64`] },
      { ns: nodeNs, ifname: 'eth1', addresses: [`${NODE4}/30`, `${NODE6}/64`] },
    );
    const bird = await startBird(leaf, { config: birdConfig });
    const node = startBfdNode(lab, nodeNs, [
      { peer: LEAF4, localAddress: NODE4, ...FAST_TIMERS },
      { peer: LEAF6, localAddress: NODE6, ...FAST_TIMERS },
    ]);
    try {
      for (const [peer, ours] of [
        [NODE4, LEAF4],
        [NODE6, LEAF6],
      ] as const) {
        await node.waitState(ours, 'Up', 20_000);
        // Just after Up the peer may still advertise its 1 s idle rate until its Poll completes.
        const s = await waitFor(
          () => {
            const x = node.session(ours);
            return x?.state === 'Up' && !x.pollActive && x.detectTimeMs === 300 ? x : undefined;
          },
          { timeoutMs: 5000, what: `${ours}: steady 100 ms timers` },
        );
        const b = await waitBird(
          bird,
          peer,
          (x) => x.state === 'Up' && x.interval === 0.1,
          `${peer} Up at 100 ms`,
        );
        t.same([b.interval, b.timeout], [0.1, 0.3], `${peer}: BIRD negotiated 100 ms, timeout 300 ms`);
        t.same([s.txIntervalMs, s.detectTimeMs], [100, 300], `${ours}: ours 100 ms / 300 ms`);
      }
      t.comment(await bird.birdc('show bfd sessions'));

      const t0 = Date.now();
      await blackhole(leaf, 'eth1', true);
      for (const peer of [LEAF4, LEAF6]) {
        const s = await node.waitState(peer, 'Down', 5000);
        t.equal(s.diagnostic, 'Control Detection Time Expired', `${peer}: diag 1`);
        const ev = node
          .read()!
          .events.filter((e) => e.key.peer === peer && e.to === 'Down')
          .at(-1)!;
        const ms = ev.wall - t0;
        t.comment(`${peer}: silent failure detected in ${ms} ms`);
        t.ok(ms < 700, `${peer}: detected in ${ms} ms, within 1 s (Detection Time 300 ms)`);
      }
      await waitBird(bird, NODE4, (x) => x.state !== 'Up', 'not Up after the failure');
      await blackhole(leaf, 'eth1', false);
      for (const peer of [LEAF4, LEAF6]) await node.waitState(peer, 'Up', 10_000);
      for (const peer of [NODE4, NODE6])
        await waitBird(bird, peer, (x) => x.state === 'Up', `${peer} Up again`);

      node.setSessions([
        { peer: LEAF4, localAddress: NODE4, desiredMinTxMs: 300, requiredMinRxMs: 200, detectMult: 3 },
        { peer: LEAF6, localAddress: NODE6, ...FAST_TIMERS },
      ]);
      const b = await waitBird(
        bird,
        NODE4,
        (x) => x.interval === 0.2 && x.timeout === 0.9,
        'interval 200 ms (our min rx), timeout 3 x 300 ms',
      );
      t.equal(b.state, 'Up', 'BIRD stays Up through the timer change');
      const s = await waitFor(
        () => {
          const x = node.session(LEAF4);
          return x && !x.pollActive && x.txIntervalMs === 300 ? x : undefined;
        },
        { timeoutMs: 5000, what: 'Poll Sequence ended' },
      );
      t.equal(s.counters.downTransitions, 1, 'only the one failure above');

      await node.proc.stop();
      await waitBird(bird, NODE4, (x) => x.state === 'Down', 'Down after our AdminDown');
      t.pass('BIRD took the session Down on our AdminDown');
    } catch (e) {
      t.comment(node.proc.tail(40));
      t.comment(bird.logs().split('\n').slice(-40).join('\n'));
      throw e;
    }
  },
);
