/**
 * ROUTE-REFRESH (RFC 2918 3) with the Message Subtype of RFC 7313 3 (0 normal request,
 * 1 Beginning of Route Refresh, 2 End of Route Refresh).
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |              AFI              |  Subtype      |     SAFI      |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Subtypes 3..255 decode as they are: RFC 7313 5 has the session ignore them.
 */
import { checkRange } from './capability.js';
import { badLength, finishMessage, startMessage } from './header.js';
import {
  BgpDecodeError,
  ErrorCode,
  HEADER_LENGTH,
  MessageType,
  type RouteRefreshMessage,
  RouteRefreshSubcode,
} from './types.js';

export const RouteRefreshSubtype = { Normal: 0, BeginningOfRefresh: 1, EndOfRefresh: 2 } as const;

/** `buf` is the whole message, at least 23 bytes (checked by `messageLength`). */
export function decodeRouteRefresh(buf: Buffer): RouteRefreshMessage {
  const afi = buf.readUInt16BE(HEADER_LENGTH);
  const subtype = buf[HEADER_LENGTH + 2]!;
  const safi = buf[HEADER_LENGTH + 3]!;
  if (buf.length !== HEADER_LENGTH + 4) {
    if (subtype === RouteRefreshSubtype.BeginningOfRefresh || subtype === RouteRefreshSubtype.EndOfRefresh) {
      // RFC 7313 5: Data is the complete ROUTE-REFRESH message.
      throw new BgpDecodeError(
        ErrorCode.RouteRefresh,
        RouteRefreshSubcode.InvalidMessageLength,
        Buffer.from(buf),
        `ROUTE-REFRESH subtype ${subtype} of length ${buf.length}, expected 23`,
      );
    }
    throw badLength(buf.length, 'ROUTE-REFRESH must be 23 bytes');
  }
  return { type: 5, afi, safi, subtype };
}

export function encodeRouteRefresh(msg: RouteRefreshMessage): Buffer {
  checkRange(msg.afi, 0xffff, 'AFI');
  checkRange(msg.safi, 0xff, 'SAFI');
  checkRange(msg.subtype, 0xff, 'ROUTE-REFRESH subtype');
  return finishMessage(startMessage(MessageType.RouteRefresh, 23).u16(msg.afi).u8(msg.subtype).u8(msg.safi));
}
