/**
 * containerlab/dual-homed.clab.yml end to end through `bin/podroute lab`: two podroute nodes, each on
 * both leafs (ECMP default, BFD 300 ms x 3 on every session), two pods each. One `up`: `lab check`
 * loses nothing; then pods ping each other across the nodes ten times a second while `lab fail leaf1`
 * stops a leaf, and no pod pair is cut off for longer than the detection time documented in
 * containerlab/README.md (0.9 s); healed, `lab check` passes again. Then node1's link to leaf1 fails
 * silently (every packet dropped, both ends up): only BFD can notice, and no pair is cut off for
 * longer than the detection time plus the reroute allowance the README states (0.5 s). `lab down`
 * leaves nothing behind.
 */
import { spawn } from 'node:child_process';
import t from 'tap';
import { interopGate, sleep } from '../../lab/fixture/index.js';
import { podroute, upLab } from './topology-lab.js';

const gate = interopGate(['frr', 'ping', 'podroute']);
/** The detection time containerlab/README.md documents for dual-homed: BFD 300 ms x 3. */
const DETECTION_S = 0.9;
const INTERVAL_S = 0.1;
/** After detection: the session down, the ECMP route rewritten (node, leaf, spines), as documented. */
const REROUTE_S = 0.5;

/** Pings `address` from `netns` every INTERVAL_S until stopped; the longest run of lost replies. */
function pinger(
  netns: string,
  address: string,
): { stop: () => Promise<{ sent: number; worstGapS: number }> } {
  const p = spawn(
    'ip',
    ['netns', 'exec', netns, 'ping', '-n', '-i', String(INTERVAL_S), '-W', '1', address],
    {
      stdio: ['ignore', 'pipe', 'ignore'],
    },
  );
  let out = '';
  p.stdout.on('data', (b: Buffer) => {
    out += b.toString();
  });
  const exited = new Promise<void>((r) => p.on('exit', () => r()));
  return {
    async stop() {
      p.kill('SIGINT');
      await exited;
      const seqs = [...out.matchAll(/icmp_seq=(\d+)/g)].map((m) => Number(m[1]));
      const sent = Number(/(\d+) packets transmitted/.exec(out)?.[1] ?? 0);
      let worst = 0;
      let prev = 0;
      for (const s of [...seqs, sent + 1]) {
        worst = Math.max(worst, s - prev - 1);
        prev = s;
      }
      return { sent, worstGapS: worst * INTERVAL_S };
    },
  };
}

t.test(
  'dual-homed: up, check, a leaf fails within the detection time, heal, down',
  { skip: gate.skip },
  async (t) => {
    const lab = await upLab(t, 'dual-homed.clab.yml', 'hd');
    t.comment(`lab up: ${lab.upSeconds.toFixed(1)} s`);
    t.equal(lab.pods.length, 4, 'two pods per node');
    const first = await lab.check(30);
    t.equal(first.code, 0, `lab check passes (${first.seconds.toFixed(1)} s)`);
    t.equal(first.report?.lost, 0, 'no pair lost');

    // Every pod pair across the two nodes, both ways: traffic that the ECMP defaults spread over both leafs.
    const pairs = lab.pods.flatMap((a) =>
      lab.pods
        .filter((b) => b.node !== a.node)
        .map((b) => ({ from: a, to: b, address: b.addresses[0]!.split('/')[0]! })),
    );
    const underFailure = async (target: string[], limitS: number): Promise<void> => {
      const pings = pairs.map((p) => ({ ...p, ping: pinger(p.from.netns, p.address) }));
      await sleep(2000);
      const failed = await podroute(['lab', 'fail', ...target, '--lab', lab.name]);
      t.equal(failed.code, 0, `lab fail ${target.join(' ')}: ${failed.stdout.trim()}`);
      await sleep(6000);
      for (const p of pings) {
        const r = await p.ping.stop();
        t.ok(r.sent > 50, `${p.from.name} -> ${p.to.name}: ${r.sent} pings sent`);
        t.ok(
          r.worstGapS <= limitS,
          `${target[0]}: ${p.from.name} -> ${p.to.name}: longest outage ${r.worstGapS.toFixed(1)} s <= ${limitS} s`,
        );
      }
    };
    await underFailure(['leaf1'], DETECTION_S);
    const during = await lab.check(0);
    t.equal(during.report?.lost, 0, 'with leaf1 down every pair still reaches every other');

    const healed = await podroute(['lab', 'heal', 'leaf1', '--lab', lab.name]);
    t.equal(healed.code, 0, `lab heal leaf1: ${healed.stdout.trim()}`);
    const after = await lab.check(30);
    t.equal(after.code, 0, `after heal lab check passes (${after.seconds.toFixed(1)} s)`);

    // node1's uplink to leaf1 drops everything while both ends stay up: BFD's detection time.
    await underFailure(['node1:eth1', '--silent'], DETECTION_S + REROUTE_S);
    const silent = await lab.check(0);
    t.equal(silent.report?.lost, 0, 'with the silent link every pair still reaches every other');
    const healed2 = await podroute(['lab', 'heal', 'node1:eth1', '--lab', lab.name]);
    t.equal(healed2.code, 0, `lab heal node1:eth1: ${healed2.stdout.trim()}`);

    await lab.down(t);
  },
);
