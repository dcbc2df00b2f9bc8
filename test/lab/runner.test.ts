/**
 * `bin/podroute lab` end to end, as a user runs it (real FRR, etcd, podroute, the reference ptp plugin
 * with podroute-cni): `up` returns with pods created through CNI, `check` passes with zero loss, `exec`
 * runs inside a node and passes its exit code on, `fail`/`heal` of a link and of a node show in
 * `check` and in `status`, and `down` leaves no namespace, veth, bridge, process, temp dir or state file
 * — also after the runner was SIGKILLed in the middle of `up`.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import type { CheckReport } from '../../lab/check.js';
import {
  type ExecResult,
  gateDecision,
  interopGate,
  REPO_ROOT,
  run,
  sleep,
  waitFor,
} from '../../lab/fixture/index.js';
import { PTP_PLUGIN } from '../../lab/pods.js';
import { logFile, metaOf, readState, STATE_DIR } from '../../lab/state.js';
import type { LabStatus } from '../../lab/status.js';
import { loadTopology } from '../../lab/topology.js';
import { CLAB, labProcesses, rootLinks, podroute as runPodroute } from './topology-lab.js';

const RUNNER = join(REPO_ROOT, 'dist', 'lab', 'podroute-lab.mjs');

function gate(): { skip: string | false } {
  const g = interopGate(['frr', 'etcd', 'ping', 'podroute']);
  if (g.skip) return g;
  return gateDecision(
    [
      ...(existsSync(PTP_PLUGIN) ? [] : [`the reference CNI plugin ${PTP_PLUGIN} is missing`]),
      ...(existsSync(RUNNER) ? [] : [`the lab runner is not built (${RUNNER}: npm run build)`]),
    ],
    process.env,
  );
}
const { skip } = gate();

/** `bin/podroute ARGS` as a user runs it, with time for a whole `lab up` under load. */
const podroute = (args: readonly string[], timeoutMs = 180_000): Promise<ExecResult> =>
  runPodroute(args, timeoutMs);

async function check(name: string, waitS = 0): Promise<{ code: number; report: CheckReport }> {
  const r = await podroute(['lab', 'check', name, '--json', '--wait', String(waitS)], (waitS + 60) * 1000);
  try {
    return { code: r.code, report: JSON.parse(r.stdout) as CheckReport };
  } catch {
    throw new Error(`lab check ${name} printed no report (exit ${r.code}): ${r.stdout}${r.stderr}`);
  }
}

async function netnsOfLab(name: string): Promise<string[]> {
  return (await run('ip', ['netns', 'list'])).stdout
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((n) => n.startsWith(`${name}-`));
}

/** `lab down NAME` and the proof that nothing of it is left. */
async function downAndVerify(t: Test, name: string, tmpDir: string | undefined): Promise<void> {
  const links = await rootLinks();
  const r = await podroute(['lab', 'down', name]);
  t.equal(r.code, 0, `lab down exits 0\n${r.stdout}${r.stderr}`);
  t.same(await netnsOfLab(name), [], 'no namespace left (veths and bridges live only in them)');
  t.same(
    [...(await rootLinks())].filter((l) => !links.has(l) || l.includes(name)),
    [],
    'no new link in the root namespace',
  );
  t.same(labProcesses(name), [], 'no process of the lab left');
  t.same(
    readdirSync(STATE_DIR).filter((f) => f.startsWith(`${name}.`)),
    [],
    `no state, chaos or log file in ${STATE_DIR}`,
  );
  if (tmpDir) t.notOk(existsSync(tmpDir), `temp dir ${tmpDir} removed`);
  t.same(
    existsSync('/var/run/frr') ? readdirSync('/var/run/frr').filter((d) => d.startsWith(`${name}-`)) : [],
    [],
    'no FRR run dir left',
  );
}

const lostPairs = (r: CheckReport): string[] =>
  r.results.filter((x) => !x.ok).map((x) => `${x.from}->${x.to}`);

t.test('spine-leaf-bgp through bin/podroute lab: pods, check, exec, fail/heal, down', { skip }, async (t) => {
  const name = `r${randomBytes(3).toString('hex')}`;
  let downDone = false;
  t.teardown(async () => {
    if (!downDone) await podroute(['lab', 'down', name]);
  });
  const file = join(CLAB, 'spine-leaf-bgp.clab.yml');
  const topo = loadTopology(file);
  const up = await podroute(['lab', 'up', file, '--name', name]);
  t.equal(up.code, 0, `lab up exits 0\n${up.stdout}${up.stderr}`);
  const lastLine = up.stdout.trimEnd().split('\n').pop() ?? '';
  t.match(lastLine, new RegExp(`next: .*podroute lab check ${name}$`), 'the last line says what to run next');
  const state = readState(name);
  if (!state) throw new Error(`no state file after up:\n${up.stdout}`);
  const tmpDir = state.tmpDir;
  t.ok(metaOf(state).ready, 'the state says ready');

  // Pods: 2 per podroute node (the default), each in its own namespace with an address from IPAM.
  const podNodes = topo.nodes.filter((n) => n.role === 'podroute').map((n) => n.name);
  const pods = metaOf(state).pods ?? [];
  t.equal(pods.length, podNodes.length * 2, `${podNodes.length * 2} pods`);
  const ns = new Set(await netnsOfLab(name));
  for (const p of pods) {
    t.ok(ns.has(p.netns), `${p.name}: namespace ${p.netns}`);
    t.match(p.addresses[0], /^198\.19\.\d+\.\d+\/\d+$/, `${p.name}: an address from the pod range`);
    t.ok(p.gateways.length > 0, `${p.name}: a gateway`);
    const addr = await run('ip', ['-n', p.netns, '-j', 'addr', 'show', 'dev', 'eth0']);
    t.match(addr.stdout, p.addresses[0]!.split('/')[0]!, `${p.name}: eth0 holds the address (ptp)`);
  }
  const node1Pods = pods.filter((p) => p.node === 'node1');
  const hostRoutes = await run('ip', ['-n', `${name}-node1`, '-4', 'route', 'show']);
  for (const p of node1Pods)
    t.match(
      hostRoutes.stdout,
      `${p.addresses[0]!.split('/')[0]} dev veth`,
      `node1 routes ${p.name} to its veth`,
    );

  // status: every node and every pod on one screen; JSON with sessions.
  const stText = await podroute(['lab', 'status', name]);
  t.equal(stText.code, 0, 'lab status exits 0');
  for (const n of topo.nodes) t.match(stText.stdout, n.name, `status names ${n.name}`);
  for (const p of pods) t.match(stText.stdout, p.addresses[0]!, `status lists ${p.name} with its address`);
  const st = JSON.parse((await podroute(['lab', 'status', name, '--json'])).stdout) as LabStatus;
  for (const n of st.nodes.filter((x) => x.role === 'podroute')) {
    t.ok(
      n.sessions.length > 0 && n.sessions.every((s) => s.state === 'Established'),
      `${n.name} Established`,
    );
  }
  for (const n of st.nodes.filter((x) => x.role === 'frr')) {
    t.ok(n.sessions.length > 0, `${n.name} has sessions in status`);
  }

  const c0 = Date.now();
  const first = await check(name, 5);
  t.equal(first.code, 0, `check passes (lost: ${lostPairs(first.report).join(' ')})`);
  t.equal(first.report.lost, 0, 'zero loss');
  t.equal(first.report.pairs, pods.length * pods.length, 'each pod: every other pod and its gateway');
  t.comment(`check passed ${((Date.now() - c0) / 1000).toFixed(1)} s after up returned`);
  const text = await podroute(['lab', 'check', name]);
  t.match(text.stdout, /0 lost/, 'the matrix ends with the count');

  // exec: inside the node's namespace, exit code passed on; pods by name too.
  const ex = await podroute(['lab', 'exec', '--lab', name, 'node1', '--', 'ip', '-4', 'route', 'show']);
  t.equal(ex.code, 0, 'exec exits 0');
  t.match(ex.stdout, /default/, 'exec ran in node1 (its default route from the leaf)');
  const ex3 = await podroute(['lab', 'exec', '--lab', name, 'node1-pod1', '--', 'sh', '-c', 'exit 3']);
  t.equal(ex3.code, 3, 'the command’s exit code is passed on');

  // A link: node1's uplink down → node1's pods cut off from the other nodes, back after heal.
  const uplink = topo.links.find(
    (l) => l.b.node === 'node1' && topo.nodes.find((n) => n.name === l.a.node)?.role === 'frr',
  );
  if (!uplink) throw new Error('node1 has no uplink in spine-leaf-bgp');
  const end = `${uplink.b.node}:${uplink.b.ifname}`;
  const f1 = await podroute(['lab', 'fail', '--lab', name, end]);
  t.equal(f1.code, 0, `fail ${end}\n${f1.stderr}`);
  const linkState = await run('ip', ['-n', `${name}-node1`, '-j', 'link', 'show', 'dev', uplink.b.ifname]);
  t.match(linkState.stdout, /"operstate":"DOWN"/, 'the link is down');
  t.match((await podroute(['lab', 'status', name])).stdout, /FAILED[\s\S]*down/, 'status shows the failure');
  const cut = await check(name);
  t.equal(cut.code, 1, 'check fails while the link is down');
  t.ok(
    lostPairs(cut.report).length > 0 &&
      cut.report.results
        .filter((r) => !r.ok)
        .every((r) => r.from.startsWith('node1-') || r.to.startsWith('node1-')),
    'only pairs with a node1 pod are lost',
  );
  t.equal((await podroute(['lab', 'heal', '--lab', name, end])).code, 0, 'heal the link');
  t.equal((await check(name, 30)).code, 0, 'check passes again after heal');

  // A node: node2's podroute SIGKILLed → its prefix leaves the fabric; heal starts it again.
  t.equal((await podroute(['lab', 'fail', '--lab', name, 'node2'])).code, 0, 'fail node2');
  const down2 = await waitFor(
    async () => {
      const c = await check(name);
      return c.report.lost > 0 ? c.report : undefined;
    },
    { timeoutMs: 20_000, intervalMs: 200, what: 'loss after node2 failed' },
  );
  t.ok(
    down2.results.filter((r) => !r.ok).every((r) => r.from.startsWith('node2-') || r.to.startsWith('node2-')),
    'only pairs with a node2 pod are lost',
  );
  t.equal((await podroute(['lab', 'fail', '--lab', name, 'node2'])).code, 1, 'failing it twice is refused');
  t.equal((await podroute(['lab', 'heal', '--lab', name])).code, 0, 'heal everything');
  t.equal((await check(name, 30)).code, 0, 'check passes again after node2 is back');
  t.notOk(existsSync(join(STATE_DIR, `${name}.chaos.json`)), 'no failure recorded after heal');

  await downAndVerify(t, name, tmpDir);
  downDone = true;
});

t.test(
  'dual-homed: a silent uplink failure and a leaf stopped; down after the fault',
  { skip },
  async (t) => {
    const name = `r${randomBytes(3).toString('hex')}`;
    let downDone = false;
    t.teardown(async () => {
      if (!downDone) await podroute(['lab', 'down', name]);
    });
    const up = await podroute(['lab', 'up', join(CLAB, 'dual-homed.clab.yml'), '--name', name]);
    t.equal(up.code, 0, `lab up exits 0\n${up.stdout}${up.stderr}`);
    const state = readState(name);
    if (!state) throw new Error(`no state file after up:\n${up.stdout}`);
    t.equal((await check(name, 10)).code, 0, 'check passes');

    const f = await podroute(['lab', 'fail', '--lab', name, '--silent', 'node1:eth1']);
    t.equal(f.code, 0, `silent failure of node1:eth1\n${f.stderr}`);
    const link = await run('ip', ['-n', `${name}-node1`, '-j', 'link', 'show', 'dev', 'eth1']);
    t.match(link.stdout, /"operstate":"UP"/, 'the link stays up');
    const rules = await run('ip', ['netns', 'exec', `${name}-node1`, 'iptables', '-S']);
    t.match(rules.stdout, /-A INPUT -i eth1 .*-j DROP/, 'packets dropped by iptables');
    const drop = await run(
      'ip',
      ['netns', 'exec', `${name}-leaf1`, 'ping', '-c', '1', '-W', '1', '198.18.0.9'],
      { allowFail: true },
    );
    t.not(drop.code, 0, 'leaf1 no longer reaches node1 over the link');
    // Dual-homed: BFD (900 ms) moves node1 to leaf2; every pair reachable again while the fault lasts.
    t.equal((await check(name, 20)).code, 0, 'check passes over the other uplink');

    const l = await podroute(['lab', 'fail', '--lab', name, 'leaf2']);
    t.equal(l.code, 0, `leaf2's FRR stopped\n${l.stderr}`);
    const frr = await run('ip', ['netns', 'pids', `${name}-leaf2`]);
    t.equal(frr.stdout.trim(), '', 'nothing runs in leaf2');
    t.match(
      (await podroute(['lab', 'status', name])).stdout,
      /leaf2: FRR stopped/,
      'status lists both failures',
    );
    t.equal((await podroute(['lab', 'heal', '--lab', name, 'leaf2'])).code, 0, 'heal leaf2');
    await waitFor(
      async () =>
        (
          await run('vtysh', ['-N', `${name}-leaf2`, '-c', 'show bgp summary json'], { allowFail: true })
        ).stdout.includes('Established'),
      { timeoutMs: 30_000, what: 'leaf2 sessions back' },
    );
    t.pass('leaf2 is back with sessions');

    // Down with the silent failure still in place: nothing of it survives.
    await downAndVerify(t, name, state.tmpDir);
    downDone = true;
  },
);

t.test('a runner SIGKILLed in the middle of up: lab down leaves nothing', { skip }, async (t) => {
  const name = `r${randomBytes(3).toString('hex')}`;
  t.teardown(async () => {
    await podroute(['lab', 'down', name]);
  });
  const up = podroute(['lab', 'up', join(CLAB, 'spine-leaf-bgp.clab.yml'), '--name', name]);
  // Wait until the runner has started daemons (namespaces, links, FRR), then kill it.
  const state = await waitFor(
    () => {
      const s = readState(name);
      return s && s.pids.length >= 2 && !metaOf(s).ready ? s : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 20, what: 'the runner half-way through up' },
  );
  process.kill(state.ownerPid, 'SIGKILL');
  const r = await up;
  t.not(r.code, 0, 'up reports the dead runner');
  await sleep(200);
  t.ok((await netnsOfLab(name)).length > 0, 'the killed runner left namespaces behind');
  t.ok(existsSync(logFile(name)) || readState(name), 'and its state');
  await downAndVerify(t, name, state.tmpDir);
});

t.test('a state file cut short (empty): lab down removes the lab by its name', { skip }, async (t) => {
  const name = `r${randomBytes(3).toString('hex')}`;
  const ns = [`${name}-node1`, `${name}-leaf1`];
  t.teardown(async () => {
    for (const n of ns) await run('ip', ['netns', 'del', n], { allowFail: true });
    rmSync(join(STATE_DIR, `${name}.json`), { force: true });
  });
  for (const n of ns) await run('ip', ['netns', 'add', n]);
  const tmp = mkdtempSync(join(tmpdir(), `podroute-lab-${name}-`));
  mkdirSync(STATE_DIR, { recursive: true });
  writeFileSync(join(STATE_DIR, `${name}.json`), '');
  const r = await podroute(['lab', 'down', name]);
  t.equal(r.code, 0, `lab down exits 0 ${r.stdout}${r.stderr}`);
  t.match(r.stdout, /cannot be read/, 'says why it removes by name');
  t.same(await netnsOfLab(name), [], 'its namespaces are gone');
  t.notOk(existsSync(tmp), 'its temp dir is gone');
  t.notOk(existsSync(join(STATE_DIR, `${name}.json`)), 'the broken state file is gone');
});
