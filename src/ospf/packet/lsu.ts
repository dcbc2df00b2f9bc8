/**
 * Link State Update body (RFC 2328 A.3.5): # LSAs (32) then whole LSAs. LSAs are kept as their
 * bytes: each is checksum-checked and decoded on its own (RFC 2328 13 (1) discards one bad LSA,
 * not the packet), and the LSDB stores and floods them unchanged.
 */
import { OspfDecodeError } from '../ip.js';
import { LSA_HEADER_LEN } from '../lsa/header.js';

export interface LsUpdateBody {
  kind: 'lsu';
  lsas: Buffer[];
}

export function decodeLsUpdate(b: Buffer): LsUpdateBody {
  if (b.length < 4) throw new OspfDecodeError('bad-length', 'LSU body truncated');
  const count = b.readUInt32BE(0);
  const lsas: Buffer[] = [];
  let off = 4;
  for (let i = 0; i < count; i++) {
    if (off + LSA_HEADER_LEN > b.length) throw new OspfDecodeError('bad-length', 'LSU: LSA truncated');
    const len = b.readUInt16BE(off + 18);
    if (len < LSA_HEADER_LEN || off + len > b.length) {
      throw new OspfDecodeError('bad-length', `LSU: LSA length ${len} out of bounds`);
    }
    lsas.push(Buffer.from(b.subarray(off, off + len)));
    off += len;
  }
  return { kind: 'lsu', lsas };
}

export function encodeLsUpdate(u: LsUpdateBody): Buffer {
  const count = Buffer.alloc(4);
  count.writeUInt32BE(u.lsas.length, 0);
  return Buffer.concat([count, ...u.lsas]);
}
