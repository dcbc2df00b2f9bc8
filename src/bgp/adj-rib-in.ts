/**
 * Adj-RIB-In (RFC 4271 3.2) of one peer, kept compact so a full table fits: IPv4 prefixes are keyed
 * by one number (address * 64 + length), IPv6 by a short string, and every route of one UPDATE
 * shares one attribute object (no Prefix objects or Buffers kept per route).
 *
 * `received` counts every prefix the peer currently announces (before policy); only prefixes the
 * accept policy allows are stored with their attributes, the others only as keys (for the count
 * and for `maxPrefixes`).
 */
import { makePrefix, type Prefix } from '../net/prefix.js';
import type { AsPathSegment, UpdateMessage } from './message/types.js';
import { type AcceptPolicy, accepts } from './policy.js';

/** What we keep of a route's path attributes. */
export interface RouteAttributes {
  readonly nextHop: string;
  readonly linkLocalNextHop?: string;
  readonly asPath: readonly AsPathSegment[];
  readonly localPref?: number;
  readonly med?: number;
  readonly origin?: number;
}

export interface ReceivedRoute extends RouteAttributes {
  readonly prefix: Prefix;
}

type Key = number | string;

function key(p: Prefix): Key {
  if (p.family === 4) return p.bytes.readUInt32BE(0) * 64 + p.length;
  return `${p.bytes.toString('hex')}/${p.length}`;
}

function fromKey(k: Key): Prefix {
  if (typeof k === 'number') {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(Math.floor(k / 64));
    return makePrefix(b, k % 64);
  }
  const slash = k.indexOf('/');
  return makePrefix(Buffer.from(k.slice(0, slash), 'hex'), Number(k.slice(slash + 1)));
}

export interface ApplyResult {
  readonly announced: number;
  readonly withdrawn: number;
}

export class AdjRibIn {
  private readonly accepted = new Map<Key, RouteAttributes>();
  /** Announced but refused by policy: keys only. */
  private readonly refused = new Set<Key>();

  /**
   * `localAsn`: routes whose AS_PATH already holds it are looped (RFC 4271 9.1.2) and never
   * stored, whatever the policy (a leaf may send our own prefixes back).
   */
  constructor(
    private readonly policy: AcceptPolicy,
    private readonly localAsn?: number,
  ) {}

  /** Prefixes the peer announces now, before policy. */
  get received(): number {
    return this.accepted.size + this.refused.size;
  }

  /** Prefixes stored (accepted by policy). */
  get size(): number {
    return this.accepted.size;
  }

  /**
   * Applies one UPDATE: withdrawals (legacy and MP_UNREACH), then announcements (legacy NLRI with
   * NEXT_HOP, MP_REACH). RFC 7606 2: with a treat-as-withdraw error every announced prefix is
   * handled as withdrawn.
   */
  apply(u: UpdateMessage): ApplyResult {
    let withdrawn = 0;
    const a = u.attributes;
    const remove = (p: Prefix): void => {
      const k = key(p);
      if (this.accepted.delete(k) || this.refused.delete(k)) withdrawn++;
    };
    u.withdrawn.forEach(remove);
    a.mpUnreach?.withdrawn.forEach(remove);
    const treatAsWithdraw = u.errors?.some((e) => e.action === 'treat-as-withdraw') ?? false;
    if (treatAsWithdraw) {
      u.nlri.forEach(remove);
      a.mpReach?.nlri.forEach(remove);
      return { announced: 0, withdrawn };
    }
    let announced = 0;
    const common = {
      asPath: a.asPath ?? [],
      ...(a.localPref !== undefined ? { localPref: a.localPref } : {}),
      ...(a.med !== undefined ? { med: a.med } : {}),
      ...(a.origin !== undefined ? { origin: a.origin } : {}),
    };
    const looped =
      this.localAsn !== undefined && (a.asPath ?? []).some((seg) => seg.asns.includes(this.localAsn!));
    const add = (p: Prefix, attrs: RouteAttributes): void => {
      const k = key(p);
      announced++;
      if (!looped && accepts(this.policy, p)) {
        this.refused.delete(k);
        this.accepted.set(k, attrs);
      } else {
        this.accepted.delete(k);
        this.refused.add(k);
      }
    };
    if (u.nlri.length > 0) {
      // The codec rejects NLRI without NEXT_HOP (RFC 4271 6.3, 3/3); '' guards a hand-made message.
      const attrs: RouteAttributes = { ...common, nextHop: a.nextHop ?? '' };
      for (const p of u.nlri) add(p, attrs);
    }
    if (a.mpReach && a.mpReach.nlri.length > 0) {
      const attrs: RouteAttributes = {
        ...common,
        nextHop: a.mpReach.nextHop,
        ...(a.mpReach.linkLocalNextHop ? { linkLocalNextHop: a.mpReach.linkLocalNextHop } : {}),
      };
      for (const p of a.mpReach.nlri) add(p, attrs);
    }
    return { announced, withdrawn };
  }

  /** The stored routes, materialized (for status and route programming). */
  routes(): ReceivedRoute[] {
    const out: ReceivedRoute[] = [];
    for (const [k, attrs] of this.accepted) out.push({ prefix: fromKey(k), ...attrs });
    return out;
  }

  clear(): void {
    this.accepted.clear();
    this.refused.clear();
  }
}
