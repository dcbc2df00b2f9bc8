/**
 * The status document (DESIGN.md "Status JSON"), served by the local API and printed by
 * `podroute status --json`. Other tools parse it: keep the contract's names and shapes.
 */

export interface BgpPeerStatus {
  address: string;
  asn: number;
  state: 'Idle' | 'Connect' | 'Active' | 'OpenSent' | 'OpenConfirm' | 'Established';
  uptimeSeconds: number;
  prefixesSent: number;
  prefixesReceived: number;
  lastError: string | null;
  /** Extra fields beyond the contract are allowed (description, counters, …). */
  [extra: string]: unknown;
}

export interface BgpSectionStatus {
  asn: number;
  peers: BgpPeerStatus[];
}

export interface OspfNeighborStatus {
  routerId: string;
  address: string;
  state: string;
  [extra: string]: unknown;
}

export interface OspfInterfaceStatus {
  name: string;
  state: string;
  neighbors: OspfNeighborStatus[];
  [extra: string]: unknown;
}

export interface OspfSectionStatus {
  routerId: string;
  interfaces: OspfInterfaceStatus[];
  [extra: string]: unknown;
}

export interface StatusDocument {
  node: string;
  routerId: string;
  announced: string[];
  bgp?: BgpSectionStatus;
  ospf?: OspfSectionStatus;
  [extra: string]: unknown;
}
