/** Shared helpers for the BGP message codec tests. */
import type { Test } from 'tap';
import { BgpDecodeError } from '../../../src/bgp/message/index.js';

/** Bytes from hex text; whitespace and `#` comments to the end of a line are ignored. */
export function hex(text: string): Buffer {
  const clean = text.replace(/#[^\n]*/g, '').replace(/\s+/g, '');
  if (!/^([0-9a-fA-F]{2})*$/.test(clean)) throw new Error(`bad hex: ${clean}`);
  return Buffer.from(clean, 'hex');
}

export const MARKER = 'ffffffffffffffffffffffffffffffff';

/** A whole message: marker, the correct length, type, body (hex). */
export function frame(type: number, body: string | Buffer): Buffer {
  const b = typeof body === 'string' ? hex(body) : body;
  const head = Buffer.alloc(19, 0xff);
  head.writeUInt16BE(19 + b.length, 16);
  head[18] = type;
  return Buffer.concat([head, b]);
}

/** Asserts that `fn` throws BgpDecodeError code/subcode (and data, if given as hex). */
export function throwsBgp(t: Test, fn: () => unknown, code: number, subcode: number, dataHex?: string): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof BgpDecodeError)) {
      t.fail(`threw ${String(e)} instead of BgpDecodeError ${code}/${subcode}`);
      return;
    }
    t.same([e.code, e.subcode], [code, subcode], `NOTIFICATION ${code}/${subcode} (${e.message})`);
    if (dataHex !== undefined)
      t.equal(e.data.toString('hex'), hex(dataHex).toString('hex'), 'NOTIFICATION data');
    return;
  }
  t.fail(`did not throw; expected ${code}/${subcode}`);
}
