/** The cryptographic sequence clock (RFC 2328 D.4.3): restarts start above the previous run. */
import t from 'tap';
import { cryptoSeqFloor } from '../../src/ospf/packet/auth.js';

t.test('ten ticks a second from 2024-01-01, 32-bit until 2037', async (t) => {
  const epoch = Date.UTC(2024, 0, 1);
  t.equal(cryptoSeqFloor(epoch), 0);
  t.equal(cryptoSeqFloor(epoch + 1000), 10);
  t.equal(cryptoSeqFloor(epoch - 5000), 0, 'a clock before the epoch does not go negative');
  t.equal(cryptoSeqFloor(Date.UTC(2026, 10, 25)), 914_976_000, '1059 days × 864 000 ticks');
  t.ok(cryptoSeqFloor(Date.UTC(2037, 6, 1)) < 2 ** 32, 'fits 32 bits in mid-2037');
});

t.test('a restart 3 s after 25 packets in one second starts above them', async (t) => {
  // The MD5 interop case: the previous process sent a burst (adjacency bring-up) then died.
  const start = Date.UTC(2026, 10, 25, 12);
  let last = cryptoSeqFloor(start);
  for (let i = 0; i < 25; i++) last = Math.max(last + 1, cryptoSeqFloor(start + i * 40));
  t.ok(cryptoSeqFloor(start + 3000) > last, `${cryptoSeqFloor(start + 3000)} > ${last}`);
  // Seconds (FRR's seed) would not be: start/1000 + 25 > (start + 3000)/1000.
  t.ok(Math.floor(start / 1000) + 25 > Math.floor((start + 3000) / 1000));
});
