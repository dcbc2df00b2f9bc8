/**
 * BFD for BGP peers (RFC 5882 as applied to BGP, its section 10.2): one BFD session (RFC 5880
 * asynchronous mode, RFC 5881 single hop) per peer configured with `bfd`, whose failure takes that
 * BGP session down at once instead of after the hold time.
 *
 * Why the daemon connects the two instead of the BGP speaker importing src/bfd: one BfdManager
 * serves every client of the process (OSPF later, RFC 5882 3: clients share sessions), and BGP
 * stays a protocol that knows nothing of BFD; it only offers what any liveness source needs
 * (peer state changes, `pathDown`, `resumePeer`).
 *
 * - The session's key is the BGP session's own local address (RFC 5881 3: BFD runs between the
 *   two addresses of the BGP session): the configured `localAddress` from the start, else the
 *   address of the TCP connection once the session is Established. It outlives BGP flaps, so a
 *   dead path is watched while BGP is down, and changes only when the local address does.
 * - Up → Down/Init (RFC 5882 3.2: not when the peer signalled AdminDown, which means BFD, not the
 *   path, went away) → BGP Cease / BFD Down (RFC 9384), and the peer is held Idle: RFC 5882 4.1
 *   lets the client wait for BFD before bringing the adjacency back, so BGP does not come up over a
 *   path BFD just declared dead. The hold ends when BFD is Up again, or after the peer's hold time
 *   (90 s when 0) so a peer that stopped running BFD is not locked out for good.
 */
import type { BfdManager, BfdSessionKey, BfdStateChange } from '../bfd/index.js';
import { authTypeFromName, sessionKeyString } from '../bfd/index.js';
import type { BgpPeerConfig } from '../config/bgp.js';
import type { Clock, TimerHandle } from '../lib/clock.js';
import type { Logger } from '../lib/log.js';
import { formatAddress, parseAddress } from '../net/prefix.js';

/** What the wiring needs of the BGP speaker. */
export interface BfdBgpPeers {
  onPeerState(fn: (address: string, state: string, localAddress?: string) => void): void;
  pathDown(address: string, reason: string, hold: boolean): boolean;
  resumePeer(address: string): void;
}

export interface BfdWiringOptions {
  bgp: BfdBgpPeers;
  bfd: Pick<BfdManager, 'add' | 'remove' | 'onStateChange'>;
  peers: readonly BgpPeerConfig[];
  clock: Clock;
  logger: Logger;
}

interface Watched {
  readonly config: BgpPeerConfig;
  readonly bfd: NonNullable<BgpPeerConfig['bfd']>;
  /** The key of the running (or starting) BFD session. */
  key: BfdSessionKey | undefined;
  /** Set while BGP is held Idle after a BFD failure. */
  hold: TimerHandle | undefined;
}

/** RFC 5881 3: a link-local peer's session is per interface (`fe80::1%eth1`). */
function splitZone(address: string): { address: string; interface?: string } {
  const i = address.indexOf('%');
  const bare = i < 0 ? address : address.slice(0, i);
  let canonical = bare;
  try {
    canonical = formatAddress(parseAddress(bare));
  } catch {
    // Config validated the address; keep it as written.
  }
  return i < 0 ? { address: canonical } : { address: canonical, interface: address.slice(i + 1) };
}

export class BfdWiring {
  private readonly watched: Watched[] = [];
  private readonly byKey = new Map<string, Watched>();
  private unsubscribe: (() => void) | undefined;
  private closed = false;

  constructor(private readonly opts: BfdWiringOptions) {
    for (const config of opts.peers) {
      if (config.bfd) this.watched.push({ config, bfd: config.bfd, key: undefined, hold: undefined });
    }
  }

  get active(): boolean {
    return this.watched.length > 0;
  }

  /** Subscribes to both sides; starts the sessions whose local address is configured. */
  start(): void {
    if (this.watched.length === 0) return;
    this.unsubscribe = this.opts.bfd.onStateChange((e) => this.onBfd(e));
    this.opts.bgp.onPeerState((address, state, local) => {
      const w = this.watched.find((x) => x.config.address === address);
      if (w && state === 'Established' && local) this.watch(w, local);
    });
    for (const w of this.watched) if (w.config.localAddress) this.watch(w, w.config.localAddress);
  }

  /**
   * Stops acting on BGP (no more pathDown or resumePeer) before the speaker stops; the sessions
   * themselves end with the manager's close (one AdminDown each, RFC 5880 6.8.16, so the peers do
   * not take their BGP sessions down for it, RFC 5882 3.2).
   */
  detach(): void {
    this.closed = true;
    this.unsubscribe?.();
    for (const w of this.watched) w.hold?.cancel();
  }

  private watch(w: Watched, localAddress: string): void {
    if (this.closed) return;
    const peer = splitZone(w.config.address);
    const local = splitZone(localAddress).address;
    const key: BfdSessionKey = { peer: peer.address, localAddress: local, interface: peer.interface };
    const ks = sessionKeyString(key);
    if (w.key && sessionKeyString(w.key) === ks) return;
    const old = w.key;
    w.key = key;
    this.byKey.set(ks, w);
    if (old) {
      this.byKey.delete(sessionKeyString(old));
      void this.opts.bfd.remove(old);
    }
    const log = this.opts.logger;
    this.opts.bfd
      .add({
        ...key,
        desiredMinTxMs: w.bfd.minTx,
        requiredMinRxMs: w.bfd.minRx,
        detectMult: w.bfd.multiplier,
        // RFC 5880 6.7: the key as UTF-8 bytes, as BIRD and the other implementations take a password.
        ...(w.bfd.authentication
          ? {
              auth: {
                type: authTypeFromName(w.bfd.authentication.type),
                keyId: w.bfd.authentication.keyId,
                key: Buffer.from(w.bfd.authentication.key),
              },
            }
          : {}),
      })
      .then(
        () => log.info({ peer: w.config.address, localAddress: local }, 'BFD watching the BGP peer'),
        (err: unknown) => {
          // An unbindable address: the BGP session runs without BFD (and says so).
          if (w.key === key) w.key = undefined;
          this.byKey.delete(ks);
          log.error({ err, peer: w.config.address, localAddress: local }, 'BFD session could not start');
        },
      );
  }

  private onBfd(e: BfdStateChange): void {
    const w = this.byKey.get(sessionKeyString(e.key));
    if (!w || this.closed) return;
    const address = w.config.address;
    if (e.from === 'Up' && e.to !== 'Up' && !e.remoteAdminDown) {
      const reason = `BFD went ${e.to}: ${e.diagName}`;
      this.opts.logger.warn({ peer: address, diag: e.diagName }, `${reason}; taking the BGP session down`);
      this.opts.bgp.pathDown(address, reason, true);
      w.hold?.cancel();
      const holdMs = (w.config.holdTime || 90) * 1000;
      w.hold = this.opts.clock.setTimer(holdMs, () => this.release(w, 'BFD still not Up'));
    } else if (e.to === 'Up' && w.hold) {
      this.release(w, 'BFD is Up');
    }
  }

  private release(w: Watched, why: string): void {
    w.hold?.cancel();
    w.hold = undefined;
    this.opts.logger.info({ peer: w.config.address }, `${why}: BGP may connect again`);
    this.opts.bgp.resumePeer(w.config.address);
  }
}
