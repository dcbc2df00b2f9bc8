import t from 'tap';
import type { OpenMessage } from '../../src/bgp/message/index.js';
import {
  buildOpen,
  checkOpen,
  compareBgpIds,
  IPV4_UNICAST,
  IPV6_UNICAST,
  type LocalOpenParams,
} from '../../src/bgp/negotiate.js';
import { Backoff } from '../../src/lib/backoff.js';
import { peerOpen } from './scripted-peer.js';

const local: LocalOpenParams = {
  asn: 65001,
  routerId: '198.18.0.2',
  holdTime: 90,
  families: [IPV4_UNICAST, IPV6_UNICAST],
};
const refusal = (o: OpenMessage, l = local, expected = 65000) => {
  const r = checkOpen(l, expected, o);
  return r.ok ? 'ok' : `${r.notification.code}/${r.notification.subcode}`;
};

t.test('OPEN checks in RFC 4271 6.2 order', async (t) => {
  const good = peerOpen({ asn: 65000, id: '198.18.0.1' });
  t.equal(refusal(good), 'ok');
  t.equal(refusal({ ...good, version: 3 }), '2/1');
  const v = checkOpen(local, 65000, { ...good, version: 3 });
  t.same(!v.ok && v.notification.data, Buffer.from([0, 4]), 'data: largest version we speak');
  t.equal(refusal(peerOpen({ asn: 65002, id: '198.18.0.1' })), '2/2');
  t.equal(refusal({ ...good, holdTime: 1 }), '2/6');
  t.equal(refusal({ ...good, holdTime: 3 }), 'ok');
  t.equal(refusal({ ...good, bgpId: '0.0.0.0' }), '2/3');
  t.equal(refusal({ ...good, bgpId: '198.18.0.2' }), 'ok', 'eBGP may share our id (RFC 6286)');
  t.equal(refusal(peerOpen({ asn: 65001, id: '198.18.0.2' }), local, 65001), '2/3', 'iBGP may not');
  t.equal(refusal({ ...good, otherParameters: [{ type: 9, value: Buffer.alloc(0) }] }), '2/4');
  // A 2-octet-only peer: fine for 2-octet ASNs, refused when ours needs 4 octets.
  const old = peerOpen({ asn: 65000, id: '198.18.0.1', capabilities: [] });
  t.equal(refusal(old), 'ok');
  t.equal(refusal(old, { ...local, asn: 4_200_000_000 }), '2/7');
  // A 4-octet peer without the capability sends AS_TRANS: bad peer AS.
  t.equal(refusal({ ...old, myAs: 23456 }, local, 4_200_000_001), '2/2');
});

t.test('negotiated values', async (t) => {
  const r = checkOpen(local, 65000, peerOpen({ asn: 65000, id: '198.18.0.1', hold: 30 }));
  t.ok(r.ok);
  if (!r.ok) return;
  t.same(r.negotiated, {
    peerAsn: 65000,
    peerId: '198.18.0.1',
    holdTime: 30,
    keepaliveMs: 10000,
    fourOctetAs: true,
    routeRefresh: true,
    families: [IPV4_UNICAST, IPV6_UNICAST],
  });
  const v4only = checkOpen(local, 65000, peerOpen({ asn: 65000, id: '198.18.0.1', capabilities: [] }));
  t.same(v4only.ok && v4only.negotiated.families, [IPV4_UNICAST], 'no MP capability = IPv4 unicast');
  const v6only = checkOpen(
    local,
    65000,
    peerOpen({ asn: 65000, id: '198.18.0.1', capabilities: [{ code: 1, afi: 2, safi: 1 }] }),
  );
  t.same(v6only.ok && v6only.negotiated.families, [IPV6_UNICAST]);
  const zero = checkOpen({ ...local, holdTime: 0 }, 65000, peerOpen({ asn: 65000, id: '198.18.0.1' }));
  t.same(zero.ok && [zero.negotiated.holdTime, zero.negotiated.keepaliveMs], [0, 0]);
});

t.test('our OPEN', async (t) => {
  t.match(buildOpen(local), { version: 4, myAs: 65001, holdTime: 90, bgpId: '198.18.0.2' });
  const big = buildOpen({ ...local, asn: 4_200_000_000 });
  t.equal(big.myAs, 23456);
  t.same(big.capabilities.at(-1), { code: 65, asn: 4_200_000_000 });
});

t.test('BGP identifiers compare as unsigned integers', async (t) => {
  t.ok(compareBgpIds('198.19.0.1', '198.9.255.255') > 0, 'numerically, not as text');
  t.ok(compareBgpIds('128.0.0.0', '127.255.255.255') > 0, 'no sign problems above 2^31');
  t.equal(compareBgpIds('198.18.0.1', '198.18.0.1'), 0);
});

t.test('back-off doubles from the first delay to the cap; jitter stays within 75..100 %', async (t) => {
  const b = new Backoff({ initialMs: 100, maxMs: 1000, random: null });
  t.same(
    Array.from({ length: 6 }, () => b.next()),
    [100, 200, 400, 800, 1000, 1000],
  );
  b.reset();
  t.equal(b.next(), 100);
  b.penalize();
  t.equal(b.next(), 1000);
  let r = 0;
  const j = new Backoff({ initialMs: 100, maxMs: 1000, random: () => [0, 0.999][r++ % 2]! });
  t.equal(j.next(), 75);
  t.equal(j.next(), 200);
});
