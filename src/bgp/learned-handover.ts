/**
 * What the speaker hands the route programmer of the routes it kept (RFC 4271 3.2 Adj-RIB-In, after
 * each peer's import policy): per peer whose routes may be installed, its table once whole and then
 * only the prefixes that changed (each Adj-RIB-In notes them while tracked); a peer whose routes may
 * not be installed (`install: false`) hands over nothing at all — the status view reads its paths
 * in place (`shown`), the first rows only, when it is asked.
 *
 * One reader: the changes are taken, so a second caller would miss them. A peer restarting under
 * graceful restart (RFC 4724 4.2) keeps its facts and its stale routes, so it stays handed over.
 */
import type { LearnedChange, LearnedPeerFacts } from '../routes/learned-table.js';
import type { ShownOnlyRoutes } from '../routes/learned-view.js';
import { AdjRibIn, type ReceivedRoute } from './adj-rib-in.js';
import type { Peer } from './speaker-peer.js';

/** One peer's kept routes and what ranks them (RFC 4271 9.1): its BGP Identifier, our session address. */
export type LearnedPeerRoutes = LearnedPeerFacts & Readonly<{ routes: ReceivedRoute[] }>;

/** The peer's facts for route selection, or undefined when it keeps no routes (or has no session facts). */
function factsOf(p: Peer, localAsn: number): LearnedPeerFacts | undefined {
  const f = p.facts;
  if (!f || p.ribIn.size === 0) return undefined;
  const { address, install } = p.config;
  const ibgp = f.peerAsn === localAsn;
  return { address, asn: f.peerAsn, ibgp, routerId: f.peerId, localAddress: f.localAddress, install };
}

function sameFacts(a: LearnedPeerFacts, b: LearnedPeerFacts): boolean {
  return (
    a.address === b.address &&
    a.asn === b.asn &&
    a.ibgp === b.ibgp &&
    a.routerId === b.routerId &&
    a.localAddress === b.localAddress &&
    a.install === b.install
  );
}

/** Every peer with kept routes, each with all of them (tests and tools; the daemon takes changes). */
export function learnedPeers(peers: readonly Peer[], localAsn: number): LearnedPeerRoutes[] {
  return peers.flatMap((p) => {
    const facts = factsOf(p, localAsn);
    return facts ? [{ ...facts, routes: p.ribIn.routes() }] : [];
  });
}

export class LearnedHandover {
  /** What the reader holds of each peer: the facts it was last given. */
  private readonly handed = new Map<Peer, LearnedPeerFacts>();
  private distinct: { version: string; count: number } | undefined;

  constructor(
    private readonly peers: () => readonly Peer[],
    private readonly localAsn: number,
  ) {}

  /** What changed since the last call, for peers whose routes may be installed. */
  changes(): LearnedChange[] {
    const out: LearnedChange[] = [];
    const current = this.peers();
    for (const [peer, facts] of this.handed) {
      if (current.includes(peer)) continue;
      // Removed from the configuration (reload).
      this.handed.delete(peer);
      out.push({ kind: 'gone', address: facts.address });
    }
    for (const peer of current) {
      const facts = factsOf(peer, this.localAsn);
      const had = this.handed.get(peer);
      if (!facts?.install) {
        if (had) out.push({ kind: 'gone', address: had.address });
        this.handed.delete(peer);
        peer.ribIn.track(false);
        continue;
      }
      const taken = had && sameFacts(had, facts) ? peer.ribIn.takeChanges() : ({ reset: true } as const);
      if (taken.reset) {
        peer.ribIn.track(true);
        this.handed.set(peer, facts);
        out.push({ kind: 'reset', peer: facts, routes: peer.ribIn.routes() });
      } else if (taken.set.length + taken.withdrawn.length > 0) {
        out.push({ kind: 'diff', address: facts.address, set: taken.set, withdrawn: taken.withdrawn });
      }
    }
    return out;
  }

  /** The `install: false` peers' paths, read in place when the status is asked. */
  readonly shown: ShownOnlyRoutes = {
    paths: () => this.notInstalled().reduce((n, p) => n + p.ribIn.size, 0),
    prefixes: () => {
      const ribs = this.peers()
        .filter((p) => factsOf(p, this.localAsn))
        .map((p) => p.ribIn);
      if (ribs.length <= 1) return ribs[0]?.size ?? 0;
      // Several peers: a walk over their prefixes, done again only after a change.
      const version = ribs.map((r) => r.version).join(' ');
      if (this.distinct?.version !== version) {
        this.distinct = { version, count: AdjRibIn.distinctPrefixes(ribs) };
      }
      return this.distinct.count;
    },
    // Each Adj-RIB-In keeps its first rows until a change reaches them.
    first: (limit) =>
      this.notInstalled().map((p) => ({ ...factsOf(p, this.localAsn)!, routes: p.ribIn.first(limit) })),
  };

  private notInstalled(): Peer[] {
    return this.peers().filter((p) => factsOf(p, this.localAsn)?.install === false);
  }
}
