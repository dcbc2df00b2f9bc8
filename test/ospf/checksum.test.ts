import t from 'tap';
import { lsaChecksum, lsaChecksumValid, packetChecksum } from '../../src/ospf/checksum.js';

// Vectors: gopacket layers/ospf_test.go, checksums recomputed independently.
const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

t.test('LSA Fletcher checksum vectors', async (t) => {
  const router = hex(
    '0002 0201 c0a8aa03 c0a8aa03 80000001 3a9c 0030 0200 0002 c0a8aa00 ffffff00 0300000a c0a8aa00 ffffff00 0300000a',
  );
  const ext = hex('0003 0205 50d41000 c0a8aa02 80000001 2a49 0024 ffffffff 80000014 00000000 00000000');
  t.equal(lsaChecksum(router), 0x3a9c);
  t.equal(lsaChecksum(ext), 0x2a49);
  t.ok(lsaChecksumValid(router));
  t.ok(lsaChecksumValid(ext));
  // The age is outside the checksum: changing it keeps the LSA valid.
  const aged = Buffer.from(router);
  aged.writeUInt16BE(3599, 0);
  t.ok(lsaChecksumValid(aged));
  const bad = Buffer.from(router);
  bad[30] = bad[30]! ^ 1;
  t.notOk(lsaChecksumValid(bad));
});

t.test('packet checksum vectors', async (t) => {
  const hello = hex(
    '0201 002c c0a8aa08 00000001 273b 0000 0000000000000000 ffffff00 000a 02 01 00000028 c0a8aa08 00000000',
  );
  const dbd = hex('0202 0020 c0a8aa08 00000001 a052 0000 0000000000000000 05dc 02 07 4177a97e');
  t.equal(packetChecksum(hello), 0x273b);
  t.equal(packetChecksum(dbd), 0xa052);
  // The auth field is outside the sum.
  const withAuth = Buffer.from(hello);
  withAuth.write('secret', 16);
  t.equal(packetChecksum(withAuth), 0x273b);
});

t.test('Fletcher checksum of random LSAs always verifies', async (t) => {
  for (let n = 0; n < 200; n++) {
    const len = 20 + 4 * Math.floor(Math.random() * 20);
    const b = Buffer.alloc(len);
    for (let i = 0; i < len; i++) b[i] = Math.floor(Math.random() * 256);
    b.writeUInt16BE(len, 18);
    b.writeUInt16BE(lsaChecksum(b), 16);
    if (!lsaChecksumValid(b)) t.fail(`random LSA ${b.toString('hex')}`);
  }
  t.pass('200 random LSAs verify');
});
