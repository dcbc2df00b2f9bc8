import t from 'tap';
import { ospfSchema } from '../../src/config/ospf.js';
import { configSchema } from '../../src/config/schema.js';

const issues = (v: unknown) => {
  const r = ospfSchema.safeParse(v);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

t.test('defaults follow RFC 2328 C.3 and docs/configuration.md', async (t) => {
  const c = ospfSchema.parse({ interfaces: [{ name: 'eth1' }] });
  t.same(c.interfaces[0], {
    name: 'eth1',
    area: '0.0.0.0',
    network: 'point-to-point',
    cost: 10,
    helloInterval: 10,
    deadInterval: 40,
    retransmitInterval: 5,
    transmitDelay: 1,
    priority: 0,
    mtuIgnore: false,
    auth: { type: 'none' },
  });
  t.equal(c.announceAs, 'stub');
  t.equal(c.externalMetricType, 2);
  t.equal(ospfSchema.parse({ interfaces: [{ name: 'eth1', area: 1 }] }).interfaces[0]!.area, '0.0.0.1');
});

t.test('the design document example parses inside the whole config', async (t) => {
  const c = configSchema.parse({
    ospf: {
      interfaces: [
        {
          name: 'eth1',
          area: '0.0.0.0',
          network: 'point-to-point',
          cost: 10,
          helloInterval: 10,
          deadInterval: 40,
          priority: 0,
          auth: { type: 'md5', keyId: 1, key: 'secret' },
        },
      ],
    },
  });
  t.equal(c.ospf?.interfaces[0]?.auth.type, 'md5');
});

t.test('bad values are refused with messages', async (t) => {
  t.match(issues({ interfaces: [] }), ['interfaces: needs at least one interface']);
  t.match(issues({ interfaces: [{ name: 'eth1', helloInterval: 10, deadInterval: 10 }] }), [
    /deadInterval: deadInterval must be greater than helloInterval/,
  ]);
  t.match(issues({ interfaces: [{ name: 'eth1', network: 'nbma' }] }), [
    /network: is not point-to-point or broadcast/,
  ]);
  t.match(issues({ interfaces: [{ name: 'eth1', auth: { type: 'simple', key: 'longer-than-8' } }] }), [
    /auth.key: is longer than 8 bytes/,
  ]);
  t.match(issues({ interfaces: [{ name: 'eth1', auth: { type: 'md5', keyId: 300, key: 'k' } }] }), [/keyId/]);
  t.match(issues({ interfaces: [{ name: 'eth1', area: '1.2.3' }] }), [/area: is not an area id/]);
  t.match(
    issues({
      interfaces: [{ name: 'eth1', area: '0.0.0.1' }],
      areas: [{ id: '0.0.0.1', type: 'stub' }],
      announceAs: 'external',
    }),
    [/announceAs: announceAs external is not allowed/],
  );
  t.match(issues({ interfaces: [{ name: 'eth1', colour: 'blue' }] }), [/colour|Unrecognized/i]);
  // A stub link's cost has 16 bits: a larger metric would not fit the router-LSA.
  t.match(issues({ interfaces: [{ name: 'eth1' }], metric: 70000 }), [/^metric: is above 65535/]);
  t.same(issues({ interfaces: [{ name: 'eth1' }], metric: 65535 }), []);
  t.same(issues({ interfaces: [{ name: 'eth1' }], announceAs: 'external', metric: 70000 }), []);
});
