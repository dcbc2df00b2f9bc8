/**
 * podroute's BFD (a BfdManager in a child process inside the node namespace) against FRR's bfdd
 * with static peers (100 ms x 3), IPv4 and IPv6 single hop:
 * - Up at both ends, with FRR seeing our intervals and discriminators;
 * - a silent failure (iptables DROP both ways in the leaf namespace) detected within the
 *   Detection Time (~300 ms, asserted well below 1 s, printed), and Up again after the rules go;
 * - a timer change: Poll from us, Final from FRR (seen on the wire), FRR shows the new intervals;
 * - malformed packets from the leaf's namespace (bad version, bad length, TTL 254, unknown Your
 *   Discriminator, zero My Discriminator) dropped and counted, the session stays Up;
 * - stopping our side: FRR sees AdminDown (RFC 5880 6.8.16).
 */
import t from 'tap';
import { type FrrRouter, interopGate, Lab, sleep, startFrr, waitFor } from '../../lab/fixture/index.js';
import { BfdState } from '../../src/bfd/constants.js';
import { decodeControl, encodeControl } from '../../src/bfd/packet.js';
import { runChild } from '../bfd/helpers.js';
import { blackhole, FAST_TIMERS, startBfdNode } from '../bfd/interop-helpers.js';
import { readPcapUdp } from '../bfd/pcap.js';

const gate = interopGate(['ip', 'frr', 'tcpdump']);

const LEAF4 = '198.18.0.1';
const NODE4 = '198.18.0.2';
const LEAF6 = '2001:db8::1';
const NODE6 = '2001:db8::2';

const peerBlock = (peer: string, local: string) => ` peer ${peer} local-address ${local}
  receive-interval 100
  transmit-interval 100
  detect-multiplier 3
 !`;
const frrConfig = `frr defaults traditional
hostname leaf
log stdout
bfd
${peerBlock(NODE4, LEAF4)}
${peerBlock(NODE6, LEAF6)}
!
`;

interface FrrBfdPeer {
  peer: string;
  local: string;
  id: number;
  'remote-id': number;
  status: string;
  diagnostic: string;
  'remote-diagnostic': string;
  'remote-receive-interval': number;
  'remote-transmit-interval': number;
  'remote-detect-multiplier': number;
}

async function frrPeer(frr: FrrRouter, peer: string): Promise<FrrBfdPeer | undefined> {
  return (await frr.vtyshJson<FrrBfdPeer[]>('show bfd peers json')).find((p) => p.peer === peer);
}

function waitFrr(frr: FrrRouter, peer: string, ok: (p: FrrBfdPeer) => boolean, what: string) {
  return waitFor(
    async () => {
      const p = await frrPeer(frr, peer);
      return p && ok(p) ? p : undefined;
    },
    { timeoutMs: 15_000, intervalMs: 50, what: `FRR: ${what}` },
  );
}

t.test(
  'BFD with FRR bfdd: up, silent failure, recovery, Poll/Final, bad packets',
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
    const frr = await startFrr(leaf, { config: frrConfig });
    const node = startBfdNode(lab, nodeNs, [
      { peer: LEAF4, localAddress: NODE4, ...FAST_TIMERS },
      { peer: LEAF6, localAddress: NODE6, ...FAST_TIMERS },
    ]);
    try {
      // ----- Up at both ends
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
        const f = await waitFrr(
          frr,
          peer,
          (p) => p.status === 'up' && p['remote-transmit-interval'] === 100,
          `${peer} up, our 100 ms seen`,
        );
        t.equal(f['remote-id'], s.localDiscriminator, `${peer}: FRR knows our discriminator`);
        t.equal(s.remoteDiscriminator, f.id, `${peer}: we know FRR's`);
        t.same(
          [f['remote-receive-interval'], f['remote-transmit-interval'], f['remote-detect-multiplier']],
          [100, 100, 3],
          `${peer}: FRR sees our 100 ms / 100 ms / 3`,
        );
        t.same(
          [s.txIntervalMs, s.rxIntervalMs, s.detectTimeMs],
          [100, 100, 300],
          `${ours}: negotiated 100/100/300`,
        );
      }

      // ----- silent failure, detected by the Detection Time
      const t0 = Date.now();
      await blackhole(leaf, 'eth1', true);
      const t1 = Date.now();
      for (const peer of [LEAF4, LEAF6]) {
        const s = await node.waitState(peer, 'Down', 5000);
        t.equal(s.diagnostic, 'Control Detection Time Expired', `${peer}: diag 1`);
        const ev = node
          .read()!
          .events.filter((e) => e.key.peer === peer && e.to === 'Down')
          .at(-1)!;
        const ms = ev.wall - t0;
        t.comment(`${peer}: silent failure detected in ${ms} ms (rules in place after ${t1 - t0} ms)`);
        t.ok(ms < 700, `${peer}: detected in ${ms} ms, within 1 s (Detection Time 300 ms)`);
      }
      await waitFrr(frr, NODE4, (p) => p.status === 'down', 'down after the failure');
      await blackhole(leaf, 'eth1', false);
      const healed = Date.now();
      for (const peer of [LEAF4, LEAF6]) await node.waitState(peer, 'Up', 10_000);
      t.comment(`recovered to Up ${Date.now() - healed} ms after the rules were removed`);
      for (const peer of [NODE4, NODE6])
        await waitFrr(frr, peer, (p) => p.status === 'up', `${peer} up again`);
      t.equal(node.session(LEAF4)!.lastDiagnostic, 'Control Detection Time Expired', 'last diagnostic kept');

      // ----- timer change: Poll Sequence, seen by FRR
      const cap = nodeNs.capture('eth1', ['udp', 'port', '3784']);
      await sleep(500);
      const downsBefore = node.session(LEAF4)!.counters.downTransitions;
      node.setSessions([
        { peer: LEAF4, localAddress: NODE4, desiredMinTxMs: 300, requiredMinRxMs: 200, detectMult: 3 },
        { peer: LEAF6, localAddress: NODE6, ...FAST_TIMERS },
      ]);
      const f = await waitFrr(
        frr,
        NODE4,
        (p) => p['remote-transmit-interval'] === 300 && p['remote-receive-interval'] === 200,
        'new remote intervals 300/200',
      );
      t.equal(f.status, 'up', 'FRR session stays up');
      const s = await waitFor(
        () => {
          const x = node.session(LEAF4);
          return x && !x.pollActive && x.desiredMinTxMs === 300 ? x : undefined;
        },
        { timeoutMs: 5000, what: 'Poll Sequence ended' },
      );
      t.same(
        [s.txIntervalMs, s.detectTimeMs],
        [300, 600],
        'ours: tx max(300, 100), detect 3 x max(200, 100)',
      );
      t.equal(s.counters.downTransitions, downsBefore, 'no flap');
      await sleep(300);
      await cap.process.stop();
      const wire = readPcapUdp(cap.path).filter((u) => u.dport === 3784);
      const control = (u: (typeof wire)[number]) => decodeControl(u.payload);
      const ourPolls = wire.filter((u) => u.src === NODE4 && control(u).poll);
      const theirFinals = wire.filter((u) => u.src === LEAF4 && control(u).final);
      t.ok(ourPolls.length > 0, `Poll from us on the wire (${ourPolls.length})`);
      t.ok(theirFinals.length > 0, `Final from FRR on the wire (${theirFinals.length})`);
      t.same(control(ourPolls[0]!).desiredMinTxUs, 300_000, 'the Poll carries the new Desired Min TX');
      const fromUs = wire.filter((u) => u.src === NODE4 || u.src === NODE6);
      t.ok(fromUs.length > 0 && fromUs.every((u) => u.ttl === 255), `our ${fromUs.length} packets: TTL 255`);
      t.ok(
        fromUs.every((u) => u.sport >= 49152 && u.sport <= 65535),
        `source ports ${[...new Set(fromUs.map((u) => u.sport))].join(', ')} in 49152-65535`,
      );

      // ----- malformed packets from the leaf's namespace
      const ours = node.session(LEAF4)!;
      const before = ours.counters;
      const good = encodeControl({
        diag: 0,
        state: BfdState.Up,
        poll: false,
        final: false,
        cpi: false,
        demand: false,
        detectMult: 3,
        myDiscriminator: ours.remoteDiscriminator,
        yourDiscriminator: ours.localDiscriminator,
        desiredMinTxUs: 100_000,
        requiredMinRxUs: 100_000,
        requiredMinEchoRxUs: 0,
      });
      const mutate = (f: (b: Buffer) => void) => {
        const b = Buffer.from(good);
        f(b);
        return b.toString('hex');
      };
      const N = 3;
      const bad = [
        mutate((b) => {
          b[0] = (2 << 5) | (b[0]! & 0x1f);
        }),
        mutate((b) => {
          b[3] = 40;
        }),
        mutate((b) => b.writeUInt32BE((ours.localDiscriminator ^ 0x5a5a5a5a) >>> 0, 8)),
        mutate((b) => b.writeUInt32BE(0, 4)),
      ];
      const badFile = lab.writeFile(
        'bfd-bad.hex',
        `${Array.from({ length: N }, () => bad)
          .flat()
          .join('\n')}\n`,
      );
      const ttlFile = lab.writeFile(
        'bfd-ttl254.hex',
        `${Array.from({ length: N }, () => good.toString('hex')).join('\n')}\n`,
      );
      t.match(
        (await runChild(leaf, ['inject', LEAF4, NODE4, '255', badFile])).stdout,
        `"sent":${N * bad.length}`,
      );
      t.match((await runChild(leaf, ['inject', LEAF4, NODE4, '254', ttlFile])).stdout, `"sent":${N}`);
      const after = await waitFor(
        () => {
          const x = node.session(LEAF4)!;
          return x.counters.drops.ttl === (before.drops.ttl ?? 0) + N ? x : undefined;
        },
        { timeoutMs: 5000, what: 'TTL drops counted' },
      );
      const delta = (k: string) => (after.counters.drops[k] ?? 0) - (before.drops[k] ?? 0);
      t.comment(`drops: ${JSON.stringify(after.counters.drops)}`);
      t.equal(delta('bad-version'), N, 'bad version dropped and counted');
      t.equal(delta('bad-length'), N, 'bad length dropped and counted');
      t.equal(delta('ttl'), N, 'TTL 254 dropped and counted');
      t.equal(delta('unknown-discriminator'), N, 'unknown Your Discriminator dropped and counted');
      t.equal(delta('zero-my-discriminator'), N, 'zero My Discriminator dropped and counted');
      await sleep(500);
      const final = node.session(LEAF4)!;
      t.equal(final.state, 'Up', 'session stays Up');
      t.equal(final.counters.downTransitions, before.downTransitions, 'no flap');
      t.equal((await frrPeer(frr, NODE4))!.status, 'up', 'FRR stays up');

      // ----- our side stops: AdminDown reaches FRR
      await node.proc.stop();
      const gone = await waitFrr(frr, NODE4, (p) => p.status === 'down', 'down after our AdminDown');
      t.comment(`FRR after our stop: diagnostic "${gone.diagnostic}", remote "${gone['remote-diagnostic']}"`);
      t.match(gone['remote-diagnostic'], /administratively down/i, 'FRR saw AdminDown');
    } catch (e) {
      t.comment(node.proc.tail(40));
      t.comment(frr.logs().split('\n').slice(-40).join('\n'));
      throw e;
    }
  },
);
