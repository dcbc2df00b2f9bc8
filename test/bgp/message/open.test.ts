import t from 'tap';
import {
  AS_TRANS,
  type Capability,
  decodeMessage,
  encodeMessage,
  type OpenMessage,
  openMyAs,
  openPeerAs,
} from '../../../src/bgp/message/index.js';
import { frame, hex, MARKER, throwsBgp } from './helpers.js';

const ctx = { fourOctetAs: false };

/** An OPEN as FRR 8.4 sends it: one capability per optional parameter, unknown caps included. */
const FRR_OPEN = hex(`
  ${MARKER} 005e 01
  04 fde9 00b4 c6120002        # version 4, AS 65001, hold 180, id 198.18.0.2
  41                           # 65 bytes of optional parameters
  02 06 01 04 0001 00 01       # MP IPv4 unicast
  02 06 01 04 0002 00 01       # MP IPv6 unicast
  02 02 80 00                  # route refresh (old Cisco code 128)
  02 02 02 00                  # route refresh
  02 06 41 04 0000fde9         # 4-octet AS 65001
  02 06 45 04 0001 01 01       # ADD-PATH IPv4 unicast receive
  02 02 46 00                  # enhanced route refresh
  02 09 49 07 05 6c65616631 00 # FQDN "leaf1"
  02 04 40 02 4078             # graceful restart, N bit, 120 s, no families
  02 02 47 00                  # long-lived graceful restart
`);

t.test('decodes an FRR-style OPEN', async (t) => {
  const m = decodeMessage(FRR_OPEN, ctx) as OpenMessage;
  t.equal(m.type, 1);
  t.equal(m.version, 4);
  t.equal(m.myAs, 65001);
  t.equal(m.holdTime, 180);
  t.equal(m.bgpId, '198.18.0.2');
  t.same(m.capabilities, [
    { code: 1, afi: 1, safi: 1 },
    { code: 1, afi: 2, safi: 1 },
    { code: 128, value: Buffer.alloc(0), unknown: true },
    { code: 2 },
    { code: 65, asn: 65001 },
    { code: 69, value: hex('0001 01 01'), unknown: true },
    { code: 70, value: Buffer.alloc(0), unknown: true },
    { code: 73, value: hex('05 6c65616631 00'), unknown: true },
    { code: 64, restarting: false, notification: true, restartTime: 120, families: [] },
    { code: 71, value: Buffer.alloc(0), unknown: true },
  ]);
  t.equal(openPeerAs(m), 65001);
  // Re-encoding packs all capabilities in one parameter; the model survives the round trip.
  const again = encodeMessage(m, ctx);
  t.equal(again.length, FRR_OPEN.length - 18, 'nine parameter headers fewer');
  t.same(decodeMessage(again, ctx), m);
});

t.test('decodes a GoBGP-style OPEN: all capabilities in one parameter', async (t) => {
  const bytes = hex(`
    ${MARKER} 0051 01
    04 5ba0 005a c6120003 34 02 32   # AS_TRANS, hold 90, id 198.18.0.3; one parameter of 50
    02 00                            # route refresh
    01 04 0001 00 01                 # MP IPv4 unicast
    01 04 0002 00 01                 # MP IPv6 unicast
    41 04 fa56ea00                   # 4-octet AS 4200000000
    40 06 8078 0001 01 80            # GR: R bit, 120 s, IPv4 unicast F bit
    47 07 0001 01 80 000e10          # long-lived GR, kept raw
    49 0b 06 676f62677031 03 6c6162  # FQDN gobgp1.lab, kept raw
  `);
  const m = decodeMessage(bytes, ctx) as OpenMessage;
  t.equal(m.myAs, AS_TRANS);
  t.equal(openPeerAs(m), 4200000000);
  t.same(m.capabilities, [
    { code: 2 },
    { code: 1, afi: 1, safi: 1 },
    { code: 1, afi: 2, safi: 1 },
    { code: 65, asn: 4200000000 },
    {
      code: 64,
      restarting: true,
      notification: false,
      restartTime: 120,
      families: [{ afi: 1, safi: 1, forwardingPreserved: true }],
    },
    { code: 71, value: hex('0001 01 80 000e10'), unknown: true },
    { code: 73, value: hex('06 676f62677031 03 6c6162'), unknown: true },
  ]);
  t.same(encodeMessage(m, ctx), bytes, 'same packing, same bytes');
});

const OURS: OpenMessage = {
  type: 1,
  version: 4,
  myAs: AS_TRANS,
  holdTime: 90,
  bgpId: '198.18.0.1',
  capabilities: [
    { code: 1, afi: 1, safi: 1 },
    { code: 65, asn: 4200000000 },
    {
      code: 64,
      restarting: true,
      notification: true,
      restartTime: 120,
      families: [{ afi: 1, safi: 1, forwardingPreserved: true }],
    },
    { code: 73, value: Buffer.from('abc'), unknown: true },
  ],
};
const OURS_HEX = `
  ${MARKER} 0038 01
  04 5ba0 005a c6120001        # version 4, AS_TRANS, hold 90, id 198.18.0.1
  1b 02 19                     # 27 bytes of parameters: one Capabilities parameter of 25
  01 04 0001 00 01             # MP IPv4 unicast
  41 04 fa56ea00               # 4-octet AS 4200000000
  40 06 c078 0001 01 80        # GR: R and N bits, 120 s; IPv4 unicast with F bit
  49 03 616263                 # unknown capability 73 kept byte for byte
`;

t.test('encodes our OPEN to the hand-written bytes and back', async (t) => {
  t.equal(encodeMessage(OURS, ctx).toString('hex'), hex(OURS_HEX).toString('hex'));
  t.same(decodeMessage(hex(OURS_HEX), ctx), OURS);
  t.equal(openPeerAs(OURS), 4200000000);
  t.equal(openMyAs(4200000000), AS_TRANS);
  t.equal(openMyAs(65001), 65001);
  t.equal(openMyAs(65535), 65535);
});

t.test('encode does not mutate its input', async (t) => {
  const copy = structuredClone({ ...OURS, capabilities: OURS.capabilities.map((c) => ({ ...c })) });
  encodeMessage(OURS, ctx);
  t.same(OURS, copy);
});

t.test('several capabilities in one or in several parameters decode alike', async (t) => {
  const one = frame(1, '04 fde9 005a c6120002 10 02 0e 01040001 0001 0200 4104 0000fde9');
  const many = frame(1, '04 fde9 005a c6120002 14 0206 01040001 0001 0202 0200 0206 4104 0000fde9');
  const a = decodeMessage(one, ctx) as OpenMessage;
  t.same(a.capabilities, [{ code: 1, afi: 1, safi: 1 }, { code: 2 }, { code: 65, asn: 65001 }]);
  t.same((decodeMessage(many, ctx) as OpenMessage).capabilities, a.capabilities);
  t.same(decodeMessage(frame(1, '04 fde9 005a c6120002 00'), ctx), {
    type: 1,
    version: 4,
    myAs: 65001,
    holdTime: 90,
    bgpId: '198.18.0.2',
    capabilities: [],
  });
  // An empty Capabilities parameter is allowed.
  t.same((decodeMessage(frame(1, '04 fde9 005a c6120002 02 0200'), ctx) as OpenMessage).capabilities, []);
});

t.test('graceful restart with several families', async (t) => {
  const m = frame(1, '04 fde9 005a c6120002 0e 02 0c 40 0a 012c 0001 01 00 0002 01 80');
  t.same((decodeMessage(m, ctx) as OpenMessage).capabilities, [
    {
      code: 64,
      restarting: false,
      notification: false,
      restartTime: 300,
      families: [
        { afi: 1, safi: 1, forwardingPreserved: false },
        { afi: 2, safi: 1, forwardingPreserved: true },
      ],
    },
  ]);
  t.same(encodeMessage(decodeMessage(m, ctx), ctx), m);
});

t.test('RFC 9072 extended optional parameters', async (t) => {
  const caps: Capability[] = Array.from({ length: 40 }, (_, i) => ({
    code: 200 + (i % 50),
    value: Buffer.alloc(10, i),
    unknown: true as const,
  }));
  const msg: OpenMessage = { ...OURS, capabilities: caps };
  const bytes = encodeMessage(msg, ctx);
  t.equal(bytes[28], 255, 'Non-Ext OP Len 255');
  t.equal(bytes[29], 255, 'Non-Ext OP Type 255');
  t.same(decodeMessage(bytes, ctx), msg);
  // Hand-written: one Capabilities parameter with a 2-octet length.
  const ext = frame(1, '04 fde9 005a c6120002 ff ff 0009 02 0006 4104 0000fde9');
  t.same((decodeMessage(ext, ctx) as OpenMessage).capabilities, [{ code: 65, asn: 65001 }]);
});

t.test('OPEN errors (RFC 4271 6.2)', async (t) => {
  throwsBgp(t, () => decodeMessage(frame(1, '03 fde9 005a c6120002 00'), ctx), 2, 1, '0004');
  throwsBgp(t, () => decodeMessage(frame(1, '05 fde9 005a c6120002 00'), ctx), 2, 1, '0004');
  throwsBgp(t, () => decodeMessage(frame(1, '04 fde9 0001 c6120002 00'), ctx), 2, 6, '');
  throwsBgp(t, () => decodeMessage(frame(1, '04 fde9 0002 c6120002 00'), ctx), 2, 6);
  t.equal((decodeMessage(frame(1, '04 fde9 0000 c6120002 00'), ctx) as OpenMessage).holdTime, 0);
  t.equal((decodeMessage(frame(1, '04 fde9 0003 c6120002 00'), ctx) as OpenMessage).holdTime, 3);
  throwsBgp(t, () => decodeMessage(frame(1, '04 fde9 005a 00000000 00'), ctx), 2, 3);
  // Unsupported optional parameter: type 1 (deprecated authentication) and an unknown type.
  throwsBgp(t, () => decodeMessage(frame(1, '04 fde9 005a c6120002 03 01 01 00'), ctx), 2, 4);
  throwsBgp(t, () => decodeMessage(frame(1, '04 fde9 005a c6120002 02 07 00'), ctx), 2, 4);
  // Structure errors: OPEN Message Error / Unspecific.
  throwsBgp(t, () => decodeMessage(frame(1, '04 fde9 005a c6120002 05 0202 0200'), ctx), 2, 0, '');
  throwsBgp(t, () => decodeMessage(frame(1, '04 fde9 005a c6120002 02 0202 0200'), ctx), 2, 0);
  throwsBgp(t, () => decodeMessage(frame(1, '04 fde9 005a c6120002 03 0203 02'), ctx), 2, 0);
  throwsBgp(t, () => decodeMessage(frame(1, '04 fde9 005a c6120002 04 0202 0203'), ctx), 2, 0);
  throwsBgp(t, () => decodeMessage(frame(1, '04 fde9 005a c6120002 01 02'), ctx), 2, 0);
  throwsBgp(t, () => decodeMessage(frame(1, '04 fde9 005a c6120002 03 0201 41'), ctx), 2, 0);
  // Known capabilities with a wrong length.
  throwsBgp(t, () => decodeMessage(frame(1, '04 fde9 005a c6120002 05 0203 010300'), ctx), 2, 0);
  throwsBgp(t, () => decodeMessage(frame(1, '04 fde9 005a c6120002 04 0202 0201'), ctx), 2, 0);
  throwsBgp(t, () => decodeMessage(frame(1, '04 fde9 005a c6120002 05 0203 410300'), ctx), 2, 0);
  throwsBgp(t, () => decodeMessage(frame(1, '04 fde9 005a c6120002 07 0205 4003 007800'), ctx), 2, 0);
  throwsBgp(t, () => decodeMessage(frame(1, '04 fde9 005a c6120002 03 0201 40'), ctx), 2, 0);
  // Too short for an OPEN at all.
  throwsBgp(t, () => decodeMessage(frame(1, '04 fde9 005a c6120002'), ctx), 1, 2, '001c');
});

t.test('encode refuses what the wire cannot carry', async (t) => {
  t.throws(() => encodeMessage({ ...OURS, myAs: 4200000000 }, ctx), /openMyAs/);
  t.throws(() => encodeMessage({ ...OURS, bgpId: '2001:db8::1' }, ctx), /IPv4/);
  t.throws(() => encodeMessage({ ...OURS, bgpId: 'leaf' }, ctx), /dotted quad/);
  t.throws(() => encodeMessage({ ...OURS, holdTime: 70000 }, ctx));
  t.throws(
    () =>
      encodeMessage(
        {
          ...OURS,
          capabilities: [
            { code: 64, restarting: false, notification: false, restartTime: 5000, families: [] },
          ],
        },
        ctx,
      ),
    /restart time/,
  );
  t.throws(
    () =>
      encodeMessage({ ...OURS, capabilities: [{ code: 99, value: Buffer.alloc(256), unknown: true }] }, ctx),
    /255/,
  );
  const huge: Capability[] = Array.from({ length: 20 }, () => ({
    code: 99,
    value: Buffer.alloc(250),
    unknown: true as const,
  }));
  t.throws(() => encodeMessage({ ...OURS, capabilities: huge }, ctx), /4096/);
});
