/**
 * RoutesManager across a graceful restart (RFC 4724 4.1, restarting side), on the in-memory kernel:
 * a new manager adopts what the previous one left, deletes none of it while the peers re-send
 * their routes, treats a route wanted again as its own, and sweeps the rest on `sweepAdopted()`.
 */
import t from 'tap';
import { routesSchema } from '../../src/config/routes.js';
import { ManualClock } from '../../src/lib/clock.js';
import { silentLogger } from '../../src/lib/log.js';
import { parsePrefix } from '../../src/net/prefix.js';
import type { LearnedPeer } from '../../src/routes/learned.js';
import { RoutesManager } from '../../src/routes/manager.js';
import { describeRoute } from '../../src/routes/route.js';
import { FakeKernel } from './fake-kernel.js';

const P = parsePrefix;
const cfg = routesSchema.parse({});
const OWN = P('198.19.1.0/24');
const route = (dst: string) => ({
  prefix: P(dst),
  nextHop: '198.18.0.0',
  asPath: [{ type: 2, asns: [65000] }],
  origin: 0,
});
const leaf = (dsts: string[]): LearnedPeer => ({
  address: '198.18.0.0',
  asn: 65000,
  ibgp: false,
  routerId: '10.0.0.1',
  localAddress: '198.18.0.1',
  install: true,
  routes: dsts.map(route),
});

function manager(kernel: FakeKernel) {
  return new RoutesManager({ config: cfg, logger: silentLogger, clock: new ManualClock(), kernel });
}

t.test('adopt, keep while the peers resync, sweep what was not re-learned', async (t) => {
  const kernel = new FakeKernel();
  kernel.connected = [{ ifindex: 2, ifname: 'eth1', address: '198.18.0.1', prefix: P('198.18.0.0/31') }];
  const ours = () => kernel.ours(cfg.protocol).map(describeRoute);
  const before = manager(kernel);
  before.update({ announced: [OWN], peers: [] });
  before.updateLearned({
    peers: [leaf(['0.0.0.0/0', '198.18.201.0/24', '198.18.202.0/24'])],
    podNetworks: [],
  });
  await before.start();
  await before.stop({ removeRoutes: false });
  const left = ours();
  t.equal(left.length, 4, 'the previous process left a blackhole and three learned routes');

  const after = manager(kernel);
  t.equal(await after.adoptExisting(), 4, 'all four adopted');
  after.update({ announced: [OWN], peers: [] });
  await after.start();
  t.same(ours(), left, 'no peer has re-sent anything yet: nothing deleted');

  after.updateLearned({ peers: [leaf(['0.0.0.0/0', '198.18.201.0/24'])], podNetworks: [] });
  await after.reconcileNow();
  t.same(ours(), left, 'partly re-learned: still nothing deleted');
  after.updateLearned({ peers: [leaf(['0.0.0.0/0'])], podNetworks: [] });
  await after.reconcileNow();
  t.same(
    ours(),
    left.filter((r) => !r.startsWith('198.18.201.0/24')),
    'a route re-learned and then withdrawn is ours again: it goes at once',
  );
  kernel.calls.length = 0;
  after.sweepAdopted();
  await after.idle();
  t.same(
    ours(),
    ['0.0.0.0/0 via 198.18.0.0 dev 2', '198.19.1.0/24 blackhole'],
    'swept: what nobody re-sent is gone',
  );
  t.same(kernel.calls.filter((c) => c.startsWith('delete')).length, 1, 'one delete, no flush');
  after.sweepAdopted();
  await after.stop({ removeRoutes: false });
});

t.test('nothing to adopt after a reboot; manage: false adopts nothing', async (t) => {
  t.equal(await manager(new FakeKernel()).adoptExisting(), 0);
  const off = new RoutesManager({
    config: routesSchema.parse({ manage: false }),
    logger: silentLogger,
    clock: new ManualClock(),
    kernel: new FakeKernel(),
  });
  t.equal(await off.adoptExisting(), 0);
});
