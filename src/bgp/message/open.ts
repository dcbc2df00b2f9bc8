/**
 * OPEN (RFC 4271 4.2), with optional parameters (RFC 5492) and the extended optional parameters
 * length of RFC 9072.
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+
 *  |    Version    |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |     My Autonomous System      |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |           Hold Time           |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                         BGP Identifier                        |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  | Opt Parm Len  |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |             Optional Parameters (Type, Length, Value)         |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
import { formatAddress, parseAddress } from '../../net/prefix.js';
import { checkRange, decodeCapabilities, encodeCapability } from './capability.js';
import { finishMessage, startMessage } from './header.js';
import {
  AS_TRANS,
  BgpDecodeError,
  type Capability,
  ErrorCode,
  HEADER_LENGTH,
  MessageType,
  type OpenMessage,
  OpenSubcode,
} from './types.js';
import { ByteWriter } from './writer.js';

export const BGP_VERSION = 4;
/** RFC 5492 4: optional parameter type Capabilities. */
const PARAM_CAPABILITIES = 2;
/** RFC 9072 2: Non-Ext OP Type 255 announces the extended format. */
const PARAM_EXTENDED = 255;

/** RFC 6793 4.1: the My Autonomous System field for `asn` (AS_TRANS when it needs 4 octets). */
export function openMyAs(asn: number): number {
  return asn > 0xffff ? AS_TRANS : asn;
}

/** The peer's real ASN: its 4-octet AS capability when present (RFC 6793 4.1), else My AS. */
export function openPeerAs(open: OpenMessage): number {
  for (const c of open.capabilities) if (!c.unknown && c.code === 65) return c.asn;
  return open.myAs;
}

function openError(subcode: number, why: string, data: Buffer = Buffer.alloc(0)): BgpDecodeError {
  return new BgpDecodeError(ErrorCode.OpenMessage, subcode, data, why);
}

/** Decodes the body of an OPEN; `buf` is the whole message, its length already checked (>= 29). */
export function decodeOpen(buf: Buffer): OpenMessage {
  let off = HEADER_LENGTH;
  const version = buf[off]!;
  if (version !== BGP_VERSION) {
    // RFC 4271 6.2: Data is the largest locally supported version number, 2 octets.
    const data = Buffer.alloc(2);
    data.writeUInt16BE(BGP_VERSION);
    throw openError(OpenSubcode.UnsupportedVersionNumber, `unsupported BGP version ${version}`, data);
  }
  const myAs = buf.readUInt16BE(off + 1);
  const holdTime = buf.readUInt16BE(off + 3);
  const bgpIdBytes = buf.subarray(off + 5, off + 9);
  let paramsLen = buf[off + 9]!;
  off += 10;
  let extended = false;
  // RFC 9072 2: Non-Ext OP Len 255 and Non-Ext OP Type 255 mean a 2-octet Extended Length follows
  // and every parameter has a 2-octet length.
  if (paramsLen === 255 && buf.length > off && buf[off] === PARAM_EXTENDED) {
    if (buf.length < off + 3) throw openError(OpenSubcode.Unspecific, 'truncated extended parameters length');
    paramsLen = buf.readUInt16BE(off + 1);
    off += 3;
    extended = true;
  }
  if (off + paramsLen !== buf.length) {
    throw openError(
      OpenSubcode.Unspecific,
      `optional parameters length ${paramsLen} does not match the message length ${buf.length}`,
    );
  }
  // RFC 4271 6.2: Hold Time of one or two seconds is unacceptable.
  if (holdTime === 1 || holdTime === 2) {
    throw openError(OpenSubcode.UnacceptableHoldTime, `unacceptable hold time ${holdTime}`);
  }
  // RFC 6286 2.2: the BGP Identifier is a non-zero 4-octet value (and no longer must be a host
  // address); equality with our own identifier is the session's check.
  if (bgpIdBytes.readUInt32BE(0) === 0)
    throw openError(OpenSubcode.BadBgpIdentifier, 'BGP identifier 0.0.0.0');

  const capabilities: Capability[] = [];
  const headLen = extended ? 3 : 2;
  while (off < buf.length) {
    if (buf.length - off < headLen) throw openError(OpenSubcode.Unspecific, 'truncated optional parameter');
    const type = buf[off]!;
    const len = extended ? buf.readUInt16BE(off + 1) : buf[off + 1]!;
    off += headLen;
    if (off + len > buf.length)
      throw openError(OpenSubcode.Unspecific, `optional parameter ${type} overruns`);
    if (type !== PARAM_CAPABILITIES) {
      // RFC 4271 6.2; type 1 (Authentication) is deprecated by RFC 5492 and equally unsupported.
      throw openError(OpenSubcode.UnsupportedOptionalParameter, `unsupported optional parameter ${type}`);
    }
    decodeCapabilities(buf, off, off + len, capabilities);
    off += len;
  }
  return { type: 1, version, myAs, holdTime, bgpId: formatAddress(bgpIdBytes), capabilities };
}

function parseBgpId(text: string): Buffer {
  let bytes: Buffer;
  try {
    bytes = parseAddress(text);
  } catch {
    throw new Error(`BGP identifier ${JSON.stringify(text)} is not a dotted quad`);
  }
  if (bytes.length !== 4) throw new Error(`BGP identifier ${text} is not an IPv4 address`);
  return bytes;
}

/**
 * Encodes an OPEN. Capabilities are packed into as few Capabilities parameters of at most 255
 * bytes as possible; if all parameters exceed 255 bytes the RFC 9072 format is used.
 * `myAs` must fit 2 octets: use `openMyAs(asn)` and a capability 65 for larger ASNs.
 */
export function encodeOpen(msg: OpenMessage): Buffer {
  checkRange(msg.version, 0xff, 'BGP version');
  checkRange(msg.myAs, 0xffff, 'My Autonomous System (use openMyAs for 4-octet ASNs)');
  checkRange(msg.holdTime, 0xffff, 'hold time');
  const params: { type: number; value: Buffer }[] = [];
  let current: Buffer[] = [];
  let currentLen = 0;
  for (const cap of msg.capabilities) {
    const cw = new ByteWriter(16);
    encodeCapability(cw, cap);
    const bytes = cw.finish();
    if (currentLen + bytes.length > 255 && current.length > 0) {
      params.push({ type: PARAM_CAPABILITIES, value: Buffer.concat(current) });
      current = [];
      currentLen = 0;
    }
    current.push(bytes);
    currentLen += bytes.length;
  }
  if (current.length > 0) params.push({ type: PARAM_CAPABILITIES, value: Buffer.concat(current) });
  for (const p of msg.otherParameters ?? []) params.push({ type: p.type, value: p.value });

  const plainLen = params.reduce((n, p) => n + 2 + p.value.length, 0);
  const extended = plainLen > 255 || params.some((p) => p.value.length > 255);
  const w = startMessage(MessageType.Open, 64 + plainLen);
  w.u8(msg.version).u16(msg.myAs).u16(msg.holdTime).bytes(parseBgpId(msg.bgpId));
  if (extended) {
    // RFC 9072 2.
    w.u8(255)
      .u8(PARAM_EXTENDED)
      .u16(plainLen + params.length);
    for (const p of params) w.u8(p.type).u16(p.value.length).bytes(p.value);
  } else {
    w.u8(plainLen);
    for (const p of params) w.u8(p.type).u8(p.value.length).bytes(p.value);
  }
  return finishMessage(w);
}
