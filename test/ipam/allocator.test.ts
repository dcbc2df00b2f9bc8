import t from 'tap';
import { ipamSchema } from '../../src/config/ipam.js';
import { AddressPool, HeldBlock } from '../../src/ipam/allocator.js';
import { Topology } from '../../src/ipam/topology.js';
import { parsePrefix } from '../../src/net/prefix.js';

function net(cidr: string, blockSize: number, extra: Record<string, unknown> = {}) {
  const cfg = ipamSchema.parse({ networks: [{ name: 'n', cidr, blockSize, ...extra }] });
  return Topology.build(cfg).networks[0]!;
}

t.test('a block never hands out an address twice across fill / free / refill cycles', async (t) => {
  const n = net('198.18.0.0/24', 28, { gateway: '198.18.0.1', reserved: ['198.18.0.4/31'] });
  const pool = new AddressPool(100);
  pool.addBlock(new HeldBlock(parsePrefix('198.18.0.0/28'), n));
  let now = 0;
  for (let cycle = 0; cycle < 5; cycle++) {
    const got: string[] = [];
    for (let i = 0; ; i++) {
      const a = pool.allocate(`o${cycle}-${i}`, 'n', now);
      if (!a) break;
      got.push(a.address);
    }
    t.equal(got.length, 12, `cycle ${cycle}: 16 minus .0 .1 .4 .5 and nothing else`);
    t.equal(new Set(got).size, got.length, `cycle ${cycle}: all distinct`);
    t.notOk(got.some((x) => ['198.18.0.0', '198.18.0.1', '198.18.0.4', '198.18.0.5'].includes(x)));
    for (let i = 0; i < got.length; i++) pool.release(`o${cycle}-${i}`, now);
    t.equal(pool.allocate('early', 'n', now + 99), undefined, 'all quarantined');
    now += 100;
    t.same(
      pool.expire(now).map((b) => b.text),
      ['198.18.0.0/28'],
      'block empty once quarantine ends',
    );
  }
});

t.test('IPv6 blocks: offsets land in the low bits', async (t) => {
  const n = net('2001:db8::/120', 124);
  const b = new HeldBlock(parsePrefix('2001:db8::10/124'), n);
  t.equal(b.address(5), '2001:db8::15');
  t.equal(b.podPrefixLength, 128);
  t.equal(b.capacity, 16, 'inner block: nothing reserved');
  const first = new HeldBlock(parsePrefix('2001:db8::/124'), n);
  t.equal(first.capacity, 15, 'range start reserved');
});

t.test('a block emptied by the lazy expiry inside allocate is reported too', async (t) => {
  const n = net('198.18.0.0/24', 29);
  const emptied: string[] = [];
  const pool = new AddressPool(10, (b) => emptied.push(b.text));
  pool.addBlock(new HeldBlock(parsePrefix('198.18.0.8/29'), n));
  pool.addBlock(new HeldBlock(parsePrefix('198.18.0.16/29'), n));
  for (let i = 0; i < 8; i++) pool.allocate(`a${i}`, 'n', 0); // fills .8/29
  pool.allocate('b', 'n', 0); // first of .16/29
  pool.release('b', 0);
  t.same(emptied, []);
  // No timer ran; the next allocation at t=10 expires b's address and empties .16/29.
  pool.release('a0', 10);
  t.equal(pool.allocate('c', 'n', 10)?.block.text, '198.18.0.16/29');
  t.same(emptied, ['198.18.0.16/29']);
});
