import t from 'tap';
import { DEFAULT_ROUTE_PROTOCOL, defaultRoutesConfig, routesSchema } from '../../src/config/routes.js';
import { configSchema } from '../../src/config/schema.js';

const issues = (v: unknown) => {
  const r = routesSchema.safeParse(v);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

t.test('defaults', async (t) => {
  t.same(defaultRoutesConfig, {
    manage: true,
    mode: 'layer3',
    blackholes: true,
    table: 254,
    protocol: DEFAULT_ROUTE_PROTOCOL,
    metric: 0,
    resyncInterval: 30,
    vlans: [],
  });
  t.equal(DEFAULT_ROUTE_PROTOCOL, 176);
  const whole = configSchema.parse({ routes: { mode: 'layer2', table: 1000 } });
  t.equal(whole.routes?.mode, 'layer2');
  t.equal(whole.routes?.table, 1000);
  t.equal(configSchema.parse({}).routes, undefined, 'section optional');
});

t.test('bad values are refused with operator-friendly messages', async (t) => {
  t.same(issues({ table: 255 }), ['table: is the local table (255), which podroute must not write']);
  t.same(issues({ table: 0 }), ['table: is not a routing table id in 1..4294967295']);
  t.same(issues({ protocol: 2 }), ['protocol: is not a route protocol number in 5..255']);
  t.same(issues({ protocol: 256 }), ['protocol: is not a route protocol number in 5..255']);
  t.same(issues({ mode: 'flat' }), ['mode: is not one of layer3, layer2']);
  t.same(issues({ resyncInterval: 0 }), ['resyncInterval: is not a number of seconds in 1..86400']);
  t.equal(issues({ tabel: 100 }).length, 1, 'unknown keys are refused');
  t.same(issues({ interfaces: ['eth0'], metric: 100 }), []);
});
