/**
 * BGP connection collision resolution (RFC 4271 6.8): when both speakers open a connection at
 * once, the OPEN of the second one decides which connection survives. A pure choice over the two
 * connections; the session dumps the loser with OpenCollisionDump (Event 23, Cease/7).
 */
import type { BgpState } from './fsm.js';
import { compareBgpIds } from './negotiate.js';

export interface CollisionSide {
  /** The peer opened this connection. */
  readonly inbound: boolean;
  readonly state: BgpState;
}

/**
 * Which of `fresh` (whose OPEN just arrived) and `other` (OpenConfirm or Established) to close.
 * RFC 4271 6.8: an Established session always wins; otherwise the connection opened by the side
 * with the higher BGP Identifier survives. Two connections in the same direction (the peer dialled
 * twice) keep the newer one.
 */
export function collisionLoser<T extends CollisionSide>(
  fresh: T,
  other: T,
  localId: string,
  peerId: string,
): T {
  if (other.state === 'Established') return fresh;
  if (fresh.inbound === other.inbound) return other;
  const keepInbound = compareBgpIds(localId, peerId) < 0;
  return fresh.inbound === keepInbound ? other : fresh;
}
