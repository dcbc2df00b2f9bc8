import t from 'tap';
import {
  type AttributeErrorNote,
  decodeMessage,
  encodeMessage,
  endOfRib,
  isEndOfRib,
  type UpdateMessage,
} from '../../../src/bgp/message/index.js';
import { parsePrefix } from '../../../src/net/prefix.js';
import { frame, hex, MARKER, throwsBgp } from './helpers.js';

const ctx4 = { fourOctetAs: true };
const ctx2 = { fourOctetAs: false };
const p = (s: string) => parsePrefix(s);

function decodeUpdate(bytes: Buffer, ctx = ctx4): UpdateMessage {
  const m = decodeMessage(bytes, ctx);
  if (m.type !== 2) throw new Error('not an UPDATE');
  return m;
}

/** An UPDATE body (hex) from withdrawn, attributes and NLRI hex, lengths computed. */
function update(withdrawn: string, attrs: string, nlri: string): Buffer {
  const w = hex(withdrawn);
  const a = hex(attrs);
  const head = Buffer.alloc(2);
  head.writeUInt16BE(w.length);
  const al = Buffer.alloc(2);
  al.writeUInt16BE(a.length);
  return frame(2, Buffer.concat([head, w, al, a, hex(nlri)]));
}

const IPV4_HEX = `
  ${MARKER} 0050 02
  0004 18 c61214                           # withdrawn 198.18.20.0/24
  002d                                     # 45 bytes of attributes
  40 01 01 00                              # ORIGIN IGP
  40 02 0a 02 02 0000fde9 0000fdea         # AS_PATH SEQUENCE 65001 65002 (4-octet)
  40 03 04 c6120001                        # NEXT_HOP 198.18.0.1
  80 04 04 00000000                        # MED 0
  40 05 04 00000064                        # LOCAL_PREF 100
  c0 08 04 fde90064                        # COMMUNITIES 65001:100
  18 c6120a 11 c61280                      # NLRI 198.18.10.0/24 198.18.128.0/17
`;
const IPV4: UpdateMessage = {
  type: 2,
  withdrawn: [p('198.18.20.0/24')],
  attributes: {
    origin: 0,
    asPath: [{ type: 2, asns: [65001, 65002] }],
    nextHop: '198.18.0.1',
    med: 0,
    localPref: 100,
    communities: [65001 * 65536 + 100],
  },
  nlri: [p('198.18.10.0/24'), p('198.18.128.0/17')],
};

t.test('IPv4 UPDATE both ways', async (t) => {
  t.equal(encodeMessage(IPV4, ctx4).toString('hex'), hex(IPV4_HEX).toString('hex'));
  t.same(decodeUpdate(hex(IPV4_HEX)), IPV4);
  t.notOk(decodeUpdate(hex(IPV4_HEX)).errors, 'no errors');
});

t.test('host bits in NLRI are cleared, /0 and /32 work', async (t) => {
  const m = decodeUpdate(update('', '40010100 400200 400304c6120001', '17 c61201 00 20 c6120101'));
  t.same(m.nlri, [p('198.18.0.0/23'), p('0.0.0.0/0'), p('198.18.1.1/32')]);
});

const IPV6_HEX = `
  ${MARKER} 004d 02
  0000 0036
  80 0e 2c 0002 01 20                      # MP_REACH_NLRI IPv6 unicast, next hop length 32
     20010db8000000000000000000000001      # 2001:db8::1
     fe800000000000000000000000000001      # fe80::1
     00                                    # reserved
     30 20010db80100                       # 2001:db8:100::/48
  40 01 01 00                              # ORIGIN IGP
  40 02 00                                 # AS_PATH empty (iBGP)
`;
const IPV6: UpdateMessage = {
  type: 2,
  withdrawn: [],
  attributes: {
    origin: 0,
    asPath: [],
    mpReach: {
      afi: 2,
      safi: 1,
      nextHop: '2001:db8::1',
      linkLocalNextHop: 'fe80::1',
      nlri: [p('2001:db8:100::/48')],
    },
  },
  nlri: [],
};

t.test('IPv6 MP_REACH_NLRI with global + link-local next hop (RFC 2545)', async (t) => {
  t.equal(encodeMessage(IPV6, ctx4).toString('hex'), hex(IPV6_HEX).toString('hex'));
  t.same(decodeUpdate(hex(IPV6_HEX)), IPV6);
  const globalOnly = update(
    '',
    '80 0e 1c 0002 01 10 20010db8000000000000000000000001 00 30 20010db80100 40010100 400200',
    '',
  );
  const m = decodeUpdate(globalOnly);
  t.same(m.attributes.mpReach, { afi: 2, safi: 1, nextHop: '2001:db8::1', nlri: [p('2001:db8:100::/48')] });
  t.same(encodeMessage(m, ctx4), globalOnly);
});

t.test('MP_UNREACH_NLRI and IPv4 in MP_REACH_NLRI', async (t) => {
  const withdraw = hex(`${MARKER} 0024 02 0000 000d 80 0f 0a 0002 01 30 20010db80100`);
  const m = decodeUpdate(withdraw);
  t.same(m, {
    type: 2,
    withdrawn: [],
    attributes: { mpUnreach: { afi: 2, safi: 1, withdrawn: [p('2001:db8:100::/48')] } },
    nlri: [],
  });
  t.same(encodeMessage(m, ctx4), withdraw);
  const v4 = update('', '80 0e 0d 0001 01 04 c6120001 00 18 c61205 40010100 400200', '');
  const m4 = decodeUpdate(v4);
  t.same(m4.attributes.mpReach, { afi: 1, safi: 1, nextHop: '198.18.0.1', nlri: [p('198.18.5.0/24')] });
  t.same(encodeMessage(m4, ctx4), v4);
  // RFC 8950: IPv4 NLRI with an IPv6 next hop.
  const v4v6 = update(
    '',
    '80 0e 19 0001 01 10 20010db8000000000000000000000001 00 18 c61205 40010100 400200',
    '',
  );
  t.equal(decodeUpdate(v4v6).attributes.mpReach?.nextHop, '2001:db8::1');
  t.same(encodeMessage(decodeUpdate(v4v6), ctx4), v4v6);
});

t.test('other attributes: ATOMIC_AGGREGATE, AGGREGATOR, LARGE_COMMUNITY', async (t) => {
  const bytes = update(
    '',
    `40 01 01 02  40 02 0a 01 02 0000fde9 0000fdea  40 03 04 c6120001
     40 06 00  c0 07 08 0000fde9 c6120002  c0 20 0c 0000fde9 00000001 00000002`,
    '18 c61207',
  );
  const m = decodeUpdate(bytes);
  t.same(m.attributes, {
    origin: 2,
    asPath: [{ type: 1, asns: [65001, 65002] }],
    nextHop: '198.18.0.1',
    atomicAggregate: true,
    aggregator: { asn: 65001, address: '198.18.0.2' },
    largeCommunities: [{ globalAdmin: 65001, localData1: 1, localData2: 2 }],
  });
  t.same(encodeMessage(m, ctx4), bytes);
  // The 2-octet AGGREGATOR on a session without the 4-octet capability.
  const two = update('', '40010100 400200 400304c6120001 c0 07 06 fde9 c6120002', '18 c61207');
  const m2 = decodeUpdate(two, ctx2);
  t.same(m2.attributes.aggregator, { asn: 65001, address: '198.18.0.2' });
  t.same(encodeMessage(m2, ctx2), two);
});

t.test('unknown attributes: optional transitive passed with Partial, non-transitive dropped', async (t) => {
  const bytes = update('', '40010100 400200 400304c6120001 c0 63 02 abcd 80 62 01 ff', '18 c61207');
  const m = decodeUpdate(bytes);
  t.same(m.attributes.unknown, [{ flags: 0xc0, type: 0x63, value: hex('abcd') }]);
  t.notOk(m.errors);
  const out = encodeMessage(m, ctx4);
  t.equal(
    out.toString('hex'),
    update('', '40010100 400200 400304c6120001 e0 63 02 abcd', '18 c61207').toString('hex'),
    'Partial set, non-transitive gone',
  );
  // Ordered by type code among the known ones (RFC 4271 5).
  const mixed = encodeMessage(
    {
      ...m,
      attributes: { ...m.attributes, unknown: [{ flags: 0xc0, type: 16, value: hex('0002fde900000064') }] },
    },
    ctx4,
  );
  t.equal(
    mixed.toString('hex'),
    update('', '40010100 400200 400304c6120001 e0 10 08 0002fde900000064', '18 c61207').toString('hex'),
  );
  // Unknown well-known: 3/2 with the attribute as data.
  throwsBgp(t, () => decodeUpdate(update('', '40010100 400200 40 61 02 abcd', '')), 3, 2, '40 61 02 abcd');
  t.throws(() =>
    encodeMessage({ ...m, attributes: { unknown: [{ flags: 0x40, type: 1, value: hex('00') }] } }, ctx4),
  );
});

t.test('Extended Length only for values over 255 bytes', async (t) => {
  const communities = Array.from({ length: 70 }, (_, i) => i + 1);
  const m: UpdateMessage = {
    type: 2,
    withdrawn: [],
    attributes: { origin: 0, asPath: [], nextHop: '198.18.0.1', communities },
    nlri: [p('198.18.7.0/24')],
  };
  const bytes = encodeMessage(m, ctx4);
  const at = bytes.indexOf(hex('d0 08 0118'));
  t.ok(at > 0, 'COMMUNITIES with flags 0xd0 and a 2-octet length 280');
  t.same(decodeUpdate(bytes), m);
  const few = encodeMessage(
    { ...m, attributes: { ...m.attributes, communities: communities.slice(0, 63) } },
    ctx4,
  );
  t.ok(few.indexOf(hex('c0 08 fc')) > 0, '252 bytes: one-octet length');
  // Extended Length received on a short value decodes; re-encoding drops it.
  const ext = update('', '50 01 0001 00 400200 400304c6120001', '18 c61207');
  const d = decodeUpdate(ext);
  t.equal(d.attributes.origin, 0);
  t.notOk(d.errors);
  t.same(encodeMessage(d, ctx4), update('', '40010100 400200 400304c6120001', '18 c61207'));
});

t.test('End-of-RIB (RFC 4724 2)', async (t) => {
  const v4 = hex(`${MARKER} 0017 02 0000 0000`);
  t.same(encodeMessage(endOfRib(1, 1), ctx4), v4);
  t.same(isEndOfRib(decodeUpdate(v4)), { afi: 1, safi: 1 });
  const v6 = hex(`${MARKER} 001d 02 0000 0006 80 0f 03 0002 01`);
  t.same(encodeMessage(endOfRib(2, 1), ctx4), v6);
  t.same(isEndOfRib(decodeUpdate(v6)), { afi: 2, safi: 1 });
  t.equal(isEndOfRib(IPV4), undefined);
  t.equal(isEndOfRib(IPV6), undefined);
  t.equal(isEndOfRib(decodeUpdate(update('', '80 0f 0a 0002 01 30 20010db80100', ''))), undefined);
  t.equal(isEndOfRib(decodeUpdate(update('', '80 0f 03 0002 01 40010100', ''))), undefined);
  t.equal(isEndOfRib({ type: 2, withdrawn: [p('198.18.0.0/24')], attributes: {}, nlri: [] }), undefined);
});

t.test('encode refuses impossible messages', async (t) => {
  t.throws(() => encodeMessage({ ...IPV4, nlri: [p('2001:db8::/32')] }, ctx4), /IPv6 prefix/);
  const many = Array.from({ length: 1100 }, (_, i) => p(`198.${18 + (i >> 8)}.${i & 255}.0/24`));
  t.throws(() => encodeMessage({ ...IPV4, nlri: many }, ctx4), /4096/);
  t.throws(() =>
    encodeMessage({ ...IPV4, attributes: { ...IPV4.attributes, nextHop: '2001:db8::1' } }, ctx4),
  );
  t.throws(() => encodeMessage({ ...IPV4, attributes: { ...IPV4.attributes, med: -1 } }, ctx4));
  t.throws(
    () =>
      encodeMessage(
        {
          ...IPV6,
          attributes: { ...IPV6.attributes, mpReach: { ...IPV6.attributes.mpReach!, nextHop: '198.18.0.1' } },
        },
        ctx4,
      ),
    /next hop/,
  );
  t.throws(
    () => encodeMessage({ ...IPV6, attributes: { mpUnreach: { afi: 3, safi: 1, withdrawn: [] } } }, ctx4),
    /not supported/,
  );
  const frozen = structuredClone(IPV4);
  encodeMessage(IPV4, ctx2);
  t.same(IPV4, frozen, 'input not mutated');
});

// ===== Errors =====

const GOOD = '40010100 400200 400304c6120001';
const NLRI = '18 c61207';

function notes(m: UpdateMessage): Pick<AttributeErrorNote, 'action' | 'attrType' | 'subcode'>[] {
  return (m.errors ?? []).map(({ action, attrType, subcode }) => ({ action, attrType, subcode }));
}
const W = 'treat-as-withdraw';
const D = 'attribute-discard';

t.test('session-reset errors throw the RFC NOTIFICATION', async (t) => {
  throwsBgp(t, () => decodeUpdate(frame(2, '0005 18c61207 0000')), 3, 1);
  throwsBgp(t, () => decodeUpdate(frame(2, '0000 0009 40010100')), 3, 1);
  throwsBgp(t, () => decodeUpdate(frame(2, '0000')), 1, 2, '0015');
  // RFC 7606 5.3: bad prefixes in the withdrawn routes or NLRI fields.
  throwsBgp(t, () => decodeUpdate(update('21 c6120700 00', '', '')), 3, 10);
  throwsBgp(t, () => decodeUpdate(update('18 c612', '', '')), 3, 10);
  throwsBgp(t, () => decodeUpdate(update('', GOOD, '21 c612070000')), 3, 10);
  throwsBgp(t, () => decodeUpdate(update('', GOOD, '18 c61207 18 c6')), 3, 10);
  // RFC 7606 3 (g): MP_REACH_NLRI / MP_UNREACH_NLRI twice.
  const reach = '80 0e 0d 0001 01 04 c6120001 00 18 c61205';
  throwsBgp(t, () => decodeUpdate(update('', `${reach} ${reach} ${GOOD}`, '')), 3, 1);
  throwsBgp(t, () => decodeUpdate(update('', '80 0f 03 0002 01 80 0f 03 0002 01', '')), 3, 1);
  // RFC 4760 7: unusable MP attributes: Optional Attribute Error with the attribute as data.
  throwsBgp(t, () => decodeUpdate(update('', '80 0e 03 000201', '')), 3, 9, '80 0e 03 000201');
  throwsBgp(t, () => decodeUpdate(update('', '80 0e 0a 0002 01 05 0102030405 00', '')), 3, 9);
  throwsBgp(t, () => decodeUpdate(update('', '80 0e 06 0002 01 10 0000', '')), 3, 9);
  throwsBgp(t, () => decodeUpdate(update('', '80 0e 0b 0002 01 04 c6120001 00 18 c61205', '')), 3, 9);
  throwsBgp(t, () => decodeUpdate(update('', `80 0e 0b 0001 01 04 c6120001 00 21 c61205 ${GOOD}`, '')), 3, 9);
  throwsBgp(t, () => decodeUpdate(update('', '80 0f 02 0002', '')), 3, 9);
  throwsBgp(t, () => decodeUpdate(update('', '80 0f 05 0002 01 81 20', '')), 3, 9);
  // Attributes overrun with no NLRI anywhere in sight: cannot withdraw, so reset.
  throwsBgp(t, () => decodeUpdate(update('', '40 01 05 00', '')), 3, 1);
});

t.test('RFC 7606 treat-as-withdraw and attribute-discard', async (t) => {
  const cases: [string, string, ReturnType<typeof notes>][] = [
    ['ORIGIN length 2', '40 01 02 0000 400200 400304c6120001', [{ action: W, attrType: 1, subcode: 5 }]],
    ['ORIGIN value 3', '40 01 01 03 400200 400304c6120001', [{ action: W, attrType: 1, subcode: 6 }]],
    ['ORIGIN flags', 'c0 01 01 00 400200 400304c6120001', [{ action: W, attrType: 1, subcode: 4 }]],
    [
      'AS_PATH bad segment type',
      '40010100 40 02 04 05 01 fde9 400304c6120001',
      [{ action: W, attrType: 2, subcode: 11 }],
    ],
    [
      'AS_PATH zero-length segment',
      '40010100 40 02 02 02 00 400304c6120001',
      [{ action: W, attrType: 2, subcode: 11 }],
    ],
    [
      'AS_PATH segment overrun',
      '40010100 40 02 06 02 02 0000fde9 400304c6120001',
      [{ action: W, attrType: 2, subcode: 11 }],
    ],
    [
      'AS_PATH trailing octet',
      '40010100 40 02 07 02 01 0000fde9 02 400304c6120001',
      [{ action: W, attrType: 2, subcode: 11 }],
    ],
    [
      'AS_PATH with AS 0 (RFC 7607)',
      '40010100 40 02 06 02 01 00000000 400304c6120001',
      [{ action: W, attrType: 2, subcode: 11 }],
    ],
    ['NEXT_HOP length 5', '40010100 400200 40 03 05 c612000100', [{ action: W, attrType: 3, subcode: 5 }]],
    ['NEXT_HOP 0.0.0.0', '40010100 400200 40 03 04 00000000', [{ action: W, attrType: 3, subcode: 8 }]],
    ['NEXT_HOP multicast', '40010100 400200 40 03 04 e0000001', [{ action: W, attrType: 3, subcode: 8 }]],
    ['MED length 3', `${GOOD} 80 04 03 000000`, [{ action: W, attrType: 4, subcode: 5 }]],
    ['MED flags', `${GOOD} 40 04 04 00000000`, [{ action: W, attrType: 4, subcode: 4 }]],
    ['LOCAL_PREF length 2', `${GOOD} 40 05 02 0064`, [{ action: W, attrType: 5, subcode: 5 }]],
    ['ATOMIC_AGGREGATE length 1', `${GOOD} 40 06 01 00`, [{ action: D, attrType: 6, subcode: 5 }]],
    [
      'AGGREGATOR length 6 on a 4-octet session',
      `${GOOD} c0 07 06 fde9 c6120002`,
      [{ action: D, attrType: 7, subcode: 5 }],
    ],
    ['AGGREGATOR AS 0', `${GOOD} c0 07 08 00000000 c6120002`, [{ action: D, attrType: 7, subcode: 9 }]],
    ['COMMUNITIES length 0', `${GOOD} c0 08 00`, [{ action: W, attrType: 8, subcode: 9 }]],
    ['COMMUNITIES length 5', `${GOOD} c0 08 05 0000000000`, [{ action: W, attrType: 8, subcode: 9 }]],
    [
      'LARGE_COMMUNITY length 8',
      `${GOOD} c0 20 08 0000000000000000`,
      [{ action: W, attrType: 32, subcode: 9 }],
    ],
    [
      'AS4_PATH between 4-octet speakers',
      `${GOOD} c0 11 06 0201 0000fde9`,
      [{ action: D, attrType: 17, subcode: 9 }],
    ],
    [
      'AS4_AGGREGATOR between 4-octet speakers',
      `${GOOD} c0 12 08 0000fde9 c6120002`,
      [{ action: D, attrType: 18, subcode: 9 }],
    ],
    ['repeated ORIGIN', `${GOOD} 40 01 01 02`, [{ action: D, attrType: 1, subcode: 1 }]],
    ['missing ORIGIN', '400200 400304c6120001', [{ action: W, attrType: 1, subcode: 3 }]],
    ['missing AS_PATH', '40010100 400304c6120001', [{ action: W, attrType: 2, subcode: 3 }]],
    ['missing NEXT_HOP', '40010100 400200', [{ action: W, attrType: 3, subcode: 3 }]],
    [
      'no attributes at all',
      '',
      [
        { action: W, attrType: 1, subcode: 3 },
        { action: W, attrType: 2, subcode: 3 },
        { action: W, attrType: 3, subcode: 3 },
      ],
    ],
    ['attribute overruns the list', `${GOOD} c0 08 08 00000001`, [{ action: W, attrType: 0, subcode: 1 }]],
    ['two octets left over', `${GOOD} c008`, [{ action: W, attrType: 0, subcode: 1 }]],
    ['extended length header cut', `${GOOD} d00800`, [{ action: W, attrType: 0, subcode: 1 }]],
    [
      'unsupported MP family discarded',
      `${GOOD} 80 0e 0a 0019 41 04 c6120001 00 00`,
      [{ action: D, attrType: 14, subcode: 9 }],
    ],
  ];
  for (const [name, attrs, expected] of cases) {
    const m = decodeUpdate(update('', attrs, NLRI));
    t.same(notes(m), expected, name);
    t.same(m.nlri, [p('198.18.7.0/24')], `${name}: NLRI still decoded`);
  }
  // The first ORIGIN is the one kept.
  t.equal(decodeUpdate(update('', `${GOOD} 40 01 01 02`, NLRI)).attributes.origin, 0);
  // Discarded attributes are absent from the model.
  t.equal(decodeUpdate(update('', `${GOOD} 40 06 01 00`, NLRI)).attributes.atomicAggregate, undefined);
});

t.test('RFC 4760 / RFC 7606 context rules', async (t) => {
  // MP_REACH only: NEXT_HOP not required; ORIGIN and AS_PATH are.
  const mp = '80 0e 0d 0001 01 04 c6120001 00 18 c61205';
  t.same(notes(decodeUpdate(update('', `${mp} 40010100 400200`, ''))), []);
  t.same(notes(decodeUpdate(update('', mp, ''))), [
    { action: W, attrType: 1, subcode: 3 },
    { action: W, attrType: 2, subcode: 3 },
  ]);
  // Withdrawals only: nothing is mandatory.
  t.same(notes(decodeUpdate(update('18 c61207', '', ''))), []);
  t.same(notes(decodeUpdate(update('', '80 0f 03 0002 01', ''))), []);
  // A bad NEXT_HOP that no NLRI uses is discarded, not a withdraw.
  t.same(notes(decodeUpdate(update('', `${mp} 40010100 400200 40 03 04 00000000`, ''))), [
    { action: D, attrType: 3, subcode: 8 },
  ]);
  // Flags error on MP_REACH_NLRI: still parsed, so its NLRI can be withdrawn.
  const flagged = decodeUpdate(update('', `c0 0e 0d 0001 01 04 c6120001 00 18 c61205 40010100 400200`, ''));
  t.same(notes(flagged), [{ action: W, attrType: 14, subcode: 4 }]);
  t.same(flagged.attributes.mpReach?.nlri, [p('198.18.5.0/24')]);
  // Overrun when withdrawn routes exist: treat-as-withdraw, not a reset.
  t.same(notes(decodeUpdate(update('18 c61207', '40 01 05 00', ''))), [
    { action: W, attrType: 0, subcode: 1 },
  ]);
  // Overrun after an MP attribute was read: treat-as-withdraw.
  t.same(notes(decodeUpdate(update('', `${mp} 40 01 05 00`, ''))), [{ action: W, attrType: 0, subcode: 1 }]);
});
