import t from 'tap';
import { decodeMessage, MAX_MESSAGE_LENGTH, messageLength } from '../../../src/bgp/message/index.js';
import { frame, hex, MARKER, throwsBgp } from './helpers.js';

const ctx = { fourOctetAs: true };

t.test('messageLength waits for a whole header', async (t) => {
  t.equal(messageLength(Buffer.alloc(0)), undefined);
  t.equal(messageLength(hex(`${MARKER} 0013`)), undefined, '18 bytes');
  t.equal(messageLength(hex(`${MARKER} 0013 04`)), 19);
  t.equal(messageLength(hex(`${MARKER} 001d 02 0000 0006`)), 29, 'only the header is needed');
});

t.test('bad marker: 1/1 Connection Not Synchronized', async (t) => {
  const b = hex(`${MARKER} 0013 04`);
  b[7] = 0xfe;
  throwsBgp(t, () => messageLength(b), 1, 1, '');
  throwsBgp(t, () => decodeMessage(b, ctx), 1, 1);
});

t.test('bad length: 1/2 with the length field as data', async (t) => {
  throwsBgp(t, () => messageLength(hex(`${MARKER} 0012 04`)), 1, 2, '0012');
  throwsBgp(t, () => messageLength(hex(`${MARKER} 0000 04`)), 1, 2, '0000');
  throwsBgp(t, () => messageLength(hex(`${MARKER} 1001 02`)), 1, 2, '1001');
  t.equal(messageLength(hex(`${MARKER} 1000 02`)), MAX_MESSAGE_LENGTH);
  // RFC 4271 6.1 per-type minimums.
  throwsBgp(t, () => messageLength(hex(`${MARKER} 001c 01`)), 1, 2, '001c'); // OPEN < 29
  throwsBgp(t, () => messageLength(hex(`${MARKER} 0016 02`)), 1, 2, '0016'); // UPDATE < 23
  throwsBgp(t, () => messageLength(hex(`${MARKER} 0014 03`)), 1, 2, '0014'); // NOTIFICATION < 21
  throwsBgp(t, () => messageLength(hex(`${MARKER} 0014 04`)), 1, 2, '0014'); // KEEPALIVE != 19
  throwsBgp(t, () => messageLength(hex(`${MARKER} 0016 05`)), 1, 2, '0016'); // ROUTE-REFRESH < 23
  t.equal(messageLength(hex(`${MARKER} 001d 01`)), 29);
  t.equal(messageLength(hex(`${MARKER} 0015 03`)), 21);
});

t.test('decodeMessage wants exactly one message', async (t) => {
  const ka = frame(4, '');
  throwsBgp(t, () => decodeMessage(Buffer.concat([ka, Buffer.from([0])]), ctx), 1, 2, '0013');
  throwsBgp(t, () => decodeMessage(ka.subarray(0, 18), ctx), 1, 2);
  const truncated = frame(2, '0000 0000');
  throwsBgp(t, () => decodeMessage(truncated.subarray(0, 22), ctx), 1, 2, '0017');
});

t.test('bad type: 1/3 with the type as data', async (t) => {
  throwsBgp(t, () => decodeMessage(frame(6, ''), ctx), 1, 3, '06');
  throwsBgp(t, () => decodeMessage(frame(0, '00'), ctx), 1, 3, '00');
  throwsBgp(t, () => decodeMessage(frame(255, ''), ctx), 1, 3, 'ff');
});
