/**
 * The status document: what `GET /status` answers, `podroute status --json` prints, the metrics
 * read and the lab checks. Each protocol keeps its own view type next to its state (BgpStatus in
 * src/bgp, OspfStatus in src/ospf, RoutesStatus in src/routes); this module only composes them, so
 * a field a speaker adds shows up here typed, and one it drops or renames fails the build below.
 *
 * Other tools parse this document. `StatusContract` is the part they rely on: names, shapes and
 * the RFC state names (RFC 4271 8.2.2 for BGP, RFC 2328 9.1 and 10.1 for OSPF interfaces and
 * neighbors). Everything else in the views is extra: present today, kept, but not promised.
 */
import type { BfdManagerStatus } from '../bfd/index.js';
import type { BgpPeerStatus, BgpStatus } from '../bgp/speaker.js';
import type { PeerSelectionEntry } from '../config/peer-selection.js';
import type { NodeGcStatus } from '../k8s/node-gc.js';
import type { OspfInterfaceStatus, OspfNeighborStatus, OspfStatus } from '../ospf/status.js';
import type { AwsRoutesStatus } from '../routes/aws/status.js';
import type { RoutesStatus } from '../routes/manager.js';

export type { BgpPeerStatus, BgpStatus, OspfInterfaceStatus, OspfNeighborStatus, OspfStatus, RoutesStatus };

/** The whole document. A section is absent when its protocol (or route management) is off. */
export interface StatusJson {
  node: string;
  routerId: string;
  /** The prefixes the node announces (configured `announce` plus the IPAM aggregate), sorted. */
  announced: string[];
  /** `peerSelection`: which bgp.peers entries apply to this node and why. */
  bgp?: BgpStatus & { peerSelection?: PeerSelectionEntry[] };
  ospf?: OspfStatus;
  routes?: RoutesStatus;
  /** BFD sessions (per BGP peer with `bfd`): state, negotiated intervals, diagnostics, drops. */
  bfd?: BfdManagerStatus;
  /** VPC route tables (`aws:` configured): leadership, plan, last pass, EC2 errors. */
  aws?: AwsRoutesStatus;
  /** The VLAN networks this node holds blocks of (IPAM networks with vlan, gateway, interface). */
  vlans?: VlanStatus[];
  /**
   * Releasing deleted Nodes' blocks (identity from the Kubernetes API): the node-GC Lease's
   * holder, whether this node leads, the holder's renewTime; absent when that is off.
   */
  nodeGc?: NodeGcStatus;
}

/** One VLAN of the node's VLAN data plane (src/routes/vlan-ipam.ts, src/daemon/vlan-wiring.ts). */
export interface VlanStatus {
  /** The IPAM network. */
  network: string;
  vlan: number;
  /** The node's interface on the VLAN, e.g. eth1.100. */
  interface: string;
  gateway: string;
  /** The VLAN's routing table (10000 + vlan). */
  table: number;
  /** Whether the gateway answered the last ping; null before the first one ended. */
  gatewayAlive: boolean | null;
  /** Clock time (ms) the last ping ended, null before. */
  gatewayCheckedAt: number | null;
  /** Pod addresses of the network allocated on this node. */
  pods: number;
  /** This node's blocks of the network. */
  blocks: string[];
}

/** BGP FSM states, RFC 4271 8.2.2. */
export type BgpStateName = 'Idle' | 'Connect' | 'Active' | 'OpenSent' | 'OpenConfirm' | 'Established';
/** OSPF neighbor states, RFC 2328 10.1. */
export type OspfNeighborStateName =
  | 'Down'
  | 'Attempt'
  | 'Init'
  | '2-Way'
  | 'ExStart'
  | 'Exchange'
  | 'Loading'
  | 'Full';
/** OSPF interface states, RFC 2328 9.1. */
export type OspfInterfaceStateName =
  | 'Down'
  | 'Loopback'
  | 'Waiting'
  | 'PointToPoint'
  | 'DROther'
  | 'Backup'
  | 'DR';

/** The fields other tools rely on; every StatusJson is one of these. */
export interface StatusContract {
  node: string;
  routerId: string;
  announced: readonly string[];
  bgp?: {
    asn: number;
    peers: readonly {
      address: string;
      asn: number;
      state: BgpStateName;
      uptimeSeconds: number;
      prefixesSent: number;
      prefixesReceived: number;
      lastError: string | null;
    }[];
  };
  ospf?: {
    routerId: string;
    interfaces: readonly {
      name: string;
      state: OspfInterfaceStateName;
      neighbors: readonly { routerId: string; address: string; state: OspfNeighborStateName }[];
    }[];
  };
}

/**
 * Fails to compile when a speaker's view no longer carries the contract (a renamed field, a
 * widened state type): `Conforms<A, B>` requires A to be assignable to B.
 */
type Conforms<A extends B, B> = A;
export type StatusJsonKeepsContract = Conforms<StatusJson, StatusContract>;
