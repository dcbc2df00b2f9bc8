import { endianness } from 'node:os';
import t from 'tap';
import { decodeMultipath, encodeMultipath, MultipathError } from '../../src/routes/multipath.js';

// Golden vectors in host order (x86-64 / arm64 little endian), as `ip route add … nexthop via A
// nexthop via B` sends them; checked against the kernel by test/routes/netns.test.ts.
const LE = endianness() === 'LE';

t.test(
  'IPv4, two next hops: golden bytes both ways',
  { skip: !LE && 'vector is little-endian' },
  async (t) => {
    const hops = [
      { gateway: '198.18.0.3', ifindex: 2 },
      { gateway: '198.18.1.3', ifindex: 3 },
    ];
    const hex =
      '1000' +
      '00' +
      '00' +
      '02000000' +
      '0800' +
      '0500' +
      'c6120003' +
      '1000' +
      '00' +
      '00' +
      '03000000' +
      '0800' +
      '0500' +
      'c6120103';
    t.equal(encodeMultipath(hops).toString('hex'), hex);
    t.same(decodeMultipath(Buffer.from(hex, 'hex')), hops);
  },
);

t.test(
  'IPv6 next hop with onlink flag: golden bytes both ways',
  { skip: !LE && 'vector is little-endian' },
  async (t) => {
    const hops = [{ gateway: '2001:db8::5', ifindex: 7, onlink: true }];
    const hex = '1c00' + '04' + '00' + '07000000' + '1400' + '0500' + '20010db8000000000000000000000005';
    t.equal(encodeMultipath(hops).toString('hex'), hex);
    t.same(decodeMultipath(Buffer.from(hex, 'hex')), hops);
  },
);

t.test('decode skips other attributes and gateway-less next hops', async (t) => {
  const withFlow = Buffer.concat([
    Buffer.from('1800000002000000', 'hex'), // len 24, ifindex 2
    Buffer.from('08000b00', 'hex'), // RTA_FLOW (11) = ...
    Buffer.from('01000000', 'hex'),
    Buffer.from('080005000a000001', 'hex'), // RTA_GATEWAY 10.0.0.1
  ]);
  const devOnly = Buffer.from('0800000004000000', 'hex'); // no attributes at all
  const hopsLE = decodeMultipath(Buffer.concat([withFlow, devOnly]));
  if (LE) t.same(hopsLE, [{ gateway: '10.0.0.1', ifindex: 2 }]);
  else t.equal(hopsLE.length, 0);
});

t.test('malformed input is rejected with MultipathError, never a crash', async (t) => {
  const bad = {
    'rtnexthop length 64 beyond the buffer': '4000000002000000',
    'rtnexthop length 4 below its header': '0400000002000000',
    'rtattr overrunning its rtnexthop': '1000000002000000ff000500c6120003',
  };
  for (const [what, hex] of Object.entries(bad)) {
    let caught: unknown;
    try {
      decodeMultipath(Buffer.from(hex, 'hex'));
    } catch (e) {
      caught = e;
    }
    t.type(caught, MultipathError, what);
  }
  t.same(decodeMultipath(Buffer.alloc(0)), []);
  t.same(
    decodeMultipath(Buffer.from('1000', 'hex')),
    [],
    'a trailing fragment shorter than a header is ignored',
  );
});

t.test('round trip of mixed next hops', async (t) => {
  const hops = [
    { gateway: '198.18.0.3', ifindex: 1 },
    { gateway: '198.18.0.4', ifindex: 70000, onlink: true },
    { gateway: '2001:db8:ffff::1', ifindex: 3 },
  ];
  t.same(decodeMultipath(encodeMultipath(hops)), hops);
});
