/**
 * A whole LSA: header plus typed body. `decodeLsa` checks length and Fletcher checksum
 * (RFC 2328 13 (1)); `encodeLsa` fills in length and checksum and never mutates its input.
 */
import { lsaChecksum, lsaChecksumValid } from '../checksum.js';
import { LsType } from '../constants.js';
import { OspfDecodeError } from '../ip.js';
import { decodeExternalBody, type ExternalLsaBody, encodeExternalBody } from './external.js';
import { decodeLsaHeader, encodeLsaHeader, LSA_HEADER_LEN, type LsaHeader } from './header.js';
import { decodeNetworkBody, encodeNetworkBody, type NetworkLsaBody } from './network.js';
import { decodeRouterBody, encodeRouterBody, type RouterLsaBody } from './router.js';
import { decodeSummaryBody, encodeSummaryBody, type SummaryLsaBody } from './summary.js';

/** An LSA type this speaker does not interpret (opaque etc.): carried as bytes, still flooded. */
export interface UnknownLsaBody {
  kind: 'unknown';
  bytes: Buffer;
}

export type LsaBody = RouterLsaBody | NetworkLsaBody | SummaryLsaBody | ExternalLsaBody | UnknownLsaBody;

export interface Lsa {
  header: LsaHeader;
  body: LsaBody;
}

/** Decodes one LSA at `off`; `bytes` is the exact LSA (length from its header). */
export function decodeLsa(buf: Buffer, off = 0): { lsa: Lsa; bytes: Buffer } {
  const header = decodeLsaHeader(buf, off);
  if (header.length < LSA_HEADER_LEN || off + header.length > buf.length) {
    throw new OspfDecodeError('bad-lsa', `LSA length ${header.length} out of bounds`);
  }
  const bytes = buf.subarray(off, off + header.length);
  if (!lsaChecksumValid(bytes)) throw new OspfDecodeError('lsa-checksum', 'LSA checksum mismatch');
  const b = bytes.subarray(LSA_HEADER_LEN);
  let body: LsaBody;
  switch (header.type) {
    case LsType.Router:
      body = decodeRouterBody(b);
      break;
    case LsType.Network:
      body = decodeNetworkBody(b);
      break;
    case LsType.SummaryNetwork:
    case LsType.SummaryAsbr:
      body = decodeSummaryBody(b);
      break;
    case LsType.AsExternal:
      body = decodeExternalBody(b);
      break;
    default:
      body = { kind: 'unknown', bytes: Buffer.from(b) };
  }
  return { lsa: { header, body }, bytes: Buffer.from(bytes) };
}

export function encodeLsaBody(body: LsaBody): Buffer {
  switch (body.kind) {
    case 'router':
      return encodeRouterBody(body);
    case 'network':
      return encodeNetworkBody(body);
    case 'summary':
      return encodeSummaryBody(body);
    case 'external':
      return encodeExternalBody(body);
    case 'unknown':
      return Buffer.from(body.bytes);
  }
}

/** Encodes with computed length and checksum; the input header's checksum/length are ignored. */
export function encodeLsa(lsa: Lsa): Buffer {
  const body = encodeLsaBody(lsa.body);
  const out = Buffer.alloc(LSA_HEADER_LEN + body.length);
  encodeLsaHeader({ ...lsa.header, checksum: 0, length: out.length }, out, 0);
  body.copy(out, LSA_HEADER_LEN);
  out.writeUInt16BE(lsaChecksum(out), 16);
  return out;
}

/** Sets the age of an encoded LSA (age is outside the checksum, RFC 2328 12.1.7). */
export function withAge(bytes: Buffer, age: number): Buffer {
  const out = Buffer.from(bytes);
  out.writeUInt16BE(age, 0);
  return out;
}
