/**
 * The BGP message header (RFC 4271 4.1) and the framing checks of RFC 4271 6.1.
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                                                               |
 *  +                           Marker (16 x 0xFF)                  +
 *  |                                                               |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |          Length               |      Type     |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */

import {
  BgpDecodeError,
  ErrorCode,
  HEADER_LENGTH,
  HeaderSubcode,
  MAX_MESSAGE_LENGTH,
  MessageType,
} from './types.js';
import { ByteWriter } from './writer.js';

/** RFC 4271 4.2, 4.3, 4.5, 4.4 and RFC 2918 3: the smallest valid length of each message type. */
export const MIN_LENGTH: Readonly<Record<number, number>> = {
  [MessageType.Open]: 29,
  [MessageType.Update]: 23,
  [MessageType.Notification]: 21,
  [MessageType.Keepalive]: 19,
  [MessageType.RouteRefresh]: 23,
};

export function badLength(length: number, why: string): BgpDecodeError {
  // RFC 4271 6.1: the Data field is the erroneous Length field.
  const data = Buffer.alloc(2);
  data.writeUInt16BE(length);
  return new BgpDecodeError(
    ErrorCode.MessageHeader,
    HeaderSubcode.BadMessageLength,
    data,
    `bad message length ${length}: ${why}`,
  );
}

/**
 * Framing for a TCP byte stream: the length of the message starting at `buf[0]`, or undefined
 * while fewer than 19 bytes are available. Checks the marker and the Length field as RFC 4271 6.1
 * prescribes (1/1 Connection Not Synchronized, 1/2 Bad Message Length with the length as data),
 * including the per-type minimum lengths; an unknown type is left to `decodeMessage` (1/3).
 */
export function messageLength(buf: Buffer): number | undefined {
  if (buf.length < HEADER_LENGTH) return undefined;
  for (let i = 0; i < 16; i++) {
    if (buf[i] !== 0xff) {
      throw new BgpDecodeError(
        ErrorCode.MessageHeader,
        HeaderSubcode.ConnectionNotSynchronized,
        Buffer.alloc(0),
        'marker is not all ones',
      );
    }
  }
  const length = buf.readUInt16BE(16);
  const type = buf[18]!;
  if (length < HEADER_LENGTH || length > MAX_MESSAGE_LENGTH) {
    throw badLength(length, `outside ${HEADER_LENGTH}..${MAX_MESSAGE_LENGTH}`);
  }
  const min = MIN_LENGTH[type];
  if (min !== undefined) {
    // RFC 4271 6.1: a KEEPALIVE is exactly 19 bytes; the others have a minimum.
    if (type === MessageType.Keepalive ? length !== min : length < min) {
      throw badLength(length, `too short for message type ${type} (minimum ${min})`);
    }
  }
  return length;
}

/** Starts a message: marker, a length to patch in `finishMessage`, and the type. */
export function startMessage(type: number, sizeHint = 64): ByteWriter {
  const w = new ByteWriter(Math.max(sizeHint, HEADER_LENGTH + 16));
  for (let i = 0; i < 16; i++) w.u8(0xff);
  w.reserve(2);
  w.u8(type);
  return w;
}

/** Writes the length into the header; a message over 4096 bytes is a caller bug (RFC 4271 4.1). */
export function finishMessage(w: ByteWriter): Buffer {
  if (w.length > MAX_MESSAGE_LENGTH) {
    throw new Error(`BGP message of ${w.length} bytes exceeds the ${MAX_MESSAGE_LENGTH}-byte maximum`);
  }
  w.patchU16(16, w.length);
  return w.finish();
}
