/**
 * Messages encoded by another implementation: raw lines from ExaBGP's `qa/encoding` suite
 * (Exa-Networks/exabgp, BSD-3-Clause, Copyright Exa Networks Limited). Decoding them checks our
 * reading of a third party's encoder, not only our own round trip.
 */
// The addresses inside these vectors (10.0.1.0/24, 192.168.1.254) are bytes of ExaBGP's published
// test messages, decoded and compared only: no traffic goes to them.
import t, { type Test } from 'tap';
import {
  decodeMessage,
  encodeMessage,
  isEndOfRib,
  type UpdateMessage,
} from '../../../src/bgp/message/index.js';
import { parsePrefix } from '../../../src/net/prefix.js';

/** An ExaBGP `N:raw:MARKER:LENGTH:TYPE:BODY` line (length and type sometimes joined). */
function raw(line: string): Buffer {
  return Buffer.from(line.replace(/^\d+:raw:/, '').replace(/:/g, ''), 'hex');
}
function update(line: string, fourOctetAs = true): UpdateMessage {
  const m = decodeMessage(raw(line), { fourOctetAs });
  if (m.type !== 2) throw new Error('not an UPDATE');
  return m;
}
function reencodes(t: Test, m: UpdateMessage, fourOctetAs = true): void {
  t.same(
    decodeMessage(encodeMessage(m, { fourOctetAs }), { fourOctetAs }),
    m,
    'our re-encoding decodes the same',
  );
}

t.test('conf-aggregator.msg: ATOMIC_AGGREGATE and 4-octet AGGREGATOR', async (t) => {
  const m = update(
    '1:raw:FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF:004802:0000002D4001010040020A02020000E1DD00001B1B400304C0A801FE40050400000064400600C00708000046E0DB76E1BD12010040',
  );
  t.same(m, {
    type: 2,
    withdrawn: [],
    attributes: {
      origin: 0,
      asPath: [{ type: 2, asns: [57821, 6939] }],
      nextHop: '192.168.1.254',
      localPref: 100,
      atomicAggregate: true,
      aggregator: { asn: 18144, address: '219.118.225.189' },
    },
    nlri: [parsePrefix('1.0.64.0/18')],
  });
  reencodes(t, m);
});

t.test('conf-largecommunity.ci: LARGE_COMMUNITY, /32, IPv4 End-of-RIB', async (t) => {
  const m = update(
    '1:raw:FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF:004C:02:0000003040010100400200400304C000020140050400000064C0201800000B62000000000000029A00000B6200000CF80000007B200808080A',
  );
  t.same(m.attributes, {
    origin: 0,
    asPath: [],
    nextHop: '192.0.2.1',
    localPref: 100,
    largeCommunities: [
      { globalAdmin: 2914, localData1: 0, localData2: 666 },
      { globalAdmin: 2914, localData1: 3320, localData2: 123 },
    ],
  });
  t.same(m.nlri, [parsePrefix('8.8.8.10/32')]);
  t.notOk(m.errors);
  reencodes(t, m);
  t.same(isEndOfRib(update('1:raw:FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF:0017:02:00000000')), { afi: 1, safi: 1 });
});

t.test('conf-ipv46routes6family.msg: IPv6 MP_REACH_NLRI last, End-of-RIB with Extended Length', async (t) => {
  const m = update(
    '1:raw:FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF:005902:0000004240010100400200400504000000C8C008087814000078147814800E26000201102A020B8000000002000000000000000100802A020B80000000010000000000000001',
  );
  t.same(m.attributes, {
    origin: 0,
    asPath: [],
    localPref: 200,
    communities: [0x78140000, 0x78147814],
    mpReach: { afi: 2, safi: 1, nextHop: '2a02:b80:0:2::1', nlri: [parsePrefix('2a02:b80:0:1::1/128')] },
  });
  t.notOk(m.errors);
  reencodes(t, m);
  const eor = update('1:raw:FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF:001E02:00000007900F0003000201');
  t.same(isEndOfRib(eor), { afi: 2, safi: 1 });
});

t.test('conf-no-asn4.ci: 2-octet AS_PATH to a peer without the 4-octet capability', async (t) => {
  const line =
    '1:raw:FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF:003402:0000001940010100400204020100644003040A00FFFE40050400000064180A0001';
  const m = update(line, false);
  t.same(m.attributes.asPath, [{ type: 2, asns: [100] }]);
  t.same(m.nlri, [parsePrefix('10.0.1.0/24')]);
  // Same attribute order as ours: byte-identical re-encoding.
  t.same(encodeMessage(m, { fourOctetAs: false }), raw(line));
});
