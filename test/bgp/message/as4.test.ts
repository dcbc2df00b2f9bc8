import t from 'tap';
import { decodeMessage, encodeMessage, type UpdateMessage } from '../../../src/bgp/message/index.js';
import { parsePrefix } from '../../../src/net/prefix.js';
import { frame, hex } from './helpers.js';

const ctx2 = { fourOctetAs: false };
const ctx4 = { fourOctetAs: true };

function update(attrs: string): Buffer {
  const a = hex(`40010100 400304c6120001 ${attrs}`);
  const al = Buffer.alloc(2);
  al.writeUInt16BE(a.length);
  return frame(2, Buffer.concat([hex('0000'), al, a, hex('18 c61207')]));
}
function decode(bytes: Buffer, ctx = ctx2): UpdateMessage {
  return decodeMessage(bytes, ctx) as UpdateMessage;
}

t.test('RFC 6793 4.2.3: AS_PATH + AS4_PATH merge', async (t) => {
  // An OLD speaker 65010 prepended itself to a path that had two 4-octet ASNs.
  const m = decode(update('40 02 0a 02 04 fdf2 5ba0 5ba0 fde9   c0 11 0e 02 03 fa56ea00 fa56ea01 0000fde9'));
  t.same(m.attributes.asPath, [{ type: 2, asns: [65010, 4200000000, 4200000001, 65001] }]);
  t.notOk(m.errors);

  // Equal lengths: AS4_PATH is the path.
  const eq = decode(update('40 02 06 02 02 5ba0 fde9   c0 11 0a 02 02 fa56ea00 0000fde9'));
  t.same(eq.attributes.asPath, [{ type: 2, asns: [4200000000, 65001] }]);

  // AS4_PATH longer than AS_PATH: ignored.
  const longer = decode(update('40 02 04 02 01 5ba0   c0 11 0a 02 02 fa56ea00 0000fde9'));
  t.same(longer.attributes.asPath, [{ type: 2, asns: [23456] }]);

  // AS_SET counts as one.
  const set = decode(
    update('40 02 0c 02 02 fdf2 5ba0 01 02 5ba0 fdea   c0 11 10 02 01 fa56ea00 01 02 fa56ea01 0000fdea'),
  );
  t.notOk(set.errors);
  t.same(set.attributes.asPath, [
    { type: 2, asns: [65010, 4200000000] },
    { type: 1, asns: [4200000001, 65002] },
  ]);

  // Leading confederation segments stay; AS4_PATH never carries them (RFC 6793 6).
  const confed = decode(update('40 02 0a 03 01 fe4c 02 02 5ba0 fde9   c0 11 0a 02 02 fa56ea00 0000fde9'));
  t.same(confed.attributes.asPath, [
    { type: 3, asns: [65100] },
    { type: 2, asns: [4200000000, 65001] },
  ]);
  const confedIn4 = decode(
    update('40 02 06 02 02 5ba0 fde9   c0 11 10 03 01 0000fe4c 02 02 fa56ea00 0000fde9'),
  );
  t.same(
    confedIn4.attributes.asPath,
    [{ type: 2, asns: [4200000000, 65001] }],
    'confed segments in AS4_PATH dropped',
  );
});

t.test('RFC 6793 4.2.3: AGGREGATOR decides whether AS4 attributes count', async (t) => {
  const path = '40 02 06 02 02 5ba0 fde9   c0 11 0a 02 02 fa56ea00 0000fde9';
  // AGGREGATOR from an OLD speaker (not AS_TRANS): AS4_PATH and AS4_AGGREGATOR are ignored.
  const old = decode(update(`${path} c0 07 06 fdf2 c6120009 c0 12 08 fa56ea05 c6120005`));
  t.same(old.attributes.asPath, [{ type: 2, asns: [23456, 65001] }]);
  t.same(old.attributes.aggregator, { asn: 65010, address: '198.18.0.9' });
  // AGGREGATOR is AS_TRANS: AS4_AGGREGATOR gives the real aggregator, AS4_PATH is merged.
  const ok = decode(update(`${path} c0 07 06 5ba0 c6120005 c0 12 08 fa56ea05 c6120005`));
  t.same(ok.attributes.aggregator, { asn: 4200000005, address: '198.18.0.5' });
  t.same(ok.attributes.asPath, [{ type: 2, asns: [4200000000, 65001] }]);
});

t.test('malformed AS4 attributes are discarded (RFC 6793 6, RFC 7606)', async (t) => {
  const bad = decode(update('40 02 06 02 02 5ba0 fde9   c0 11 05 02 02 fa56ea'));
  t.same(bad.attributes.asPath, [{ type: 2, asns: [23456, 65001] }]);
  t.same(
    bad.errors?.map((e) => [e.action, e.attrType]),
    [['attribute-discard', 17]],
  );
  const badAgg = decode(update('40 02 04 02 01 fde9  c0 07 06 5ba0 c6120005 c0 12 06 fa56 c6120005'));
  t.same(badAgg.attributes.aggregator, { asn: 23456, address: '198.18.0.5' });
  t.same(
    badAgg.errors?.map((e) => [e.action, e.attrType]),
    [['attribute-discard', 18]],
  );
});

const NEW_PATH: UpdateMessage = {
  type: 2,
  withdrawn: [],
  attributes: {
    origin: 0,
    asPath: [
      { type: 3, asns: [65100] },
      { type: 2, asns: [4200000000, 65001] },
    ],
    nextHop: '198.18.0.1',
    aggregator: { asn: 4200000005, address: '198.18.0.5' },
  },
  nlri: [parsePrefix('198.18.7.0/24')],
};

t.test('RFC 6793 4.2.2: encoding for a 2-octet peer', async (t) => {
  const bytes = encodeMessage(NEW_PATH, ctx2);
  const expected = frame(
    2,
    `0000 0039
     40 01 01 00
     40 02 0a 03 01 fe4c 02 02 5ba0 fde9          # AS_PATH with AS_TRANS
     40 03 04 c6120001
     c0 07 06 5ba0 c6120005                       # AGGREGATOR AS_TRANS
     c0 11 0a 02 02 fa56ea00 0000fde9             # AS4_PATH without the confed segment
     c0 12 08 fa56ea05 c6120005                   # AS4_AGGREGATOR
     18 c61207`,
  );
  t.equal(bytes.toString('hex'), expected.toString('hex'));
  t.same(decode(bytes, ctx2), NEW_PATH);
  // The same message to a 4-octet peer has neither AS4 attribute.
  const four = encodeMessage(NEW_PATH, ctx4);
  t.equal(
    four.toString('hex'),
    frame(
      2,
      `0000 0029 40010100 40 02 10 03 01 0000fe4c 02 02 fa56ea00 0000fde9 400304c6120001
       c0 07 08 fa56ea05 c6120005 18 c61207`,
    ).toString('hex'),
  );
  t.same(decode(four, ctx4), NEW_PATH);
  // Only 2-octet ASNs: no AS4_PATH (RFC 6793 4.2.2 exception).
  const small = encodeMessage(
    { ...NEW_PATH, attributes: { origin: 0, asPath: [{ type: 2, asns: [65001] }] } },
    ctx2,
  );
  t.equal(small.indexOf(hex('c0 11')), -1);
});

t.test('long segments are split at 255 ASNs', async (t) => {
  const asns = Array.from({ length: 300 }, (_, i) => 64512 + (i % 100));
  const m: UpdateMessage = { ...NEW_PATH, attributes: { origin: 0, asPath: [{ type: 2, asns }] } };
  const d = decode(encodeMessage(m, ctx4), ctx4);
  t.same(d.attributes.asPath, [
    { type: 2, asns: asns.slice(0, 255) },
    { type: 2, asns: asns.slice(255) },
  ]);
});
