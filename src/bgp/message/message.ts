/**
 * Whole messages: `decodeMessage` checks the header (RFC 4271 6.1) and dispatches on the type;
 * `encodeMessage` does the reverse. Both are pure: no session state but the CodecContext.
 */
import { messageLength } from './header.js';
import { encodeKeepalive, KEEPALIVE } from './keepalive.js';
import { decodeNotification, encodeNotification } from './notification.js';
import { decodeOpen, encodeOpen } from './open.js';
import { decodeRouteRefresh, encodeRouteRefresh } from './route-refresh.js';
import {
  BgpDecodeError,
  type CodecContext,
  ErrorCode,
  HeaderSubcode,
  type Message,
  MessageType,
} from './types.js';
import { decodeUpdate, encodeUpdate } from './update.js';

/**
 * Decodes one whole message (header included). Throws BgpDecodeError carrying the NOTIFICATION
 * that RFC 4271 6 (with RFC 7606 for UPDATE) prescribes; UPDATE attribute errors that do not
 * reset the session are reported in `UpdateMessage.errors` instead.
 */
export function decodeMessage(buf: Buffer, ctx: CodecContext): Message {
  const length = messageLength(buf);
  if (length === undefined || length !== buf.length) {
    const data = Buffer.alloc(2);
    const field = buf.length >= 18 ? buf.readUInt16BE(16) : buf.length;
    data.writeUInt16BE(field);
    throw new BgpDecodeError(
      ErrorCode.MessageHeader,
      HeaderSubcode.BadMessageLength,
      data,
      `length field ${field} does not match the ${buf.length} bytes given`,
    );
  }
  const type = buf[18]!;
  switch (type) {
    case MessageType.Open:
      return decodeOpen(buf);
    case MessageType.Update:
      return decodeUpdate(buf, ctx);
    case MessageType.Notification:
      return decodeNotification(buf);
    case MessageType.Keepalive:
      return KEEPALIVE;
    case MessageType.RouteRefresh:
      return decodeRouteRefresh(buf);
    default:
      // RFC 4271 6.1: Data is the erroneous Type field.
      throw new BgpDecodeError(
        ErrorCode.MessageHeader,
        HeaderSubcode.BadMessageType,
        Buffer.from([type]),
        `unknown message type ${type}`,
      );
  }
}

/**
 * Encodes a whole message with its header; never mutates `msg`. Throws a plain Error for a
 * message the wire cannot carry (over 4096 bytes, values out of range).
 */
export function encodeMessage(msg: Message, ctx: CodecContext): Buffer {
  switch (msg.type) {
    case MessageType.Open:
      return encodeOpen(msg);
    case MessageType.Update:
      return encodeUpdate(msg, ctx);
    case MessageType.Notification:
      return encodeNotification(msg);
    case MessageType.Keepalive:
      return encodeKeepalive();
    case MessageType.RouteRefresh:
      return encodeRouteRefresh(msg);
  }
}
