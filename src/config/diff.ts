/**
 * What changed between the running configuration and a new one (`podroute reload`, SIGHUP), and
 * how each change can be applied. Pure: two validated configurations in, a plan out.
 *
 * BGP peers are matched by address (canonical form: `2001:DB8::1` is `2001:db8::1`). A matched
 * peer's changed settings fall into classes, by what it takes to apply them:
 *
 *  - reset: the session is stopped and started again, because the setting lives in the OPEN
 *    (asn, holdTime, gracefulRestart: RFC 4271 4.2, RFC 4724 3), in the TCP connection or its
 *    timers (port, localAddress, passive, connectRetryTime, sendHoldTime: RFC 9687) or on its
 *    socket (password: RFC 2385, ttlSecurity: RFC 5082), none of which an Established session can
 *    renegotiate;
 *  - export: the Adj-RIB-Out is reconciled under the new policy (UPDATEs, no reset);
 *  - import: what is kept is filtered again (`accept`, `import`; see src/daemon/reload.ts);
 *  - resend: the whole Adj-RIB-Out is sent again with the new attributes (an UPDATE replaces the
 *    route, RFC 4271 3.1): ipv6NextHop and any setting not named here, such as communities;
 *  - local: nothing to send (description, install, maxPrefixes, passwordFile's path: its content
 *    is compared as `password`).
 *
 * Changes that no running part can take are listed in `refused`, one `key.path: why` line each,
 * and the whole reload is then refused: the node's identity, the local ASN, the API socket, the
 * log level, BFD settings, and the OSPF, IPAM, routes and AWS sections, which their owners read
 * once at start.
 */
import { isDeepStrictEqual } from 'node:util';
import { formatAddress, parseAddress } from '../net/prefix.js';
import type { BgpPeerConfig } from './bgp.js';
import type { Config } from './schema.js';

export type PeerChangeClass = 'reset' | 'export' | 'import' | 'resend' | 'local';

/** The class of each peer setting; a key missing here is `resend`. */
const PEER_KEY_CLASS: Readonly<Record<string, PeerChangeClass | 'restart'>> = {
  asn: 'reset',
  port: 'reset',
  localAddress: 'reset',
  passive: 'reset',
  password: 'reset',
  ttlSecurity: 'reset',
  holdTime: 'reset',
  connectRetryTime: 'reset',
  gracefulRestart: 'reset',
  /** RFC 9687: the session's timer, armed with the values it started with. */
  sendHoldTime: 'reset',
  export: 'export',
  import: 'import',
  accept: 'import',
  ipv6NextHop: 'resend',
  description: 'local',
  install: 'local',
  maxPrefixes: 'local',
  passwordFile: 'local',
  /** The BFD sessions are set up with the daemon (src/daemon/bfd-wiring.ts). */
  bfd: 'restart',
};

export interface PeerChange {
  readonly before: BgpPeerConfig;
  readonly after: BgpPeerConfig;
  /** The keys whose value differs (never their values: a password is among them). */
  readonly keys: readonly string[];
  /** The session must be reset (a `reset` key changed). */
  readonly reset: boolean;
  readonly export: boolean;
  readonly import: boolean;
  readonly resend: boolean;
}

export interface ConfigDiff {
  readonly peersAdded: readonly BgpPeerConfig[];
  readonly peersRemoved: readonly BgpPeerConfig[];
  readonly peersChanged: readonly PeerChange[];
  readonly announcementsChanged: boolean;
  /** bgp.communities, bgp.largeCommunities or bgp.gracefulShutdown: applied with UPDATEs. */
  readonly bgpGlobalsChanged: boolean;
  readonly ospfChanged: boolean;
  readonly ipamChanged: boolean;
  /** One `key.path: why` line per change that needs a restart; non-empty = refuse the reload. */
  readonly refused: readonly string[];
  /** Nothing at all differs. */
  readonly unchanged: boolean;
}

/** A peer's key for matching across configurations. */
export function peerKey(address: string): string {
  try {
    return formatAddress(parseAddress(address));
  } catch {
    return address.toLowerCase();
  }
}

function changedKeys(a: object, b: object): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  const out: string[] = [];
  for (const k of keys) {
    if (!isDeepStrictEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) out.push(k);
  }
  return out.sort();
}

/** Global BGP keys the speaker takes live (UPDATEs with the new attributes; the RFC 8326 wait). */
const BGP_LIVE_KEYS: readonly string[] = ['communities', 'largeCommunities', 'gracefulShutdown'];

const restartLine = (path: string, what: string): string => `${path}: changing ${what} needs a restart`;

/** The sections read once at start, by top-level key, with the words for the refusal. */
const FIXED_SECTIONS: readonly (readonly [keyof Config, string])[] = [
  ['ospf', 'the OSPF configuration'],
  ['ipam', 'the IPAM configuration'],
  ['routes', 'the kernel route configuration'],
  ['aws', 'the AWS configuration'],
];

export function diffConfig(before: Config, after: Config): ConfigDiff {
  const refused: string[] = [];
  for (const k of changedKeys(before.node, after.node)) {
    refused.push(restartLine(`node.${k}`, k === 'routerId' ? 'the router id' : `the node's ${k}`));
  }
  for (const k of changedKeys(before.api, after.api)) {
    refused.push(restartLine(`api.${k}`, k === 'socket' ? 'the API socket' : 'the metrics address'));
  }
  // Every component holds a child logger made at start, with the level of that time.
  if (before.log.level !== after.log.level) refused.push(restartLine('log.level', 'the log level'));
  for (const [key, what] of FIXED_SECTIONS) {
    if (!isDeepStrictEqual(before[key], after[key])) refused.push(restartLine(key, what));
  }
  let bgpGlobalsChanged = false;
  const peersAdded: BgpPeerConfig[] = [];
  const peersRemoved: BgpPeerConfig[] = [];
  const peersChanged: PeerChange[] = [];
  const b = before.bgp;
  const a = after.bgp;
  if (b === undefined && a !== undefined) refused.push('bgp: adding the BGP section needs a restart');
  else if (b !== undefined && a === undefined) refused.push('bgp: removing the BGP section needs a restart');
  else if (b !== undefined && a !== undefined) {
    for (const k of changedKeys(b, a)) {
      if (k === 'peers') continue;
      if (BGP_LIVE_KEYS.includes(k)) {
        bgpGlobalsChanged = true;
        continue;
      }
      if (k === 'asn') refused.push('bgp.asn: changing the local ASN needs a restart');
      else refused.push(restartLine(`bgp.${k}`, `bgp.${k}`));
    }
    const old = new Map(b.peers.map((p) => [peerKey(p.address), p]));
    const seen = new Set<string>();
    a.peers.forEach((peer, i) => {
      const key = peerKey(peer.address);
      seen.add(key);
      const prev = old.get(key);
      if (!prev) {
        if (peer.bfd) refused.push(`bgp.peers[${i}].bfd: adding a peer with BFD needs a restart`);
        peersAdded.push(peer);
        return;
      }
      // The address matched (canonically): another spelling of it is no change.
      const keys = changedKeys(prev, peer).filter((k) => k !== 'address');
      if (keys.length === 0) return;
      const classes = keys.map((k) => PEER_KEY_CLASS[k] ?? 'resend');
      if (classes.includes('restart')) refused.push(restartLine(`bgp.peers[${i}].bfd`, 'BFD settings'));
      peersChanged.push({
        before: prev,
        after: peer,
        keys,
        reset: classes.includes('reset'),
        export: classes.includes('export'),
        import: classes.includes('import'),
        resend: classes.includes('resend'),
      });
    });
    b.peers.forEach((peer, i) => {
      if (seen.has(peerKey(peer.address))) return;
      if (peer.bfd) refused.push(`bgp.peers[${i}].bfd: removing a peer with BFD needs a restart`);
      peersRemoved.push(peer);
    });
  }
  const announcementsChanged = !isDeepStrictEqual(before.announce, after.announce);
  return {
    peersAdded,
    peersRemoved,
    peersChanged,
    announcementsChanged,
    bgpGlobalsChanged,
    ospfChanged: !isDeepStrictEqual(before.ospf, after.ospf),
    ipamChanged: !isDeepStrictEqual(before.ipam, after.ipam),
    refused,
    unchanged: isDeepStrictEqual(before, after),
  };
}
