/**
 * NOTIFICATION (RFC 4271 4.5) with the Shutdown Communication of RFC 9003.
 *
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  | Error code    | Error subcode |   Data (variable)             |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * RFC 9003 2: for Cease / Administrative Shutdown (2) and Administrative Reset (4) the data may be
 * a length octet followed by that many octets of UTF-8 text (at most 255).
 */
import { checkRange } from './capability.js';
import { finishMessage, startMessage } from './header.js';
import {
  type BgpDecodeError,
  CeaseSubcode,
  ErrorCode,
  HEADER_LENGTH,
  MessageType,
  type NotificationMessage,
} from './types.js';

/** RFC 9003 2: the longest Shutdown Communication, in octets. */
export const MAX_SHUTDOWN_MESSAGE_BYTES = 255;

const utf8 = new TextDecoder('utf-8', { fatal: true });

function carriesShutdownMessage(code: number, subcode: number): boolean {
  return (
    code === ErrorCode.Cease &&
    (subcode === CeaseSubcode.AdministrativeShutdown || subcode === CeaseSubcode.AdministrativeReset)
  );
}

export function decodeNotification(buf: Buffer): NotificationMessage {
  const code = buf[HEADER_LENGTH]!;
  const subcode = buf[HEADER_LENGTH + 1]!;
  const data = Buffer.from(buf.subarray(HEADER_LENGTH + 2));
  const shutdownMessage = carriesShutdownMessage(code, subcode) ? readShutdownMessage(data) : undefined;
  if (shutdownMessage === undefined) return { type: 3, code, subcode, data };
  return { type: 3, code, subcode, data, shutdownMessage };
}

/**
 * RFC 9003 2: a communication with an inconsistent length or invalid UTF-8 is not used (the raw
 * data stays in `data` for the log). Data with bytes after the communication is not one either.
 */
function readShutdownMessage(data: Buffer): string | undefined {
  if (data.length === 0) return undefined;
  const len = data[0]!;
  if (data.length !== 1 + len) return undefined;
  try {
    return utf8.decode(data.subarray(1));
  } catch {
    return undefined;
  }
}

/**
 * Truncates `text` to at most `maxBytes` of UTF-8 without splitting a character, so a caller can
 * always fit an operator's reason into a Shutdown Communication.
 */
export function truncateUtf8(text: string, maxBytes = MAX_SHUTDOWN_MESSAGE_BYTES): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return text;
  let end = maxBytes;
  // Back up over continuation bytes (10xxxxxx) to a character boundary.
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString('utf8');
}

/** Encodes a NOTIFICATION; `shutdownMessage`, when given, replaces `data` (RFC 9003 2). */
export function encodeNotification(msg: NotificationMessage): Buffer {
  checkRange(msg.code, 0xff, 'error code');
  checkRange(msg.subcode, 0xff, 'error subcode');
  const w = startMessage(MessageType.Notification, 32 + msg.data.length);
  w.u8(msg.code).u8(msg.subcode);
  if (msg.shutdownMessage !== undefined) {
    const text = Buffer.from(msg.shutdownMessage, 'utf8');
    if (text.length > MAX_SHUTDOWN_MESSAGE_BYTES) {
      throw new Error(`shutdown communication of ${text.length} bytes exceeds 255 (use truncateUtf8)`);
    }
    w.u8(text.length).bytes(text);
  } else {
    w.bytes(msg.data);
  }
  return finishMessage(w);
}

/** The NOTIFICATION a decode error prescribes (RFC 4271 6), ready for `encodeMessage`. */
export function notificationFor(err: BgpDecodeError): NotificationMessage {
  return { type: 3, code: err.code, subcode: err.subcode, data: err.data };
}
