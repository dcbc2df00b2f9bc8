/**
 * OSPFv2 architectural constants (RFC 2328 Appendix B) and protocol numbers (RFC 2328 A.1, A.3.1).
 * Times are in seconds, as on the wire; the engine converts to milliseconds at the timer.
 */

export const OSPF_VERSION = 2;
export const IP_PROTO_OSPF = 89;
export const ALL_SPF_ROUTERS = '224.0.0.5';
export const ALL_D_ROUTERS = '224.0.0.6';

/** RFC 2328 B: LSRefreshTime, MinLSInterval, MinLSArrival, MaxAge, CheckAge, MaxAgeDiff. */
export const LS_REFRESH_TIME = 1800;
export const MIN_LS_INTERVAL = 5;
export const MIN_LS_ARRIVAL = 1;
export const MAX_AGE = 3600;
export const CHECK_AGE = 300;
export const MAX_AGE_DIFF = 900;
export const LS_INFINITY = 0xffffff;
/**
 * RFC 6987 2: MaxLinkMetric, the largest 16-bit router-LSA link cost. Unlike LSInfinity it is not
 * "unreachable" (RFC 2328 16.1 uses every link of a router-LSA), only the last resort.
 */
export const MAX_LINK_METRIC = 0xffff;
export const INF_TRANS_DELAY = 1;

/** RFC 2328 12.1.6: sequence numbers are signed 32-bit, InitialSequenceNumber is 0x80000001. */
export const INITIAL_SEQ = -0x7fffffff;
export const MAX_SEQ = 0x7fffffff;

export enum PacketType {
  Hello = 1,
  DbDescription = 2,
  LsRequest = 3,
  LsUpdate = 4,
  LsAck = 5,
}

export enum LsType {
  Router = 1,
  Network = 2,
  SummaryNetwork = 3,
  SummaryAsbr = 4,
  AsExternal = 5,
}

/** RFC 2328 A.2 options byte (plus the later DN/O/L bits seen on the wire, RFC 4576, 5250, 5613). */
export const Options = {
  DN: 0x80,
  O: 0x40,
  DC: 0x20,
  L: 0x10,
  NP: 0x08,
  MC: 0x04,
  E: 0x02,
  T: 0x01,
} as const;

/** RFC 2328 A.3.3 DD flags. */
export const DdFlags = { I: 0x04, M: 0x02, MS: 0x01 } as const;

export enum AuType {
  None = 0,
  Simple = 1,
  Crypto = 2,
}

/** RFC 2328 A.4.2 router-LSA link types. */
export enum LinkType {
  PointToPoint = 1,
  Transit = 2,
  Stub = 3,
  Virtual = 4,
}
