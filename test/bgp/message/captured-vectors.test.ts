/**
 * Messages captured from the real daemons of the lab (Debian 12 packages: BIRD 2.0.12,
 * GoBGP 3.10.0, FRR 8.4.4), each peering over 127.0.0.1 with `capture-peer.ts` (our codec on
 * the other side, OPEN with MP v4/v6, route refresh, 4-octet AS, GR). The configurations are in
 * capture-peer.ts. GoBGP also logged our Cease / Administrative Shutdown with its communication
 * ("Communicated-Reason":"capture done"), so the codec was checked in both directions.
 */
import t, { type Test } from 'tap';
import {
  AS_TRANS,
  decodeMessage,
  encodeMessage,
  isEndOfRib,
  type Message,
  MessageReader,
  type OpenMessage,
  openPeerAs,
  type UpdateMessage,
} from '../../../src/bgp/message/index.js';
import { parsePrefix } from '../../../src/net/prefix.js';
import { hex } from './helpers.js';

const ctx = { fourOctetAs: true };
const M = 'ffffffffffffffffffffffffffffffff';

const BIRD = [
  `${M}005101045ba0005ac61200093402320104000100010104000200010200400a007800010100000201004104fa56ea014600470e00010100000e1000020100000e10`,
  `${M}001304`,
  `${M}002002000918c6126419c61265000000`,
  `${M}00170200000000`,
  `${M}0044020000002d900e001c0002011020010db8000000000000000000000009003020010db80100400101004002060201fa56ea01`,
  `${M}001d0200000006800f03000201`,
];
const GOBGP = [
  `${M}004d01045ba0005ac612000a30022e0200490402766d000104000100010104000200014104fa56ea02400a007800010100000201000506000100010002`,
  `${M}001304`,
  `${M}004c0200000031400101024002060201fa56ea024003047f0000018004040000000ac00804fde80001c0200cfa56ea02000000010000000218c61264`,
  `${M}00170200000000`,
  `${M}0043020000002c400101024002060201fa56ea02800e1c0002011020010db8000000000000000000000010003020010db80100`,
  `${M}001d0200000006800f03000201`,
];
const FRR = [
  `${M}007e0104fde9005ac612000b6102060104000100010206010400020001020280000202020002024600020641040000fde902020600020a45080001010100020101020b4909076c65616663617000020c400ac07800010100000201000210470e0001018000000000020180000000`,
  `${M}001304`,
  `${M}0037020000001c400101005002000602010000fde94003047f0000018004040000000018c61264`,
  `${M}004c0200000035900e001c0002011000000000000000000000ffff7f000001003020010db80100400101005002000602010000fde980040400000000`,
  `${M}00170200000000`,
  `${M}001d0200000006800f03000201`,
];

function decodeAll(stream: string[]): Message[] {
  // Through the stream reader as one TCP byte stream, as the session receives it.
  const out = new MessageReader().push(Buffer.concat(stream.map((s) => hex(s))));
  t.equal(out.length, stream.length);
  return out.map((b) => decodeMessage(b, ctx));
}

function checkReencode(t: Test, msgs: Message[]): void {
  for (const m of msgs) t.same(decodeMessage(encodeMessage(m, ctx), ctx), m, `re-encode ${m.type}`);
}

t.test('BIRD 2.0.12', async (t) => {
  const [open, ka, withdraw, eor4, reach6, eor6] = decodeAll(BIRD) as [
    OpenMessage,
    Message,
    UpdateMessage,
    UpdateMessage,
    UpdateMessage,
    UpdateMessage,
  ];
  t.equal(open.myAs, AS_TRANS);
  t.equal(openPeerAs(open), 4200000001);
  t.equal(open.bgpId, '198.18.0.9');
  t.same(
    open.capabilities.map((c) => c.code),
    [1, 1, 2, 64, 65, 70, 71],
  );
  t.same(open.capabilities[3], {
    code: 64,
    restarting: false,
    notification: false,
    restartTime: 120,
    families: [
      { afi: 1, safi: 1, forwardingPreserved: false },
      { afi: 2, safi: 1, forwardingPreserved: false },
    ],
  });
  t.same(ka, { type: 4 });
  t.same(withdraw.withdrawn, [parsePrefix('198.18.100.0/24'), parsePrefix('198.18.101.0/25')]);
  t.same(isEndOfRib(eor4), { afi: 1, safi: 1 });
  // BIRD sets Extended Length on MP_REACH_NLRI even for a short value.
  t.same(reach6.attributes, {
    mpReach: { afi: 2, safi: 1, nextHop: '2001:db8::9', nlri: [parsePrefix('2001:db8:100::/48')] },
    origin: 0,
    asPath: [{ type: 2, asns: [4200000001] }],
  });
  t.notOk(reach6.errors);
  t.same(isEndOfRib(eor6), { afi: 2, safi: 1 });
  checkReencode(t, [open, ka, withdraw, eor4, reach6, eor6]);
  // Our encoding of the End-of-RIB markers is byte-identical to BIRD's.
  t.same(encodeMessage(eor4, ctx), hex(BIRD[3]!));
  t.same(encodeMessage(eor6, ctx), hex(BIRD[5]!));
});

t.test('GoBGP 3.10.0', async (t) => {
  const msgs = decodeAll(GOBGP);
  const open = msgs[0] as OpenMessage;
  t.equal(openPeerAs(open), 4200000002);
  t.same(
    open.capabilities.map((c) => c.code),
    [2, 73, 1, 1, 65, 64, 5],
  );
  // GoBGP packs all capabilities into one parameter, as we do: byte-identical re-encoding.
  t.same(encodeMessage(open, ctx), hex(GOBGP[0]!));
  const v4 = msgs[2] as UpdateMessage;
  t.same(v4.attributes, {
    origin: 2,
    asPath: [{ type: 2, asns: [4200000002] }],
    nextHop: '127.0.0.1',
    med: 10,
    communities: [65000 * 65536 + 1],
    largeCommunities: [{ globalAdmin: 4200000002, localData1: 1, localData2: 2 }],
  });
  t.same(v4.nlri, [parsePrefix('198.18.100.0/24')]);
  t.same(encodeMessage(v4, ctx), hex(GOBGP[2]!), 'same attribute order as GoBGP');
  const v6 = msgs[4] as UpdateMessage;
  t.equal(v6.attributes.mpReach?.nextHop, '2001:db8::10');
  t.same(isEndOfRib(msgs[3] as UpdateMessage), { afi: 1, safi: 1 });
  t.same(isEndOfRib(msgs[5] as UpdateMessage), { afi: 2, safi: 1 });
  checkReencode(t, msgs);
});

t.test('FRR 8.4.4', async (t) => {
  const msgs = decodeAll(FRR);
  const open = msgs[0] as OpenMessage;
  t.equal(open.myAs, 65001);
  t.equal(open.holdTime, 90);
  t.same(
    open.capabilities.map((c) => c.code),
    [1, 1, 128, 2, 70, 65, 6, 69, 73, 64, 71],
  );
  t.same(open.capabilities[9], {
    code: 64,
    restarting: true,
    notification: true,
    restartTime: 120,
    families: [
      { afi: 1, safi: 1, forwardingPreserved: false },
      { afi: 2, safi: 1, forwardingPreserved: false },
    ],
  });
  // FRR sets Extended Length on AS_PATH and MP_REACH_NLRI; IPv4-mapped next hop for IPv6.
  const v4 = msgs[2] as UpdateMessage;
  t.same(v4.attributes, { origin: 0, asPath: [{ type: 2, asns: [65001] }], nextHop: '127.0.0.1', med: 0 });
  const v6 = msgs[3] as UpdateMessage;
  t.same(v6.attributes.mpReach?.nlri, [parsePrefix('2001:db8:100::/48')]);
  t.equal(v6.attributes.mpReach?.nextHop, '::ffff:7f00:1');
  t.notOk(v6.errors);
  checkReencode(t, msgs);
});
