/**
 * The route programmer's copy of what BGP peers sent, kept up to date by differences: a peer's
 * table arrives once whole (`reset`, e.g. when its session comes up), and from then on only the
 * prefixes that changed (`diff`) or its end (`gone`). So a burst of UPDATEs costs the routes that
 * changed, not a copy of every route of the peer each time (a full table is a million).
 *
 * Only peers whose routes may be installed come here. Those with `install: false` are never copied:
 * the status view reads their paths where they are kept (`ShownOnlyRoutes`, learned-view.ts), when it is asked.
 */
import type { RoutesConfig } from '../config/routes.js';
import type { Prefix } from '../net/prefix.js';
import type { ConnectedPrefix } from './desired.js';
import type { LearnedInput, LearnedPath, LearnedPeer, LearnedSelection } from './learned.js';
import {
  LEARNED_VIEW_LIMIT,
  type LearnedStatus,
  learnedStatus,
  type ShownOnlyRoutes,
  shownPaths,
} from './learned-view.js';
import { needsConnected } from './wanted.js';

/** What route selection needs of a peer besides its routes. */
export type LearnedPeerFacts = Omit<LearnedPeer, 'routes'>;

export type LearnedChange =
  | { readonly kind: 'reset'; readonly peer: LearnedPeerFacts; readonly routes: readonly LearnedPath[] }
  | {
      readonly kind: 'diff';
      readonly address: string;
      readonly set: readonly LearnedPath[];
      readonly withdrawn: readonly Prefix[];
    }
  | { readonly kind: 'gone'; readonly address: string };

/** One hand-over from the BGP side to the route programmer. */
export interface LearnedHandover {
  /** Since the last hand-over, in order. */
  readonly changes: readonly LearnedChange[];
  /** The pod networks (ipam networks' cidrs): nothing inside them is ever learned. */
  readonly podNetworks: readonly Prefix[];
  /** Where the `install: false` peers' paths are read for the status view. */
  readonly shown?: ShownOnlyRoutes | undefined;
}

interface Held {
  facts: LearnedPeerFacts;
  readonly routes: Map<string, LearnedPath>;
}

export class LearnedTable {
  private readonly held = new Map<string, Held>();

  /** Applies the changes in order; true when any route or peer fact changed. */
  apply(changes: readonly LearnedChange[]): boolean {
    let changed = false;
    for (const c of changes) {
      if (c.kind === 'gone') {
        changed = this.held.delete(c.address) || changed;
      } else if (c.kind === 'reset') {
        const routes = new Map<string, LearnedPath>();
        for (const r of c.routes) routes.set(key(r.prefix), r);
        this.held.set(c.peer.address, { facts: c.peer, routes });
        changed = true;
      } else {
        const h = this.held.get(c.address);
        if (!h) continue;
        for (const p of c.withdrawn) changed = h.routes.delete(key(p)) || changed;
        for (const r of c.set) h.routes.set(key(r.prefix), r);
        changed ||= c.set.length > 0;
      }
    }
    return changed;
  }

  /** The held peers for selection: their routes are read where they are held, not copied. */
  input(podNetworks: readonly Prefix[]): LearnedInput {
    const peers: LearnedPeer[] = [];
    for (const { facts, routes } of this.held.values()) {
      if (routes.size === 0) continue;
      peers.push({ ...facts, routes: { [Symbol.iterator]: () => routes.values() } });
    }
    return { peers, podNetworks };
  }

  clear(): void {
    this.held.clear();
  }
}

/**
 * The route programmer's learned-route inputs: given whole (`replace`) or kept by differences
 * (`apply`), the `install: false` peers' paths for the view, and the connected prefixes of the last
 * reconcile (the view resolves those paths' `via` with them).
 */
export class LearnedInputs {
  private readonly table = new LearnedTable();
  private inputs: LearnedInput = { peers: [], podNetworks: [] };
  private shown: ShownOnlyRoutes | undefined;
  connected: readonly ConnectedPrefix[] = [];

  get input(): LearnedInput {
    return this.inputs;
  }

  replace(input: LearnedInput): void {
    this.table.clear();
    this.shown = undefined;
    this.inputs = input;
  }

  apply(h: LearnedHandover): void {
    this.table.apply(h.changes);
    this.inputs = this.table.input(h.podNetworks);
    this.shown = h.shown;
  }

  /** Whether a reconcile must read the connected prefixes (selection, or the view's `via`). */
  needsConnected(config: RoutesConfig): boolean {
    return needsConnected(config, this.inputs) || (this.shown?.paths() ?? 0) > 0;
  }

  /** The status view: `selection`'s paths with the `install: false` peers' (learned-view.ts). */
  status(
    selection: LearnedSelection,
    own: readonly Prefix[],
    config: RoutesConfig,
    kernel: {
      inKernel: (key: string) => boolean;
      pendingReason: (key: string) => string | undefined;
    },
  ): LearnedStatus {
    const ctx = { own, connected: this.connected, podNetworks: this.inputs.podNetworks, options: config };
    const shown = shownPaths(this.shown, ctx);
    return learnedStatus(selection, kernel.inKernel, kernel.pendingReason, LEARNED_VIEW_LIMIT, shown);
  }
}

function key(p: Prefix): string {
  return `${p.bytes.toString('hex')}/${p.length}`;
}
