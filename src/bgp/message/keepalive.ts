/** KEEPALIVE (RFC 4271 4.4): the header alone, exactly 19 bytes (checked by `messageLength`). */
import { finishMessage, startMessage } from './header.js';
import { type KeepaliveMessage, MessageType } from './types.js';

export const KEEPALIVE: KeepaliveMessage = Object.freeze({ type: 4 });

export function encodeKeepalive(): Buffer {
  return finishMessage(startMessage(MessageType.Keepalive, 19));
}
