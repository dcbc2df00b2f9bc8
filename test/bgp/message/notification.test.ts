import t from 'tap';
import {
  BgpDecodeError,
  decodeMessage,
  describeNotification,
  encodeMessage,
  type NotificationMessage,
  notificationFor,
  truncateUtf8,
} from '../../../src/bgp/message/index.js';
import { frame, hex, MARKER, throwsBgp } from './helpers.js';

const ctx = { fourOctetAs: true };

t.test('Cease / Administrative Shutdown with a shutdown communication (RFC 9003)', async (t) => {
  const bytes = hex(`${MARKER} 0019 03  06 02  03 627965`);
  const m = decodeMessage(bytes, ctx) as NotificationMessage;
  t.same(m, { type: 3, code: 6, subcode: 2, data: hex('03627965'), shutdownMessage: 'bye' });
  t.same(
    encodeMessage({ type: 3, code: 6, subcode: 2, data: Buffer.alloc(0), shutdownMessage: 'bye' }, ctx),
    bytes,
  );
  t.same(encodeMessage(m, ctx), bytes);
  // Administrative Reset carries one too; UTF-8 text.
  const reset = encodeMessage(
    { type: 3, code: 6, subcode: 4, data: Buffer.alloc(0), shutdownMessage: 'drain ✓' },
    ctx,
  );
  t.equal(reset.toString('hex'), hex(`${MARKER} 001f 03 06 04 09 647261696e20e29c93`).toString('hex'));
  t.equal((decodeMessage(reset, ctx) as NotificationMessage).shutdownMessage, 'drain ✓');
  // Length 0: an empty communication.
  t.equal((decodeMessage(frame(3, '0602 00'), ctx) as NotificationMessage).shutdownMessage, '');
});

t.test('malformed shutdown communications keep the raw data only', async (t) => {
  for (const body of ['0602 0a 627965', '0602 02 627965', '0602 02 ff fe', '0602']) {
    const m = decodeMessage(frame(3, body), ctx) as NotificationMessage;
    t.equal(m.shutdownMessage, undefined, body);
    t.same(m.data, hex(body).subarray(2));
  }
  // Other codes never carry one.
  t.equal((decodeMessage(frame(3, '0603 03 627965'), ctx) as NotificationMessage).shutdownMessage, undefined);
});

t.test('other notifications', async (t) => {
  const hold = hex(`${MARKER} 0015 03 04 00`);
  t.same(decodeMessage(hold, ctx), { type: 3, code: 4, subcode: 0, data: Buffer.alloc(0) });
  t.same(encodeMessage({ type: 3, code: 4, subcode: 0, data: Buffer.alloc(0) }, ctx), hold);
  const bad = hex(`${MARKER} 0017 03 01 02 0012`);
  t.same(decodeMessage(bad, ctx), { type: 3, code: 1, subcode: 2, data: hex('0012') });
  t.same(encodeMessage(decodeMessage(bad, ctx), ctx), bad);
  throwsBgp(t, () => decodeMessage(hex(`${MARKER} 0014 03 06`), ctx), 1, 2, '0014');
});

t.test('notificationFor turns a decode error into the NOTIFICATION to send', async (t) => {
  try {
    decodeMessage(frame(1, '03 fde9 005a c6120002 00'), ctx);
    t.fail('no error');
  } catch (e) {
    if (!(e instanceof BgpDecodeError)) throw e;
    const n = notificationFor(e);
    t.equal(encodeMessage(n, ctx).toString('hex'), hex(`${MARKER} 0017 03 02 01 0004`).toString('hex'));
  }
});

t.test('shutdown communication limits', async (t) => {
  const long = 'é'.repeat(200);
  t.throws(
    () => encodeMessage({ type: 3, code: 6, subcode: 2, data: Buffer.alloc(0), shutdownMessage: long }, ctx),
    /255/,
  );
  const cut = truncateUtf8(long);
  t.equal(Buffer.byteLength(cut), 254, 'cut on a character boundary');
  t.equal(cut, 'é'.repeat(127));
  t.equal(truncateUtf8('short'), 'short');
  const ok = encodeMessage(
    { type: 3, code: 6, subcode: 2, data: Buffer.alloc(0), shutdownMessage: cut },
    ctx,
  );
  t.equal((decodeMessage(ok, ctx) as NotificationMessage).shutdownMessage, cut);
  const max = 'a'.repeat(255);
  t.equal(
    (
      decodeMessage(
        encodeMessage({ type: 3, code: 6, subcode: 2, data: Buffer.alloc(0), shutdownMessage: max }, ctx),
        ctx,
      ) as NotificationMessage
    ).shutdownMessage,
    max,
  );
});

t.test('describeNotification names every RFC code and subcode', async (t) => {
  const cases: [number, number, string][] = [
    [1, 1, 'Message Header Error / Connection Not Synchronized'],
    [1, 2, 'Message Header Error / Bad Message Length'],
    [1, 3, 'Message Header Error / Bad Message Type'],
    [2, 0, 'OPEN Message Error / Unspecific'],
    [2, 1, 'OPEN Message Error / Unsupported Version Number'],
    [2, 2, 'OPEN Message Error / Bad Peer AS'],
    [2, 3, 'OPEN Message Error / Bad BGP Identifier'],
    [2, 4, 'OPEN Message Error / Unsupported Optional Parameter'],
    [2, 6, 'OPEN Message Error / Unacceptable Hold Time'],
    [2, 7, 'OPEN Message Error / Unsupported Capability'],
    [2, 11, 'OPEN Message Error / Role Mismatch'],
    [3, 1, 'UPDATE Message Error / Malformed Attribute List'],
    [3, 2, 'UPDATE Message Error / Unrecognized Well-known Attribute'],
    [3, 3, 'UPDATE Message Error / Missing Well-known Attribute'],
    [3, 4, 'UPDATE Message Error / Attribute Flags Error'],
    [3, 5, 'UPDATE Message Error / Attribute Length Error'],
    [3, 6, 'UPDATE Message Error / Invalid ORIGIN Attribute'],
    [3, 8, 'UPDATE Message Error / Invalid NEXT_HOP Attribute'],
    [3, 9, 'UPDATE Message Error / Optional Attribute Error'],
    [3, 10, 'UPDATE Message Error / Invalid Network Field'],
    [3, 11, 'UPDATE Message Error / Malformed AS_PATH'],
    [4, 0, 'Hold Timer Expired'],
    [5, 0, 'Finite State Machine Error / Unspecified Error'],
    [5, 1, 'Finite State Machine Error / Receive Unexpected Message in OpenSent State'],
    [5, 2, 'Finite State Machine Error / Receive Unexpected Message in OpenConfirm State'],
    [5, 3, 'Finite State Machine Error / Receive Unexpected Message in Established State'],
    [6, 0, 'Cease'],
    [6, 1, 'Cease / Maximum Number of Prefixes Reached'],
    [6, 2, 'Cease / Administrative Shutdown'],
    [6, 3, 'Cease / Peer De-configured'],
    [6, 4, 'Cease / Administrative Reset'],
    [6, 5, 'Cease / Connection Rejected'],
    [6, 6, 'Cease / Other Configuration Change'],
    [6, 7, 'Cease / Connection Collision Resolution'],
    [6, 8, 'Cease / Out of Resources'],
    [6, 9, 'Cease / Hard Reset'],
    [6, 10, 'Cease / BFD Down'],
    [7, 1, 'ROUTE-REFRESH Message Error / Invalid Message Length'],
    [8, 0, 'Send Hold Timer Expired'],
    [6, 42, 'Cease / subcode 42'],
    [4, 1, 'Hold Timer Expired / subcode 1'],
    [99, 1, 'Unknown error code 99 / subcode 1'],
  ];
  for (const [code, sub, text] of cases) t.equal(describeNotification(code, sub), text);
});
