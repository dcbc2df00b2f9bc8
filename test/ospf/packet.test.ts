import t from 'tap';
import { LsType, PacketType } from '../../src/ospf/constants.js';
import { OspfDecodeError } from '../../src/ospf/ip.js';
import { decodeLsa, encodeLsa, type Lsa } from '../../src/ospf/lsa/lsa.js';
import { verifyAuth } from '../../src/ospf/packet/auth.js';
import { decodePacket, encodePacket, type OspfPacket } from '../../src/ospf/packet/packet.js';

function reasonOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return e instanceof OspfDecodeError ? e.reason : `other: ${String(e)}`;
  }
  return 'no error';
}

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// Golden vectors. gopacket layers/ospf_test.go and holo-ospf
// tests/packet/ospfv2.rs (HELLO1_MD5, HELLO1_HMAC_SHA256, DBDESC1, LSREQUEST1, LSUPDATE1, LSACK1).
const GOPACKET_HELLO =
  '0201 002c c0a8aa08 00000001 273b 0000 0000000000000000 ffffff00 000a 02 01 00000028 c0a8aa08 00000000';
const GOPACKET_DBD = '0202 0020 c0a8aa08 00000001 a052 0000 0000000000000000 05dc 02 07 4177a97e';
const HOLO_HELLO_BODY =
  '02010034 01010101 00000000 0000 0002 00000110 3245d014 ffffff00 0003 02 01 0000000c 0a000103 0a000102 02020202 03030303';
const HOLO_MD5 = `${HOLO_HELLO_BODY} 9dd5a80386ee7167441a37a90427fcc7`;
const HOLO_SHA256 = `${HOLO_HELLO_BODY.replace('00000110', '00000120')} 2639ac92a3cc7e92e1253aa259c9b572bfc28f0536a2cb0a4b46666a69626f04`;
const HOLO_DBD =
  '02020048 01010101 00000001 d89e 0000 0000000000000000 05dc 42 00 4eb88f2e ' +
  '0003 02 01 01010101 01010101 80000002 48d6 0030 0003 02 05 ac100100 01010101 80000001 fcff 0024';
const HOLO_LSR =
  '02030030 02020202 00000001 46ab 0000 0000000000000000 00000001 01010101 01010101 00000005 ac100100 01010101';
const HOLO_LSU =
  '02040078 02020202 00000001 40a1 0000 0000000000000000 00000003 ' +
  '0031 02 01 02020202 02020202 80000002 37f4 0024 0100 0001 0a000100 ffffff00 03 00 000a ' +
  '0031 02 03 02020202 02020202 80000001 d27a 001c ffffffff 00000000 ' +
  '0031 02 03 0a000200 02020202 80000001 fa44 001c ffffff00 0000000a';
const HOLO_LSACK =
  '02050054 01010101 00000001 a02e 0000 0000000000000000 ' +
  '0001 02 03 03030303 02020202 80000001 0936 001c 0001 02 03 0a000300 02020202 80000001 54df 001c ' +
  '0001 02 03 0a000400 02020202 80000001 49e9 001c';

t.test('gopacket Hello and DBD decode and re-encode byte for byte', async (t) => {
  for (const v of [GOPACKET_HELLO, GOPACKET_DBD]) {
    const bytes = hex(v);
    const { packet } = decodePacket(bytes);
    t.same(encodePacket(packet), bytes);
  }
  const { packet } = decodePacket(hex(GOPACKET_HELLO));
  t.same(packet, {
    routerId: '192.168.170.8',
    areaId: '0.0.0.1',
    body: {
      kind: 'hello',
      mask: '255.255.255.0',
      helloInterval: 10,
      options: 2,
      priority: 1,
      deadInterval: 40,
      dr: '192.168.170.8',
      bdr: '0.0.0.0',
      neighbors: [],
    },
  });
  const dbd = decodePacket(hex(GOPACKET_DBD)).packet.body;
  t.same(dbd, { kind: 'dd', mtu: 1500, options: 2, flags: 7, seq: 0x4177a97e, headers: [] });
});

t.test('holo DD, LSR, LSU, LSAck vectors both ways', async (t) => {
  for (const v of [HOLO_DBD, HOLO_LSR, HOLO_LSU, HOLO_LSACK]) {
    const bytes = hex(v);
    const { packet } = decodePacket(bytes);
    t.same(encodePacket(packet), bytes, `re-encode ${packet.body.kind}`);
  }
  const dd = decodePacket(hex(HOLO_DBD)).packet.body;
  t.equal(dd.kind, 'dd');
  if (dd.kind === 'dd') {
    t.equal(dd.headers.length, 2);
    t.match(dd.headers[0], {
      age: 3,
      type: 1,
      id: '1.1.1.1',
      seq: -0x7ffffffe,
      checksum: 0x48d6,
      length: 48,
    });
    t.match(dd.headers[1], { type: 5, id: '172.16.1.0', seq: -0x7fffffff });
  }
  const lsr = decodePacket(hex(HOLO_LSR)).packet.body;
  t.same(lsr, {
    kind: 'lsr',
    entries: [
      { type: 1, id: '1.1.1.1', advRouter: '1.1.1.1' },
      { type: 5, id: '172.16.1.0', advRouter: '1.1.1.1' },
    ],
  });
  const lsu = decodePacket(hex(HOLO_LSU)).packet.body;
  t.equal(lsu.kind, 'lsu');
  if (lsu.kind === 'lsu') {
    const lsas = lsu.lsas.map((b) => decodeLsa(b).lsa);
    t.same(lsas[0]!.body, {
      kind: 'router',
      flags: 1,
      links: [{ linkId: '10.0.1.0', linkData: '255.255.255.0', type: 3, metric: 10 }],
    });
    t.same(lsas[1]!.body, { kind: 'summary', mask: '255.255.255.255', metric: 0 });
    t.same(lsas[2]!.body, { kind: 'summary', mask: '255.255.255.0', metric: 10 });
    // Typed LSAs re-encode to the same bytes (length and Fletcher checksum recomputed).
    lsas.forEach((l, i) => {
      t.same(encodeLsa(l), lsu.lsas[i]);
    });
  }
});

t.test('MD5 and HMAC-SHA-256 vectors (holo, key HOLO, KeyID 1, seq 843436052)', async (t) => {
  const md5 = hex(HOLO_MD5);
  const sha = hex(HOLO_SHA256);
  const d1 = decodePacket(md5);
  t.equal(d1.header.auth.cryptoSeq, 843436052);
  t.equal(verifyAuth(md5, d1.header, { type: 'md5', keyId: 1, key: 'HOLO' }), null);
  t.equal(verifyAuth(md5, d1.header, { type: 'md5', keyId: 1, key: 'HOLA' }), 'auth-key');
  t.equal(verifyAuth(md5, d1.header, { type: 'md5', keyId: 2, key: 'HOLO' }), 'auth-key');
  t.equal(verifyAuth(md5, d1.header, { type: 'none' }), 'auth-type');
  t.same(encodePacket(d1.packet, { type: 'md5', keyId: 1, key: 'HOLO' }, 843436052), md5);
  const d2 = decodePacket(sha);
  t.equal(verifyAuth(sha, d2.header, { type: 'hmac-sha-256', keyId: 1, key: 'HOLO' }), null);
  t.same(encodePacket(d2.packet, { type: 'hmac-sha-256', keyId: 1, key: 'HOLO' }, 843436052), sha);
  // A digest cut short is refused, not a crash.
  const cut = sha.subarray(0, sha.length - 4);
  t.equal(
    verifyAuth(cut, decodePacket(cut).header, { type: 'hmac-sha-256', keyId: 1, key: 'HOLO' }),
    'auth-key',
  );
});

t.test('simple password and checksum verification', async (t) => {
  const p: OspfPacket = {
    routerId: '198.18.0.2',
    areaId: '0.0.0.0',
    body: { kind: 'lsr', entries: [{ type: 1, id: '198.18.0.1', advRouter: '198.18.0.1' }] },
  };
  const bytes = encodePacket(p, { type: 'simple', key: 'pw' });
  const d = decodePacket(bytes);
  t.equal(d.header.type, PacketType.LsRequest);
  t.equal(verifyAuth(bytes, d.header, { type: 'simple', key: 'pw' }), null);
  t.equal(verifyAuth(bytes, d.header, { type: 'simple', key: 'px' }), 'auth-key');
  const corrupt = Buffer.from(bytes);
  corrupt[30] = corrupt[30]! ^ 0x40;
  t.equal(verifyAuth(corrupt, decodePacket(corrupt).header, { type: 'simple', key: 'pw' }), 'bad-checksum');
});

t.test('bytes past the OSPF length are tolerated (LLS, padding)', async (t) => {
  const bytes = Buffer.concat([hex(GOPACKET_HELLO), hex('fff6 0003 0001 0004 00000001')]);
  const d = decodePacket(bytes);
  t.equal(d.packet.body.kind, 'hello');
  t.equal(verifyAuth(bytes, d.header, { type: 'none' }), null);
});

t.test('malformed packets throw OspfDecodeError with a reason, never anything else', async (t) => {
  const base = hex(HOLO_LSU);
  const cases: [string, Buffer][] = [
    ['short-packet', base.subarray(0, 10)],
    ['bad-version', Buffer.concat([Buffer.from([3]), base.subarray(1)])],
    ['bad-length', base.subarray(0, 100)],
  ];
  for (const [reason, b] of cases) {
    t.equal(
      reasonOf(() => decodePacket(b)),
      reason,
    );
  }
  const badType = Buffer.from(base);
  badType[1] = 9;
  t.equal(
    reasonOf(() => decodePacket(badType)),
    'bad-type',
  );
  // Fuzz: random truncations and byte flips only ever raise OspfDecodeError.
  for (let i = 0; i < 2000; i++) {
    const b = Buffer.from(i % 2 ? base : hex(HOLO_DBD));
    b[Math.floor(Math.random() * b.length)] = Math.floor(Math.random() * 256);
    const cut = b.subarray(0, Math.floor(Math.random() * (b.length + 1)));
    try {
      const d = decodePacket(cut);
      if (d.packet.body.kind === 'lsu') for (const l of d.packet.body.lsas) decodeLsa(l);
    } catch (e) {
      if (!(e instanceof OspfDecodeError)) {
        t.fail(`non-decode error ${String(e)} on ${cut.toString('hex')}`);
        return;
      }
    }
  }
  t.pass('fuzz ok');
});

t.test('LSA codecs: vectors from notes and round trips of every body', async (t) => {
  const router = hex(
    '0002 0201 c0a8aa03 c0a8aa03 80000001 3a9c 0030 0200 0002 c0a8aa00 ffffff00 0300000a c0a8aa00 ffffff00 0300000a',
  );
  const ext = hex('0003 0205 50d41000 c0a8aa02 80000001 2a49 0024 ffffffff 80000014 00000000 00000000');
  const r = decodeLsa(router).lsa;
  t.same(r.body, {
    kind: 'router',
    flags: 2,
    links: [
      { linkId: '192.168.170.0', linkData: '255.255.255.0', type: 3, metric: 10 },
      { linkId: '192.168.170.0', linkData: '255.255.255.0', type: 3, metric: 10 },
    ],
  });
  t.same(encodeLsa(r), router);
  const e = decodeLsa(ext).lsa;
  t.same(e.body, {
    kind: 'external',
    mask: '255.255.255.255',
    metricType: 2,
    metric: 20,
    forwardingAddress: '0.0.0.0',
    tag: 0,
  });
  t.same(encodeLsa(e), ext);
  const bad = Buffer.from(ext);
  bad[25] = 1;
  t.equal(
    reasonOf(() => decodeLsa(bad)),
    'lsa-checksum',
  );

  const header = {
    age: 1,
    options: 2,
    id: '198.18.0.0',
    advRouter: '198.18.0.2',
    seq: -0x7fffffff,
    checksum: 0,
    length: 0,
  };
  const samples: Lsa[] = [
    {
      header: { ...header, type: LsType.Network },
      body: { kind: 'network', mask: '255.255.255.0', routers: ['198.18.0.2', '198.18.0.1'] },
    },
    {
      header: { ...header, type: LsType.SummaryAsbr },
      body: { kind: 'summary', mask: '0.0.0.0', metric: 0xffffff },
    },
    {
      header: { ...header, type: LsType.AsExternal },
      body: {
        kind: 'external',
        mask: '255.255.0.0',
        metricType: 1,
        metric: 7,
        forwardingAddress: '198.18.0.9',
        tag: 0xfffffffe,
      },
    },
    { header: { ...header, type: 10 }, body: { kind: 'unknown', bytes: hex('00010004deadbeef') } },
    {
      header: { ...header, type: LsType.Router },
      body: {
        kind: 'router',
        flags: 2,
        links: [{ linkId: '198.18.0.1', linkData: '198.18.0.2', type: 1, metric: 10 }],
      },
    },
  ];
  for (const s of samples) {
    const bytes = encodeLsa(s);
    const back = decodeLsa(bytes).lsa;
    t.same(back.body, s.body, `round trip type ${s.header.type}`);
    t.equal(back.header.length, bytes.length);
  }
});
