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

t.test('vlans: validation', async (t) => {
  const ok = {
    table: 1000,
    vlans: [
      { interface: 'eth0.10', gateway: '198.18.10.1', networks: ['198.19.0.0/20'], table: 110 },
      {
        interface: 'eth0.20',
        gateway6: '2001:db8:20::1',
        networks: ['2001:db8:b::/48'],
        table: 120,
        priority: 900,
      },
    ],
  };
  t.same(issues(ok), []);
  t.same(
    issues({
      table: 110,
      vlans: [
        { interface: 'eth0.10', networks: ['198.19.0.0/20', '2001:db8:a::/48'], table: 110 },
        { interface: 'eth0.20', gateway: '198.18.20.1', networks: ['198.19.16.0/20'], table: 110 },
      ],
    }),
    [
      'vlans.0.table: is routes.table (110) too; a VLAN needs a table of its own',
      'vlans.0.gateway: is required for IPv4 networks',
      'vlans.0.gateway6: is required for IPv6 networks',
      'vlans.1.table: is routes.table (110) too; a VLAN needs a table of its own',
      'vlans.1.table: is used by vlans[0] too',
    ],
  );
  t.same(
    issues({ vlans: [{ interface: 'x', gateway: '2001:db8::1', networks: ['198.19.0.0/20'], table: 254 }] }),
    [
      'vlans.0.gateway: is not an IPv4 address',
      'vlans.0.table: is a reserved table (253 default, 254 main, 255 local)',
      'vlans.0.table: is routes.table (254) too; a VLAN needs a table of its own',
    ],
  );
  t.same(issues({ vlans: [{}] }).length, 3, 'missing fields are reported, the cross-checks do not crash');
  t.same(issues({ vlans: [{ interface: 'x', gateway: '198.18.0.1', networks: [], table: 110 }] }), [
    'vlans.0.networks: needs at least one pod network',
  ]);
});
