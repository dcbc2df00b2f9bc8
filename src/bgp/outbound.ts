/**
 * What the speaker sends: the desired prefix set with its communities, and for one peer the
 * reconcile of its Adj-RIB-Out against that set, so only the difference goes out as UPDATEs
 * (RFC 4271 9.2). A prefix goes to a peer when the peer's export policy allows it (RFC 8212,
 * `policy/`) and the session carries its family with a usable next hop (`next-hops.ts`).
 * Communities: the global ones, the peer's, the prefix's own (RFC 1997, RFC 8092), plus
 * GRACEFUL_SHUTDOWN while the peer is being taken down on purpose (RFC 8326 4).
 */
import type { Logger } from '../lib/log.js';
import { formatPrefix, type Prefix } from '../net/prefix.js';
import { GRACEFUL_SHUTDOWN, mergeTags, type RouteTags, tagsKey } from './communities.js';
import type { UpdateMessage } from './message/index.js';
import { hasFamily, IPV4_UNICAST, IPV6_UNICAST } from './negotiate.js';
import { originateParams, whyNotSendable } from './next-hops.js';
import type { Peer } from './speaker-peer.js';
import { buildTaggedUpdates, buildUpdates, type OriginateParams } from './update-builder.js';

export class Outbound {
  private readonly desired = new Map<string, Prefix>();
  /** Per-prefix communities (announce entries), by canonical prefix text. */
  private prefixTags: ReadonlyMap<string, RouteTags> = new Map();
  /** Peers being taken down on purpose: their routes carry GRACEFUL_SHUTDOWN (RFC 8326). */
  readonly shuttingDown = new Set<Peer>();

  constructor(
    private readonly asn: number,
    /** bgp.communities / bgp.largeCommunities: on every route to every peer. */
    private globalTags: RouteTags | undefined,
    private readonly log: Logger,
  ) {}

  /** The set of prefixes to announce. Callers reconcile the Established peers afterwards. */
  setDesired(prefixes: readonly Prefix[]): void {
    this.desired.clear();
    for (const p of prefixes) this.desired.set(formatPrefix(p), p);
  }

  setPrefixTags(tags: ReadonlyMap<string, RouteTags>): void {
    this.prefixTags = tags;
  }

  setGlobalTags(tags: RouteTags | undefined): void {
    this.globalTags = tags;
  }

  /** Next hops for this session (`next-hops.ts`). */
  originate(peer: Peer): OriginateParams {
    return originateParams(this.asn, peer.config, peer.session.localAddress);
  }

  /** Sends the difference between the desired set and what the peer has from us. */
  reconcile(peer: Peer): UpdateMessage[] {
    const o = this.originate(peer);
    const tagsOf = this.tagsFor(peer);
    const diff = peer.ribOut.reconcile(this.desired, this.sendable(peer, o), (p) => tagsKey(tagsOf(p)));
    const updates = buildTaggedUpdates(o, diff.announce, diff.withdraw, tagsOf);
    if (updates.length > 0) {
      peer.session.sendUpdates(updates);
      this.log.debug(
        { peer: peer.config.address, announce: diff.announce.length, withdraw: diff.withdraw.length },
        'BGP Adj-RIB-Out updated',
      );
    }
    return updates;
  }

  /** Withdraws everything the peer has from us (drain, a peer removed on purpose). */
  withdrawAll(peer: Peer): void {
    const withdraw = peer.ribOut.withdrawAll();
    if (withdraw.length > 0) peer.session.sendUpdates(buildUpdates(this.originate(peer), [], withdraw));
  }

  /** Which prefixes this session can carry; says once per session why the others are held back. */
  private sendable(peer: Peer, o: OriginateParams): (p: Prefix) => boolean {
    const families = peer.session.negotiated?.families ?? [];
    const v4 = hasFamily(families, IPV4_UNICAST) && o.nextHop4 !== undefined;
    const v6 = hasFamily(families, IPV6_UNICAST) && o.nextHop6 !== undefined;
    return (p) => {
      if (!peer.policy.exports(p)) return false; // the peer's export policy (RFC 8212)
      const ok = p.family === 4 ? v4 : v6;
      if (!ok && !peer.warned.has(`v${p.family}`)) {
        peer.warned.add(`v${p.family}`);
        this.log.warn(
          {
            peer: peer.config.address,
            prefix: formatPrefix(p),
            reason: whyNotSendable(families, p.family, peer.session.localAddress, o),
          },
          `not announcing IPv${p.family} prefixes to ${peer.config.address}`,
        );
      }
      return ok;
    };
  }

  /** The communities of each prefix to `peer`: global + the peer's + the prefix's (+ GRACEFUL_SHUTDOWN). */
  private tagsFor(peer: Peer): (p: Prefix) => RouteTags {
    const { communities, largeCommunities } = peer.config;
    const gs = this.shuttingDown.has(peer) ? { communities: [GRACEFUL_SHUTDOWN] } : undefined;
    const base = mergeTags(this.globalTags, { communities, largeCommunities }, gs);
    if (this.prefixTags.size === 0) return () => base;
    return (p) => {
      const own = this.prefixTags.get(formatPrefix(p));
      return own ? mergeTags(base, own) : base;
    };
  }
}
