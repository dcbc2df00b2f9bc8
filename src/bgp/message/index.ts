/**
 * BGP-4 message codecs (pure): Buffer in, typed Message out, and back.
 *
 * File map: `types.ts` model and error class; `header.ts` header + framing checks; `reader.ts`
 * stream splitting; `open.ts` + `capability.ts`; `update.ts` with `nlri.ts` and `attributes/`
 * (table-driven by type code); `notification.ts`; `keepalive.ts`; `route-refresh.ts`;
 * `describe.ts` error names; `message.ts` dispatch.
 *
 * Supported standards: RFC 4271 (BGP-4), RFC 7606 (revised UPDATE error handling), RFC 6793
 * (4-octet AS), RFC 4760 (multiprotocol), RFC 2545 (IPv6 next hop), RFC 5492 (capabilities),
 * RFC 9072 (extended optional parameters length), RFC 2918 / RFC 7313 (route refresh),
 * RFC 4724 / RFC 8538 (graceful restart, End-of-RIB), RFC 1997 / RFC 8092 (communities),
 * RFC 9003 (shutdown communication), RFC 4486 / RFC 6608 / RFC 9384 (error subcodes).
 */

export { describeNotification } from './describe.js';
export { MIN_LENGTH, messageLength } from './header.js';
export { encodeKeepalive, KEEPALIVE } from './keepalive.js';
export { decodeMessage, encodeMessage } from './message.js';
export { MAX_SHUTDOWN_MESSAGE_BYTES, notificationFor, truncateUtf8 } from './notification.js';
export { BGP_VERSION, openMyAs, openPeerAs } from './open.js';
export { MessageReader } from './reader.js';
export { RouteRefreshSubtype } from './route-refresh.js';
export * from './types.js';
export { endOfRib, isEndOfRib } from './update.js';
