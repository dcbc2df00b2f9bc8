/**
 * The BFD Control packet (RFC 5880 4.1, authentication section 4.2): a pure codec, Buffer in and a
 * typed packet out, and back. `decodeControl` applies the reception checks of RFC 5880 6.8.6 that
 * need nothing but the packet itself; the checks that need session state (discriminator lookup,
 * authentication in use) belong to the session and the manager.
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |Vers |  Diag   |Sta|P|F|C|A|D|M|  Detect Mult  |    Length     |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                       My Discriminator                        |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                      Your Discriminator                       |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                    Desired Min TX Interval                    |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                   Required Min RX Interval                    |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                 Required Min Echo RX Interval                 |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  An optional Authentication Section follows when A is set:
 *  |   Auth Type   |   Auth Len    |    Authentication Data...     |
 *
 * Intervals are in microseconds on the wire and in the model. Length and Version are framing and
 * not part of the model: the encoder writes them.
 */
import { BFD_VERSION, BfdState } from './constants.js';

/** RFC 5880 4.1: the mandatory section. */
export const CONTROL_LEN = 24;

/** RFC 5880 4.2: Auth Type values. */
export enum BfdAuthType {
  SimplePassword = 1,
  KeyedMd5 = 2,
  MeticulousKeyedMd5 = 3,
  KeyedSha1 = 4,
  MeticulousKeyedSha1 = 5,
}

/** The Authentication Section as received (RFC 5880 4.2); bytes after the Key ID kept as they are. */
export interface BfdAuth {
  type: number;
  keyId: number;
  data: Buffer;
}

export interface BfdControlPacket {
  diag: number;
  state: BfdState;
  /** P: the sender asks for a Final (Poll Sequence, RFC 5880 6.5). */
  poll: boolean;
  /** F: the answer to a Poll. */
  final: boolean;
  /** C: Control Plane Independent. */
  cpi: boolean;
  /** D: Demand mode active at the sender. */
  demand: boolean;
  detectMult: number;
  myDiscriminator: number;
  yourDiscriminator: number;
  desiredMinTxUs: number;
  requiredMinRxUs: number;
  requiredMinEchoRxUs: number;
  /** Present exactly when the A bit is set. */
  auth?: BfdAuth;
}

/** Why a packet was discarded by the codec: stable strings, used as drop counter keys. */
export type BfdDecodeReason =
  | 'bad-version'
  | 'bad-length'
  | 'zero-detect-mult'
  | 'multipoint'
  | 'zero-my-discriminator'
  | 'zero-your-discriminator'
  | 'bad-auth-length';

export class BfdDecodeError extends Error {
  constructor(
    readonly reason: BfdDecodeReason,
    message: string,
  ) {
    super(message);
    this.name = 'BfdDecodeError';
  }
}

/** RFC 5880 4.2.2-4.2.4: the Auth Len each defined type requires (simple password: a range). */
function authLenOk(type: number, len: number): boolean {
  switch (type) {
    case BfdAuthType.SimplePassword:
      return len >= 4 && len <= 19;
    case BfdAuthType.KeyedMd5:
    case BfdAuthType.MeticulousKeyedMd5:
      return len === 24;
    case BfdAuthType.KeyedSha1:
    case BfdAuthType.MeticulousKeyedSha1:
      return len === 28;
    default:
      // Reserved types: at least Type, Len and a Key ID; the session discards them anyway.
      return len >= 3;
  }
}

/**
 * Decodes a Control packet from a UDP payload; throws `BfdDecodeError` for a packet RFC 5880 6.8.6
 * says to discard. Bytes after Length are ignored (RFC 5880 6.8.6 compares Length with the payload).
 */
export function decodeControl(buf: Buffer): BfdControlPacket {
  if (buf.length < CONTROL_LEN) {
    throw new BfdDecodeError('bad-length', `${buf.length} bytes received, a Control packet has 24`);
  }
  const b0 = buf[0]!;
  const version = b0 >> 5;
  if (version !== BFD_VERSION) throw new BfdDecodeError('bad-version', `version ${version}`);
  const b1 = buf[1]!;
  const authPresent = (b1 & 0x04) !== 0;
  const length = buf[3]!;
  const minLength = authPresent ? CONTROL_LEN + 2 : CONTROL_LEN;
  if (length < minLength || length > buf.length) {
    throw new BfdDecodeError('bad-length', `Length ${length} with ${buf.length} bytes received`);
  }
  const detectMult = buf[2]!;
  if (detectMult === 0) throw new BfdDecodeError('zero-detect-mult', 'Detect Mult is zero');
  if ((b1 & 0x01) !== 0) throw new BfdDecodeError('multipoint', 'Multipoint (M) bit set');
  const myDiscriminator = buf.readUInt32BE(4);
  if (myDiscriminator === 0) throw new BfdDecodeError('zero-my-discriminator', 'My Discriminator is zero');
  const state = (b1 >> 6) as BfdState;
  const yourDiscriminator = buf.readUInt32BE(8);
  if (yourDiscriminator === 0 && state !== BfdState.Down && state !== BfdState.AdminDown) {
    throw new BfdDecodeError('zero-your-discriminator', `Your Discriminator zero in state ${state}`);
  }
  const packet: BfdControlPacket = {
    diag: b0 & 0x1f,
    state,
    poll: (b1 & 0x20) !== 0,
    final: (b1 & 0x10) !== 0,
    cpi: (b1 & 0x08) !== 0,
    demand: (b1 & 0x02) !== 0,
    detectMult,
    myDiscriminator,
    yourDiscriminator,
    desiredMinTxUs: buf.readUInt32BE(12),
    requiredMinRxUs: buf.readUInt32BE(16),
    requiredMinEchoRxUs: buf.readUInt32BE(20),
  };
  if (authPresent) {
    const type = buf[CONTROL_LEN]!;
    const authLen = buf[CONTROL_LEN + 1]!;
    if (!authLenOk(type, authLen) || CONTROL_LEN + authLen > length) {
      throw new BfdDecodeError(
        'bad-auth-length',
        `Auth Len ${authLen} for type ${type} in a ${length}-byte packet`,
      );
    }
    packet.auth = {
      type,
      keyId: buf[CONTROL_LEN + 2]!,
      data: Buffer.from(buf.subarray(CONTROL_LEN + 3, CONTROL_LEN + authLen)),
    };
  }
  return packet;
}

/** Encodes a Control packet; Version 1 and Length are written here. Throws RangeError on bad fields. */
export function encodeControl(p: BfdControlPacket): Buffer {
  if (p.poll && p.final) throw new RangeError('P and F must not both be set (RFC 5880 6.5)');
  const authLen = p.auth ? 3 + p.auth.data.length : 0;
  const out = Buffer.alloc(CONTROL_LEN + authLen);
  if (out.length > 255) throw new RangeError(`packet of ${out.length} bytes does not fit Length`);
  out[0] = (BFD_VERSION << 5) | (p.diag & 0x1f);
  out[1] =
    ((p.state & 0x03) << 6) |
    (p.poll ? 0x20 : 0) |
    (p.final ? 0x10 : 0) |
    (p.cpi ? 0x08 : 0) |
    (p.auth ? 0x04 : 0) |
    (p.demand ? 0x02 : 0);
  out.writeUInt8(p.detectMult, 2);
  out[3] = out.length;
  out.writeUInt32BE(p.myDiscriminator, 4);
  out.writeUInt32BE(p.yourDiscriminator, 8);
  out.writeUInt32BE(p.desiredMinTxUs, 12);
  out.writeUInt32BE(p.requiredMinRxUs, 16);
  out.writeUInt32BE(p.requiredMinEchoRxUs, 20);
  if (p.auth) {
    out[CONTROL_LEN] = p.auth.type;
    out[CONTROL_LEN + 1] = authLen;
    out[CONTROL_LEN + 2] = p.auth.keyId;
    p.auth.data.copy(out, CONTROL_LEN + 3);
  }
  return out;
}
