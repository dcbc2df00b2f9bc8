import fc from 'fast-check';
import t from 'tap';
import { makePrefix, parsePrefix } from '../../src/net/prefix.js';
import { diffIsEmpty, diffRoutes } from '../../src/routes/reconcile.js';
import { describeRoute, type KernelRoute, type Route } from '../../src/routes/route.js';
import { FakeKernel } from './fake-kernel.js';

const OURS = 176;
const P = parsePrefix;
const bh = (dst: string, metric = 0): Route => ({
  dst: P(dst),
  table: 100,
  metric,
  kind: 'blackhole',
  nexthops: [],
});
const via = (dst: string, ...gws: string[]): Route => ({
  dst: P(dst),
  table: 100,
  metric: 0,
  kind: 'unicast',
  nexthops: gws.map((g) => ({ gateway: g, ifindex: 2 })),
});
const k = (r: Route, protocol = OURS): KernelRoute => ({ ...r, protocol });
const names = (rs: readonly { dst: unknown; kind: string; nexthops: readonly unknown[] }[]) =>
  rs.map((r) => describeRoute(r as KernelRoute));

t.test('adds missing, replaces changed, removes unwanted', async (t) => {
  const desired = [
    bh('198.19.1.0/24'),
    via('198.19.3.0/26', '198.18.0.3'),
    via('198.19.4.0/26', '198.18.0.4'),
  ];
  const current = [k(bh('198.19.1.0/24')), k(via('198.19.3.0/26', '198.18.0.9')), k(bh('198.19.2.0/24'))];
  const d = diffRoutes(desired, current, OURS);
  t.same(names(d.add), ['198.19.4.0/26 via 198.18.0.4 dev 2']);
  t.same(names(d.replace), ['198.19.3.0/26 via 198.18.0.3 dev 2']);
  t.same(names(d.remove), ['198.19.2.0/24 blackhole']);
});

t.test('unchanged routes produce no work; ECMP next-hop order does not matter', async (t) => {
  const desired = [via('198.19.5.0/26', '198.18.0.5', '198.18.1.5')];
  const current = [k(via('198.19.5.0/26', '198.18.1.5', '198.18.0.5'))];
  t.ok(diffIsEmpty(diffRoutes(desired, current, OURS)));
  // Losing one ECMP leg is a replace, not a delete and add.
  const d = diffRoutes([via('198.19.5.0/26', '198.18.0.5')], current, OURS);
  t.same(names(d.replace), ['198.19.5.0/26 via 198.18.0.5 dev 2']);
  t.same(d.add, []);
  t.same(d.remove, []);
});

t.test('a kind change (unicast to blackhole) is a replace', async (t) => {
  const d = diffRoutes([bh('198.19.5.0/26')], [k(via('198.19.5.0/26', '198.18.0.5'))], OURS);
  t.same(names(d.replace), ['198.19.5.0/26 blackhole']);
});

t.test('a metric change is add plus remove (the metric is part of the kernel key)', async (t) => {
  const d = diffRoutes([bh('198.19.1.0/24', 10)], [k(bh('198.19.1.0/24', 0))], OURS);
  t.same(
    d.add.map((r) => r.metric),
    [10],
  );
  t.same(
    d.remove.map((r) => r.metric),
    [0],
  );
});

t.test('foreign routes are never replaced or removed', async (t) => {
  const foreignSameKey = k(via('198.19.1.0/24', '198.18.0.77'), 4); // proto static
  const foreignElsewhere = k(bh('198.19.99.0/24'), 186); // proto bgp
  const d = diffRoutes([bh('198.19.1.0/24')], [foreignSameKey, foreignElsewhere], OURS);
  // Ours is still attempted as a create-exclusive add: the kernel refuses it while the foreign one stays.
  t.same(names(d.add), ['198.19.1.0/24 blackhole']);
  t.same(d.replace, []);
  t.same(d.remove, []);
});

// Property: applying the diff to a kernel holding a mix of ours and foreign routes leaves exactly the
// desired set as ours (except keys held by foreign routes) and every foreign route untouched.
t.test('property: apply(diff) converges and spares foreign routes', async (t) => {
  const prefixArb = fc
    .tuple(fc.integer({ min: 0, max: 7 }), fc.constantFrom(24, 26))
    .map(([i, len]) => makePrefix(Buffer.from([198, 19, i, 0]), len));
  const routeArb = fc.record({
    dst: prefixArb,
    metric: fc.constantFrom(0, 10),
    gws: fc.subarray(['198.18.0.3', '198.18.0.4', '198.18.1.3'], { minLength: 0, maxLength: 3 }),
  });
  const toRoute = (x: { dst: ReturnType<typeof makePrefix>; metric: number; gws: string[] }): Route => ({
    dst: x.dst,
    table: 100,
    metric: x.metric,
    kind: x.gws.length === 0 ? 'blackhole' : 'unicast',
    nexthops: x.gws.map((g) => ({ gateway: g, ifindex: 2 })),
  });
  await fc.assert(
    fc.asyncProperty(
      fc.array(routeArb, { maxLength: 8 }),
      fc.array(fc.tuple(routeArb, fc.constantFrom(OURS, 4, 186)), { maxLength: 8 }),
      async (want, have) => {
        const kernel = new FakeKernel();
        for (const [r, proto] of have) kernel.install({ ...toRoute(r), protocol: proto });
        const foreignBefore = [...kernel.routes.values()].filter((r) => r.protocol !== OURS);
        const desired = new Map<string, Route>();
        for (const r of want.map(toRoute))
          desired.set(`${r.table} ${r.dst.bytes.toString('hex')}/${r.dst.length} ${r.metric}`, r);
        const diff = diffRoutes([...desired.values()], await kernel.listRoutes(OURS), OURS);
        for (const r of diff.add) await kernel.addRoute(r, OURS).catch(() => {});
        for (const r of diff.replace) await kernel.replaceRoute(r, OURS);
        for (const r of diff.remove) await kernel.deleteRoute(r, OURS);
        const foreignAfter = [...kernel.routes.values()].filter((r) => r.protocol !== OURS);
        if (JSON.stringify(foreignAfter) !== JSON.stringify(foreignBefore)) return false;
        const foreignKeys = new Set(
          foreignAfter.map((r) => `${r.dst.bytes.toString('hex')}/${r.dst.length} ${r.metric}`),
        );
        const expected = [...desired.values()].filter(
          (r) => !foreignKeys.has(`${r.dst.bytes.toString('hex')}/${r.dst.length} ${r.metric}`),
        );
        const again = diffRoutes(expected, await kernel.listRoutes(OURS), OURS);
        return diffIsEmpty(again) && kernel.ours(OURS).length === expected.length;
      },
    ),
    { numRuns: 300 },
  );
  t.pass('300 random kernels converged');
});
