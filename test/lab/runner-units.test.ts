/**
 * The lab runner's pure parts, without root: how many pods a node gets (the `podroute.lab/pods`
 * label, its default and its refusals), the conflist a node's runtime reads, the reachability
 * matrix's cells, and when `up` counts the lab as converged.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { type CheckReport, formatCheck } from '../../lab/check.js';
import { mapLimit } from '../../lab/concurrency.js';
import { conflistFor, podCounts } from '../../lab/pods.js';
import { converged, type LabStatus } from '../../lab/status.js';
import type { LabNodeSpec, LabTopology } from '../../lab/topology.js';

function topology(t: Test, yaml: string, nodes: Partial<LabNodeSpec>[]): LabTopology {
  const dir = mkdtempSync(join(tmpdir(), 'podroute-runner-units-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'x.clab.yml');
  writeFileSync(file, yaml);
  const topo: LabTopology = {
    name: 'x',
    file,
    links: [],
    nodes: nodes.map((n) => ({ name: 'n', role: 'linux', image: undefined, exec: [], ...n }) as LabNodeSpec),
  };
  return topo;
}

t.test('pod counts: label, default 2 with ipam, none without, refusals name the key', async (t) => {
  const withIpam = { ipam: { networks: [] } };
  const topo = topology(
    t,
    [
      'name: x',
      'topology:',
      '  nodes:',
      '    a: { labels: { podroute.lab/pods: "3" } }',
      '    b: {}',
      '    c: {}',
      '    d: { labels: { podroute.lab/pods: 0 } }',
      '',
    ].join('\n'),
    [
      { name: 'a', role: 'podroute', podrouteConfig: withIpam },
      { name: 'b', role: 'podroute', podrouteConfig: withIpam },
      { name: 'c', role: 'podroute', podrouteConfig: {} },
      { name: 'd', role: 'podroute', podrouteConfig: {} },
      { name: 'r', role: 'frr' },
    ],
  );
  t.same(
    [...podCounts(topo)],
    [
      ['a', 3],
      ['b', 2],
      ['c', 0],
      ['d', 0],
    ],
  );

  const bad = (label: string, role: LabNodeSpec['role'], cfg: Record<string, unknown>) =>
    podCounts(
      topology(t, `name: x\ntopology:\n  nodes:\n    a: { labels: { podroute.lab/pods: ${label} } }\n`, [
        { name: 'a', role, podrouteConfig: cfg },
      ]),
    );
  t.throws(
    () => bad('"two"', 'podroute', withIpam),
    /topology\.nodes\.a\.labels\.podroute\.lab\/pods: "two" is not a whole number 0\.\.64/,
  );
  t.throws(() => bad('65', 'podroute', withIpam), /not a whole number/);
  t.throws(() => bad('"-1"', 'podroute', withIpam), /not a whole number/);
  t.throws(() => bad('2', 'podroute', {}), /2 pods need an ipam section/);
  t.throws(() => bad('2', 'frr', {}), /only podroute nodes get pods \(this node is frr\)/);
});

t.test('the conflist: ptp with podroute-cni as IPAM, on the node’s socket', async (t) => {
  t.same(conflistFor('/tmp/x/api.sock'), {
    cniVersion: '1.0.0',
    name: 'pods',
    plugins: [{ type: 'ptp', mtu: 1500, ipam: { type: 'podroute-cni', socket: '/tmp/x/api.sock' } }],
  });
});

t.test('the matrix: ok, XX, one family lost, the count and every lost pair', async (t) => {
  const pods = [
    {
      name: 'n1-pod1',
      node: 'n1',
      addresses: ['198.19.0.1/16', '2001:db8:1::1/64'],
      gateways: ['198.19.0.0'],
    },
    {
      name: 'n2-pod1',
      node: 'n2',
      addresses: ['198.19.1.1/16', '2001:db8:1::2/64'],
      gateways: ['198.19.0.0'],
    },
  ];
  const results = [
    { from: 'n1-pod1', to: 'gateway', address: '198.19.0.0', ok: true },
    { from: 'n1-pod1', to: 'n2-pod1', address: '198.19.1.1', ok: true },
    { from: 'n1-pod1', to: 'n2-pod1', address: '2001:db8:1::2', ok: false },
    { from: 'n2-pod1', to: 'gateway', address: '198.19.0.0', ok: false },
    { from: 'n2-pod1', to: 'n1-pod1', address: '198.19.0.1', ok: false },
    { from: 'n2-pod1', to: 'n1-pod1', address: '2001:db8:1::1', ok: false },
  ];
  const report: CheckReport = { pods, results, pairs: 6, lost: 4, seconds: 0.5 };
  const lines = formatCheck(report).split('\n');
  t.match(lines[1], /^ {2}1 {2}n1-pod1 +ok +\. +x6 /, 'row 1: gateway ok, itself ".", IPv6 lost');
  t.match(lines[2], /^ {2}2 {2}n2-pod1 +XX +XX +\. /, 'row 2: gateway and pod lost');
  t.match(lines[4], /^6 pings, 4 lost, 0\.50 s$/);
  t.equal(lines.filter((l) => l.startsWith('  lost: ')).length, 4, 'every lost ping listed');
  const clean = formatCheck({ ...report, results: results.map((r) => ({ ...r, ok: true })), lost: 0 });
  t.match(clean, /6 pings, 0 lost, 0\.50 s: every pod reaches every pod and its gateway/);
});

t.test('converged: every podroute session up, and at least one', async (t) => {
  const st = (sessions: { state: string }[][]): LabStatus =>
    ({
      nodes: [
        ...sessions.map((s, i) => ({
          name: `n${i}`,
          role: 'podroute',
          netns: '',
          status: {},
          sessions: s.map((x) => ({ protocol: 'bgp', peer: '198.18.0.0', ...x })),
        })),
        { name: 'leaf', role: 'frr', netns: '', sessions: [{ protocol: 'bgp', peer: 'x', state: 'Active' }] },
      ],
    }) as unknown as LabStatus;
  t.ok(converged(st([[{ state: 'Established' }], [{ state: 'Full' }, { state: 'Established' }]])));
  t.notOk(converged(st([[{ state: 'Established' }], [{ state: 'OpenSent' }]])), 'one not up');
  t.notOk(converged(st([[]])), 'no session at all is not converged');
});

t.test('mapLimit: order kept, never more than the limit at once', async (t) => {
  let running = 0;
  let peak = 0;
  const out = await mapLimit([5, 1, 3, 2, 4], 2, async (x) => {
    running++;
    peak = Math.max(peak, running);
    await new Promise((r) => setTimeout(r, x));
    running--;
    return x * 10;
  });
  t.same(out, [50, 10, 30, 20, 40]);
  t.equal(peak, 2);
});
