// Pure parts of the netlink adapter: error translation and message conversion (no socket opened).
import { rt } from 'netlink';
import t from 'tap';
import { parsePrefix } from '../../src/net/prefix.js';
import { encodeMultipath } from '../../src/routes/multipath.js';
import {
  NetlinkError,
  parseKernelRoute,
  parseKernelRule,
  RouteExistsError,
  RouteNotFoundError,
  routeMessage,
  ruleMessage,
  translateNetlinkError,
} from '../../src/routes/netlink.js';

t.test('package errors become typed errors', async (t) => {
  const exists = translateNetlinkError(new Error('Request rejected: EEXIST'), 'add route');
  t.type(exists, RouteExistsError);
  t.equal((exists as NetlinkError).code, 'EEXIST');
  t.equal(exists.message, 'add route: EEXIST');
  t.type(translateNetlinkError(new Error('Request rejected: ESRCH'), 'delete route'), RouteNotFoundError);
  const unreach = translateNetlinkError(new Error('Request rejected: ENETUNREACH'), 'add route');
  t.type(unreach, NetlinkError);
  t.notOk(unreach instanceof RouteExistsError);
  t.equal((unreach as NetlinkError).code, 'ENETUNREACH');
  const other = new Error('socket closed');
  t.equal(translateNetlinkError(other, 'x'), other, 'non-netlink errors pass through');
  t.equal(translateNetlinkError('str', 'x').message, 'str');
});

t.test('tables above 255 go in RTA_TABLE with rtm_table = RT_TABLE_COMPAT', async (t) => {
  const big = routeMessage(
    { dst: parsePrefix('198.19.1.0/24'), table: 1000, metric: 5 },
    176,
    rt.RouteType.BLACKHOLE,
  );
  t.equal(big.data.table, 252);
  t.equal(big.attrs.table, 1000);
  t.equal(big.attrs.priority, 5);
  t.equal(big.data.protocol, 176);
  t.equal(big.data.family, 2);
  t.equal(big.data.dstLen, 24);
  const small = routeMessage(
    { dst: parsePrefix('2001:db8::/32'), table: 100, metric: 1024 },
    176,
    rt.RouteType.UNICAST,
  );
  t.equal(small.data.table, 100);
  t.equal(small.data.family, 10);
  const def = routeMessage(
    { dst: parsePrefix('0.0.0.0/0'), table: 100, metric: 0 },
    176,
    rt.RouteType.UNICAST,
  );
  t.equal(def.attrs.dst, undefined, 'a default route carries no RTA_DST');
});

t.test('parseKernelRoute reads dumped routes', async (t) => {
  const bh = parseKernelRoute({
    kind: 'route',
    data: { family: 2, dstLen: 24, table: 252, protocol: 176 as rt.RouteProtocol, type: 'BLACKHOLE' },
    attrs: { dst: Buffer.from([198, 19, 1, 0]), table: 1000 },
  });
  t.same(bh, {
    dst: parsePrefix('198.19.1.0/24'),
    table: 1000,
    metric: 0,
    kind: 'blackhole',
    nexthops: [],
    protocol: 176,
  });

  const named = parseKernelRoute({
    kind: 'route',
    data: { family: 2, dstLen: 26, table: 254, protocol: 'BGP', type: 'UNICAST', flags: { __unknown: 4 } },
    attrs: { dst: Buffer.from([198, 19, 3, 0]), gateway: Buffer.from([198, 18, 0, 3]), oif: 2, priority: 20 },
  });
  t.same(named?.nexthops, [{ gateway: '198.18.0.3', ifindex: 2, onlink: true }]);
  t.equal(named?.protocol, 186, 'protocol names the package decoded map back to numbers');
  t.equal(named?.metric, 20);
  t.equal(named?.table, 254, 'rtm_table used when RTA_TABLE is absent');

  const ecmp = parseKernelRoute({
    kind: 'route',
    data: { family: 10, dstLen: 64, table: 100, protocol: 176 as rt.RouteProtocol, type: 'UNICAST' },
    attrs: {
      dst: Buffer.from('20010db8000500000000000000000000', 'hex'),
      table: 100,
      priority: 1024,
      multipath: encodeMultipath([
        { gateway: '2001:db8::5', ifindex: 2 },
        { gateway: '2001:db8::6', ifindex: 2 },
      ]),
    },
  });
  t.same(
    ecmp?.nexthops.map((h) => h.gateway),
    ['2001:db8::5', '2001:db8::6'],
  );
  t.equal(ecmp?.dst.family, 6);

  t.equal(
    parseKernelRoute({
      kind: 'route',
      data: { family: 10, dstLen: 128, flags: { cloned: true } },
      attrs: {},
    }),
    undefined,
    'cache clones are dropped',
  );
  t.equal(
    parseKernelRoute({ kind: 'route', data: { family: 7 }, attrs: {} }),
    undefined,
    'other families dropped',
  );
  t.equal(
    parseKernelRoute({ kind: 'route', data: { family: 2, dstLen: 40 }, attrs: { dst: Buffer.alloc(4) } }),
    undefined,
    'an impossible prefix length is dropped, not thrown',
  );
  const unreachable = parseKernelRoute({
    kind: 'route',
    data: { family: 2, dstLen: 0, protocol: 176 as rt.RouteProtocol, type: 'UNREACHABLE' },
    attrs: {},
  });
  t.equal(unreachable?.kind, 'other');
  t.equal(unreachable?.dst.length, 0);
});

t.test('rules: message and parse', async (t) => {
  const m = ruleMessage({ priority: 1000, src: parsePrefix('198.19.0.0/20'), table: 1110 }, 176);
  t.same(m.data, { family: 2, srcLen: 20, table: 252, action: rt.RuleAction.toTbl });
  t.same(m.attrs, { priority: 1000, table: 1110, protocol: 176, src: Buffer.from([198, 19, 0, 0]) });
  // As dumped by the kernel (seen in a namespace): rtm table byte, FRA_TABLE, FRA_PROTOCOL, FRA_SRC.
  const parsed = parseKernelRule({
    kind: 'rule',
    data: { family: 10, dstLen: 0, srcLen: 48, tos: 0, table: 252, action: 'toTbl', flags: {} },
    attrs: {
      table: 1110,
      protocol: 176,
      priority: 1000,
      src: Buffer.from('20010db8000900000000000000000000', 'hex'),
    },
  });
  t.same(parsed, { priority: 1000, src: parsePrefix('2001:db8:9::/48'), table: 1110, protocol: 176 });
  const main = parseKernelRule({
    kind: 'rule',
    data: { family: 2, srcLen: 0, table: 254, action: 'toTbl' },
    attrs: { table: 254, protocol: 2, priority: 32766 },
  });
  t.same(main, { priority: 32766, src: parsePrefix('0.0.0.0/0'), table: 254, protocol: 2 });
  t.equal(
    parseKernelRule({ kind: 'rule', data: { family: 2, action: 'goto' }, attrs: { protocol: 176 } }),
    undefined,
    'rules with other actions are never ours to program',
  );
});

t.test('throw routes map to RTN_THROW both ways', async (t) => {
  const r = parseKernelRoute({
    kind: 'route',
    data: { family: 2, dstLen: 24, table: 110, protocol: 176 as rt.RouteProtocol, type: 'THROW' },
    attrs: { dst: Buffer.from([198, 19, 1, 0]), table: 110 },
  });
  t.equal(r?.kind, 'throw');
});
