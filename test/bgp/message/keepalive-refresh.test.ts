import t from 'tap';
import { decodeMessage, encodeKeepalive, encodeMessage, KEEPALIVE } from '../../../src/bgp/message/index.js';
import { frame, hex, MARKER, throwsBgp } from './helpers.js';

const ctx = { fourOctetAs: true };

t.test('KEEPALIVE', async (t) => {
  const bytes = hex(`${MARKER} 0013 04`);
  t.same(encodeKeepalive(), bytes);
  t.same(encodeMessage({ type: 4 }, ctx), bytes);
  t.same(decodeMessage(bytes, ctx), { type: 4 });
  t.equal(decodeMessage(bytes, ctx), KEEPALIVE);
  throwsBgp(t, () => decodeMessage(frame(4, '00'), ctx), 1, 2, '0014');
});

t.test('ROUTE-REFRESH (RFC 2918, RFC 7313 subtypes)', async (t) => {
  const v4 = hex(`${MARKER} 0017 05 0001 00 01`);
  t.same(decodeMessage(v4, ctx), { type: 5, afi: 1, safi: 1, subtype: 0 });
  t.same(encodeMessage({ type: 5, afi: 1, safi: 1, subtype: 0 }, ctx), v4);
  const borr = hex(`${MARKER} 0017 05 0002 01 01`);
  t.same(decodeMessage(borr, ctx), { type: 5, afi: 2, safi: 1, subtype: 1 });
  t.same(encodeMessage({ type: 5, afi: 2, safi: 1, subtype: 1 }, ctx), borr);
  const eorr = hex(`${MARKER} 0017 05 0002 02 01`);
  t.same(decodeMessage(eorr, ctx), { type: 5, afi: 2, safi: 1, subtype: 2 });
  // Unknown subtypes decode; RFC 7313 5 has the session ignore them.
  t.same(decodeMessage(frame(5, '0001 07 01'), ctx), { type: 5, afi: 1, safi: 1, subtype: 7 });
});

t.test('ROUTE-REFRESH length errors', async (t) => {
  // RFC 7313 5: BoRR/EoRR of the wrong length: 7/1 with the whole message as data.
  const long = frame(5, '0001 01 01 00');
  throwsBgp(t, () => decodeMessage(long, ctx), 7, 1, long.toString('hex'));
  throwsBgp(t, () => decodeMessage(frame(5, '0001 02 01 0000'), ctx), 7, 1);
  // A normal request of the wrong length: header error.
  throwsBgp(t, () => decodeMessage(frame(5, '0001 00 01 00'), ctx), 1, 2, '0018');
  throwsBgp(t, () => decodeMessage(frame(5, '0001 00'), ctx), 1, 2, '0016');
});
