/**
 * What a BGP session counts: messages in and out by type (RFC 4271 4.1 header type codes),
 * malformed input (RFC 4271 6), RFC 7606 treat-as-withdraw UPDATEs, NOTIFICATIONs, flaps, and the
 * events dropped because the connection they belonged to was already gone. Shown per peer in the
 * status JSON and as Prometheus metrics.
 */

export type MessageKind = 'open' | 'update' | 'notification' | 'keepalive' | 'routeRefresh';

/** RFC 4271 4.1 message type codes (5 = RFC 2918 ROUTE-REFRESH). */
export const MESSAGE_KIND: Readonly<Record<1 | 2 | 3 | 4 | 5, MessageKind>> = {
  1: 'open',
  2: 'update',
  3: 'notification',
  4: 'keepalive',
  5: 'routeRefresh',
};

export interface SessionCounters {
  messagesIn: Record<MessageKind, number>;
  messagesOut: Record<MessageKind, number>;
  /** Messages that failed to decode (each answered with the NOTIFICATION of its BgpDecodeError). */
  malformed: number;
  /** UPDATEs with RFC 7606 treat-as-withdraw errors. */
  treatAsWithdraw: number;
  notificationsIn: number;
  notificationsOut: number;
  updatesReceived: number;
  /** Times an Established session went down. */
  flaps: number;
  /**
   * Events dropped because their connection was closed or replaced first, e.g. the messages that
   * followed, in the same TCP read, an UPDATE that made us stop the session.
   */
  staleEvents: number;
  /** Sessions torn down because the peer stopped reading what we send (RFC 9687 send hold timer). */
  sendHoldExpired: number;
}

const zeroKinds = (): Record<MessageKind, number> => ({
  open: 0,
  update: 0,
  notification: 0,
  keepalive: 0,
  routeRefresh: 0,
});

export function zeroCounters(): SessionCounters {
  return {
    messagesIn: zeroKinds(),
    messagesOut: zeroKinds(),
    malformed: 0,
    treatAsWithdraw: 0,
    notificationsIn: 0,
    notificationsOut: 0,
    updatesReceived: 0,
    flaps: 0,
    staleEvents: 0,
    sendHoldExpired: 0,
  };
}
