/**
 * A BGP peer that stops reading (for the RFC 9687 send hold timer test): listens on --listen:179,
 * answers the OPEN with its own and a KEEPALIVE, then never reads again while it keeps sending
 * KEEPALIVEs every second (so only the send side of the session is stuck). Prints `established`
 * and `closed` as JSON lines.
 *   node --import tsx test/interop/stalled-peer.ts --listen ADDR --asn N
 */
import { createServer } from 'node:net';
import { parseArgs } from 'node:util';
import { encodeMessage, KEEPALIVE, type Message, MessageReader } from '../../src/bgp/message/index.js';

const { values } = parseArgs({ options: { listen: { type: 'string' }, asn: { type: 'string' } } });
const ctx = { fourOctetAs: true };
const server = createServer((sock) => {
  const reader = new MessageReader();
  sock.on('data', (chunk) => {
    for (const frame of reader.push(chunk)) {
      if (frame[18] !== 1) continue;
      const open = {
        type: 1,
        version: 4,
        myAs: Number(values.asn),
        holdTime: 9,
        bgpId: values.listen ?? '0.0.0.0',
        capabilities: [
          { code: 1, afi: 1, safi: 1 },
          { code: 65, asn: Number(values.asn) },
        ],
      };
      sock.write(encodeMessage(open as Message, ctx));
      sock.write(encodeMessage(KEEPALIVE, ctx));
      // From here on nothing is read: the kernel's receive buffer fills, then the sender's.
      sock.pause();
      sock.removeAllListeners('data');
      console.log(JSON.stringify({ event: 'established' }));
      const ka = setInterval(() => sock.write(encodeMessage(KEEPALIVE, ctx)), 1000);
      sock.on('close', () => {
        clearInterval(ka);
        console.log(JSON.stringify({ event: 'closed' }));
      });
      sock.on('error', () => {});
      return;
    }
  });
});
server.listen(179, values.listen);
