/**
 * The typed model of BGP-4 messages (RFC 4271 4) that the codecs decode to and encode from.
 *
 * The model never carries wire lengths or flags that the encoder derives (message length, attribute
 * length, extended-length bit): an encoder computes them, so a decoded message re-encodes to the
 * same bytes and a hand-built one cannot be inconsistent.
 */
import type { Prefix } from '../../net/prefix.js';

/** RFC 4271 4.1 message types, RFC 2918 3 ROUTE-REFRESH. */
export const MessageType = {
  Open: 1,
  Update: 2,
  Notification: 3,
  Keepalive: 4,
  RouteRefresh: 5,
} as const;
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

/** Address family identifiers (IANA) and the one SAFI podroute speaks. */
export const Afi = { Ipv4: 1, Ipv6: 2 } as const;
export type Afi = (typeof Afi)[keyof typeof Afi];
export const Safi = { Unicast: 1 } as const;

export interface AfiSafi {
  readonly afi: number;
  readonly safi: number;
}

/** RFC 4271 4.1: 16-byte marker + 2-byte length + 1-byte type. */
export const HEADER_LENGTH = 19;
/** RFC 4271 4.1 maximum message size (RFC 8654 extended messages are not negotiated). */
export const MAX_MESSAGE_LENGTH = 4096;
/** RFC 6793 4.2.3 AS_TRANS, sent as My Autonomous System when the real ASN needs 4 octets. */
export const AS_TRANS = 23456;

// ===== OPEN (RFC 4271 4.2) and capabilities (RFC 5492) =====

/** Capability codes (IANA). */
export const CapabilityCode = {
  Multiprotocol: 1, // RFC 4760 8
  RouteRefresh: 2, // RFC 2918 2
  ExtendedMessage: 6, // RFC 8654
  GracefulRestart: 64, // RFC 4724 3
  FourOctetAs: 65, // RFC 6793 3
  AddPath: 69, // RFC 7911
  EnhancedRouteRefresh: 70, // RFC 7313
} as const;

export interface GracefulRestartFamily extends AfiSafi {
  /** F bit: forwarding state was preserved for this family. */
  readonly forwardingPreserved: boolean;
}

/**
 * A capability. Known ones carry `unknown?: false` so that `if (cap.unknown)` separates the
 * byte-for-byte variant and a `switch (cap.code)` then narrows the rest.
 */
export type Capability =
  | ({ readonly code: 1; readonly unknown?: false } & AfiSafi)
  | { readonly code: 2; readonly unknown?: false }
  | { readonly code: 65; readonly asn: number; readonly unknown?: false }
  | {
      readonly code: 64;
      readonly unknown?: false;
      /** R bit (RFC 4724 3): the sender has restarted. */
      readonly restarting: boolean;
      /** N bit (RFC 8538 2): notifications are handled gracefully. */
      readonly notification: boolean;
      /** Seconds, 12 bits. */
      readonly restartTime: number;
      readonly families: readonly GracefulRestartFamily[];
    }
  /** Any other capability, kept byte for byte and ignored (RFC 5492 3). */
  | { readonly code: number; readonly value: Buffer; readonly unknown: true };

export interface OpenMessage {
  readonly type: 1;
  /** Always 4 on the wire. */
  readonly version: number;
  /** My Autonomous System as sent: AS_TRANS when the real ASN is 4 octets. */
  readonly myAs: number;
  readonly holdTime: number;
  /** Dotted quad. */
  readonly bgpId: string;
  /** Capabilities from all Capabilities optional parameters (type 2), in wire order. */
  readonly capabilities: readonly Capability[];
  /** Optional parameters other than capabilities, kept (RFC 4271 6.2 makes them an error). */
  readonly otherParameters?: readonly { readonly type: number; readonly value: Buffer }[];
}

// ===== UPDATE (RFC 4271 4.3) and path attributes =====

export const AttrType = {
  Origin: 1,
  AsPath: 2,
  NextHop: 3,
  MultiExitDisc: 4,
  LocalPref: 5,
  AtomicAggregate: 6,
  Aggregator: 7,
  Communities: 8, // RFC 1997
  MpReachNlri: 14, // RFC 4760 3
  MpUnreachNlri: 15, // RFC 4760 4
  As4Path: 17, // RFC 6793 3
  As4Aggregator: 18,
  LargeCommunity: 32, // RFC 8092
} as const;

/** Attribute flag bits, RFC 4271 4.3. */
export const AttrFlag = {
  Optional: 0x80,
  Transitive: 0x40,
  Partial: 0x20,
  ExtendedLength: 0x10,
} as const;

export const Origin = { Igp: 0, Egp: 1, Incomplete: 2 } as const;
export type Origin = (typeof Origin)[keyof typeof Origin];

/** AS_PATH segment types, RFC 4271 4.3 (b) and RFC 5065 for confederations. */
export const SegmentType = { AsSet: 1, AsSequence: 2, ConfedSequence: 3, ConfedSet: 4 } as const;

export interface AsPathSegment {
  readonly type: number;
  readonly asns: readonly number[];
}

export interface MpReach {
  readonly afi: number;
  readonly safi: number;
  /** Global next hop (4 or 16 bytes as text). */
  readonly nextHop: string;
  /** RFC 2545 3: optional IPv6 link-local next hop (next hop length 32). */
  readonly linkLocalNextHop?: string;
  readonly nlri: readonly Prefix[];
}

export interface MpUnreach {
  readonly afi: number;
  readonly safi: number;
  readonly withdrawn: readonly Prefix[];
}

export interface LargeCommunity {
  readonly globalAdmin: number;
  readonly localData1: number;
  readonly localData2: number;
}

/**
 * An attribute this codec does not model. Decoding keeps optional transitive ones (flags as
 * received, without Extended Length) and drops optional non-transitive ones; encoding sets the
 * Partial bit on optional transitive ones, as passing them on requires (RFC 4271 5).
 */
export interface UnknownAttribute {
  readonly flags: number;
  readonly type: number;
  readonly value: Buffer;
}

/**
 * Path attributes by name. AS_PATH is always held with 4-octet ASNs; the codec converts to and
 * from 2-octet encoding with AS4_PATH according to the session's negotiated capability (RFC 6793 4).
 */
export interface PathAttributes {
  origin?: Origin;
  asPath?: readonly AsPathSegment[];
  nextHop?: string;
  med?: number;
  localPref?: number;
  atomicAggregate?: boolean;
  aggregator?: { readonly asn: number; readonly address: string };
  communities?: readonly number[];
  largeCommunities?: readonly LargeCommunity[];
  mpReach?: MpReach;
  mpUnreach?: MpUnreach;
  unknown?: readonly UnknownAttribute[];
}

export interface UpdateMessage {
  readonly type: 2;
  /** IPv4 unicast withdrawals in the legacy field. */
  readonly withdrawn: readonly Prefix[];
  readonly attributes: PathAttributes;
  /** IPv4 unicast NLRI in the legacy field. */
  readonly nlri: readonly Prefix[];
  /**
   * RFC 7606: attribute errors that do not reset the session. `treatAsWithdraw` means every NLRI
   * in the message must be handled as withdrawn; discarded attributes were dropped.
   */
  readonly errors?: readonly AttributeErrorNote[];
}

export interface AttributeErrorNote {
  readonly action: 'treat-as-withdraw' | 'attribute-discard';
  readonly attrType: number;
  readonly reason: string;
  /** The UPDATE Message Error subcode RFC 4271 6.3 names for this error (for logs and counters). */
  readonly subcode?: number;
}

// ===== NOTIFICATION (RFC 4271 4.5) =====

export const ErrorCode = {
  MessageHeader: 1,
  OpenMessage: 2,
  UpdateMessage: 3,
  HoldTimerExpired: 4,
  FiniteStateMachine: 5,
  Cease: 6,
  RouteRefresh: 7, // RFC 7313 5
  SendHoldTimerExpired: 8, // RFC 9687
} as const;

/** RFC 7313 5: ROUTE-REFRESH Message Error subcodes. */
export const RouteRefreshSubcode = { InvalidMessageLength: 1 } as const;

export const HeaderSubcode = {
  ConnectionNotSynchronized: 1,
  BadMessageLength: 2,
  BadMessageType: 3,
} as const;
export const OpenSubcode = {
  UnsupportedVersionNumber: 1,
  BadPeerAs: 2,
  BadBgpIdentifier: 3,
  UnsupportedOptionalParameter: 4,
  UnacceptableHoldTime: 6,
  Unspecific: 0, // RFC 4271 errata 4493
  UnsupportedCapability: 7, // RFC 5492 5
  RoleMismatch: 11, // RFC 9234
} as const;
export const UpdateSubcode = {
  MalformedAttributeList: 1,
  UnrecognizedWellKnownAttribute: 2,
  MissingWellKnownAttribute: 3,
  AttributeFlagsError: 4,
  AttributeLengthError: 5,
  InvalidOriginAttribute: 6,
  InvalidNextHopAttribute: 8,
  OptionalAttributeError: 9,
  InvalidNetworkField: 10,
  MalformedAsPath: 11,
} as const;
export const FsmSubcode = {
  Unspecified: 0,
  UnexpectedInOpenSent: 1, // RFC 6608
  UnexpectedInOpenConfirm: 2,
  UnexpectedInEstablished: 3,
} as const;
export const CeaseSubcode = {
  MaximumPrefixesReached: 1, // RFC 4486
  AdministrativeShutdown: 2,
  PeerDeconfigured: 3,
  AdministrativeReset: 4,
  ConnectionRejected: 5,
  OtherConfigurationChange: 6,
  ConnectionCollisionResolution: 7,
  OutOfResources: 8,
  HardReset: 9, // RFC 8538
  BfdDown: 10, // RFC 9384
} as const;

export interface NotificationMessage {
  readonly type: 3;
  readonly code: number;
  readonly subcode: number;
  readonly data: Buffer;
  /**
   * RFC 9003 shutdown communication, decoded from `data` for Cease / Administrative Shutdown or
   * Administrative Reset; on encode it is written into `data` when given.
   */
  readonly shutdownMessage?: string;
}

export interface KeepaliveMessage {
  readonly type: 4;
}

/** RFC 2918 3; subtype from RFC 7313 (0 normal, 1 BoRR, 2 EoRR). */
export interface RouteRefreshMessage {
  readonly type: 5;
  readonly afi: number;
  readonly safi: number;
  readonly subtype: number;
}

export type Message =
  | OpenMessage
  | UpdateMessage
  | NotificationMessage
  | KeepaliveMessage
  | RouteRefreshMessage;

/**
 * What the codec must know about the session to read and write UPDATEs (RFC 6793 4, RFC 4760).
 * Passed explicitly: a codec holds no session state.
 */
export interface CodecContext {
  /** Both sides advertised the 4-octet AS capability: AS_PATH carries 4-octet ASNs. */
  readonly fourOctetAs: boolean;
}

/**
 * A decode failure carrying the NOTIFICATION the RFC prescribes (RFC 4271 6). The session sends
 * NOTIFICATION(code, subcode, data) and closes.
 */
export class BgpDecodeError extends Error {
  constructor(
    readonly code: number,
    readonly subcode: number,
    readonly data: Buffer,
    message: string,
  ) {
    super(message);
    this.name = 'BgpDecodeError';
  }
}
