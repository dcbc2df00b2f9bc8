/**
 * Decode throughput for a full-table ingest (not a test: run by hand).
 *
 *   npx tsx test/bgp/message/bench-decode.ts [prefixes] [prefixesPerUpdate]
 *
 * Builds a stream of UPDATEs carrying `prefixes` distinct IPv4 prefixes (default 1,000,000; 10 per
 * UPDATE with varied AS paths and communities, as a full table's attribute diversity makes
 * real UPDATEs small), cuts it into 64 KiB chunks as a socket would deliver it, and times
 * MessageReader + decodeMessage.
 */
import {
  decodeMessage,
  encodeMessage,
  MessageReader,
  type UpdateMessage,
} from '../../../src/bgp/message/index.js';
import { makePrefix } from '../../../src/net/prefix.js';

const total = Number(process.argv[2] ?? 1_000_000);
const perUpdate = Number(process.argv[3] ?? 10);
const ctx = { fourOctetAs: true };

const messages: Buffer[] = [];
for (let n = 0; n < total; n += perUpdate) {
  const nlri = [];
  for (let i = n; i < Math.min(n + perUpdate, total); i++) {
    const b = Buffer.from([1 + ((i >> 16) % 223), (i >> 8) & 255, i & 255, 0]);
    nlri.push(makePrefix(b, 24));
  }
  const m: UpdateMessage = {
    type: 2,
    withdrawn: [],
    attributes: {
      origin: 0,
      asPath: [{ type: 2, asns: [65001, 174, 3356, 1000 + (n % 50000)] }],
      nextHop: '198.18.0.1',
      med: n % 100,
      communities: [65001 * 65536 + (n % 1000), 174 * 65536 + 21000],
    },
    nlri,
  };
  messages.push(encodeMessage(m, ctx));
}
const stream = Buffer.concat(messages);
console.log(`${messages.length} UPDATEs, ${(stream.length / 1e6).toFixed(1)} MB`);

for (let round = 0; round < 3; round++) {
  const start = process.hrtime.bigint();
  const reader = new MessageReader();
  let prefixes = 0;
  let count = 0;
  for (let off = 0; off < stream.length; off += 65536) {
    for (const msg of reader.push(stream.subarray(off, off + 65536))) {
      const m = decodeMessage(msg, ctx);
      if (m.type === 2) prefixes += m.nlri.length;
      count++;
    }
  }
  const s = Number(process.hrtime.bigint() - start) / 1e9;
  console.log(
    `round ${round}: ${count} messages, ${prefixes} prefixes in ${s.toFixed(2)} s = ` +
      `${Math.round(prefixes / s).toLocaleString('en')} prefixes/s, ${Math.round(count / s).toLocaleString('en')} msgs/s`,
  );
}
