import t from 'tap';
import { BgpDecodeError, MessageReader } from '../../../src/bgp/message/index.js';
import { frame, hex, MARKER } from './helpers.js';

const stream = Buffer.concat([
  frame(4, ''),
  frame(3, '0602 03 627965'),
  frame(2, '0000 0000'),
  frame(5, '0001 00 01'),
  frame(2, Buffer.concat([hex('0000 0000'), Buffer.alloc(4000, 0x08)])),
  frame(4, ''),
]);
const expected = [19, 25, 23, 23, 4023, 19];

function lengths(bufs: Buffer[]): number[] {
  return bufs.map((b) => b.length);
}

t.test('one chunk holding several messages', async (t) => {
  const r = new MessageReader();
  const out = r.push(stream);
  t.same(lengths(out), expected);
  t.same(Buffer.concat(out), stream);
  t.equal(r.pending, 0);
});

t.test('every split point of the stream gives the same messages', async (t) => {
  for (let cut = 0; cut <= stream.length; cut++) {
    const r = new MessageReader();
    const out = [...r.push(stream.subarray(0, cut)), ...r.push(stream.subarray(cut))];
    if (!Buffer.concat(out).equals(stream) || out.length !== expected.length) {
      t.fail(`split at ${cut}`);
      return;
    }
  }
  t.pass('all split points');
});

t.test('one byte at a time', async (t) => {
  const r = new MessageReader();
  const out: Buffer[] = [];
  for (let i = 0; i < stream.length; i++) out.push(...r.push(stream.subarray(i, i + 1)));
  t.same(lengths(out), expected);
  t.same(Buffer.concat(out), stream);
});

t.test('a message assembled from chunks is a copy, not a view of reused memory', async (t) => {
  const r = new MessageReader();
  const ka = frame(4, '');
  t.same(r.push(ka.subarray(0, 10)), []);
  t.equal(r.pending, 10);
  const [first] = r.push(Buffer.concat([ka.subarray(10), ka.subarray(0, 5)]));
  t.same(first, ka);
  const [second] = r.push(ka.subarray(5));
  t.same(second, ka);
  t.same(first, ka, 'first message unchanged after the buffer was reused');
});

t.test('many small messages in chunks of odd sizes', async (t) => {
  const n = 50_000;
  const big = Buffer.concat(Array.from({ length: n }, () => frame(4, '')));
  const r = new MessageReader();
  let count = 0;
  for (let off = 0; off < big.length; off += 4093) count += r.push(big.subarray(off, off + 4093)).length;
  t.equal(count, n);
  t.equal(r.pending, 0);
});

t.test('a bad header throws BgpDecodeError', async (t) => {
  const r = new MessageReader();
  t.throws(() => r.push(hex(`${MARKER.replace('ff', '00')} 0013 04`)), BgpDecodeError);
  const r2 = new MessageReader();
  r2.push(hex(MARKER));
  try {
    r2.push(hex('0005 04'));
    t.fail('no error');
  } catch (e) {
    t.ok(e instanceof BgpDecodeError && e.code === 1 && e.subcode === 2, 'bad length across chunks');
  }
});
