/**
 * Graceful restart (RFC 4724) with notification support (RFC 8538): the pure rules, no timers or
 * sockets. What we advertise (RFC 4724 3), what a session agrees on, whether a session that just
 * ended leaves us in helper mode (RFC 4724 4.2, RFC 8538 3), which NOTIFICATIONs must become a Hard
 * Reset (RFC 8538 3, 5.1), how we close the GR way when restarting, and the per-peer stale-route
 * deadlines the speaker arms on the clock.
 *
 * The speaker (`speaker.ts`) runs these; the stale marks themselves live in the Adj-RIB-In
 * (`adj-rib-in.ts`).
 */
import type { NotificationSpec } from './fsm.js';
import { truncateUtf8 } from './message/index.js';
import { type AfiSafi, type Capability, CeaseSubcode, ErrorCode } from './message/types.js';

/** RFC 4724 3: the Restart Time field is 12 bits. */
export const MAX_RESTART_TIME = 4095;
/** Default restart time in seconds (FRR's and RFC 4724 implementations' usual 120). */
export const DEFAULT_RESTART_TIME = 120;
/**
 * RFC 4724 4.2 lets the helper bound how long stale routes outlive a re-established session that
 * never sends End-of-RIB. FRR's `stalepath-time` default, 360 s.
 */
export const STALE_PATH_MS = 360_000;

/** What this speaker offers in its OPEN. */
export interface LocalGracefulRestart {
  /** Seconds, 1..4095: how long peers keep our routes after we went away. */
  readonly restartTime: number;
  /** R bit: this process found the forwarding state of a previous one (it restarted). */
  readonly restarting: boolean;
  /** F bit per family: the kernel routes survived the restart. */
  readonly forwardingPreserved: boolean;
}

/** What a session agreed on when both OPENs carried the capability. */
export interface GracefulRestartSession {
  readonly localRestartTime: number;
  readonly peerRestartTime: number;
  /** The peer's R bit: it restarted and waits for our End-of-RIB. */
  readonly peerRestarting: boolean;
  /** Both sent the N bit (RFC 8538 2): NOTIFICATIONs other than Hard Reset keep the routes too. */
  readonly notification: boolean;
  /** Families the peer listed, with its F bit (forwarding state kept across its restart). */
  readonly peerFamilies: readonly (AfiSafi & { readonly forwardingPreserved: boolean })[];
}

/** RFC 4724 3 (and the N bit, RFC 8538 2): our capability, one entry per family we negotiate. */
export function buildCapability(g: LocalGracefulRestart, families: readonly AfiSafi[]): Capability {
  return {
    code: 64,
    restarting: g.restarting,
    notification: true,
    restartTime: g.restartTime,
    families: families.map((f) => ({ afi: f.afi, safi: f.safi, forwardingPreserved: g.forwardingPreserved })),
  };
}

/** Both sides must send the capability (RFC 4724 3: "a speaker that does not advertise ..."). */
export function negotiateGracefulRestart(
  local: LocalGracefulRestart | undefined,
  capabilities: readonly Capability[],
): GracefulRestartSession | undefined {
  if (!local) return undefined;
  const cap = capabilities.find(
    (c): c is Extract<Capability, { code: 64; unknown?: false }> => c.code === 64 && !c.unknown,
  );
  if (!cap) return undefined;
  return {
    localRestartTime: local.restartTime,
    peerRestartTime: cap.restartTime,
    peerRestarting: cap.restarting,
    notification: cap.notification,
    peerFamilies: cap.families.map((f) => ({
      afi: f.afi,
      safi: f.safi,
      forwardingPreserved: f.forwardingPreserved,
    })),
  };
}

/** How an Established session ended, as far as graceful restart cares. */
export type SessionEnd =
  /** TCP closed or failed with no NOTIFICATION either way. */
  | { readonly kind: 'connection' }
  | {
      readonly kind: 'notification';
      readonly direction: 'sent' | 'received';
      readonly code: number;
      readonly subcode: number;
    }
  /** We stopped the session ourselves (the process is going away). */
  | { readonly kind: 'stopped' };

/**
 * Whether we keep the peer's routes as stale (helper mode).
 * RFC 4724 4.2: the TCP session ended without a NOTIFICATION. RFC 8538 3: with the N bit, also
 * after any NOTIFICATION (sent or received, the Hold Timer's included) other than Hard Reset.
 * A restart time of 0 means the peer will not be back with its forwarding state: nothing to keep.
 * Cease / BFD Down (RFC 9384) neither, even unwrapped: BFD saw the forwarding path fail (RFC 5882
 * 4.3), so routes through it must go now, not after the restart time.
 */
export function keepsRoutes(gr: GracefulRestartSession | undefined, end: SessionEnd): boolean {
  if (!gr || gr.peerRestartTime === 0) return false;
  if (end.kind === 'connection') return true;
  if (end.kind === 'stopped') return false;
  if (!gr.notification || end.code !== ErrorCode.Cease) return gr.notification;
  return end.subcode !== CeaseSubcode.HardReset && end.subcode !== CeaseSubcode.BfdDown;
}

/**
 * RFC 8538 5.1: with the N bit negotiated, Cease / Maximum Number of Prefixes Reached,
 * Administrative Shutdown and Peer De-configured MUST go as Hard Reset, the original code,
 * subcode and data in its data field (RFC 8538 3), so the peer drops our routes at once.
 */
export function withHardReset(n: NotificationSpec, gr: GracefulRestartSession | undefined): NotificationSpec {
  if (!gr?.notification || n.code !== ErrorCode.Cease) return n;
  const hard: number[] = [
    CeaseSubcode.MaximumPrefixesReached,
    CeaseSubcode.AdministrativeShutdown,
    CeaseSubcode.PeerDeconfigured,
    // RFC 9384 BFD Down: the forwarding path is gone, so keeping routes as stale would blackhole
    // traffic for the restart time (FRR sends it as Hard Reset too).
    CeaseSubcode.BfdDown,
  ];
  if (!hard.includes(n.subcode)) return n;
  let inner = n.data ?? Buffer.alloc(0);
  if (n.shutdownMessage !== undefined && inner.length === 0) {
    // RFC 9003 2: length octet, then the UTF-8 text.
    const text = Buffer.from(truncateUtf8(n.shutdownMessage), 'utf8');
    inner = Buffer.concat([Buffer.from([text.length]), text]);
  }
  return {
    code: ErrorCode.Cease,
    subcode: CeaseSubcode.HardReset,
    data: Buffer.concat([Buffer.from([n.code, n.subcode]), inner]),
  };
}

/**
 * How we close a session when the process restarts (SIGTERM with graceful restart): with the N bit,
 * Cease / Administrative Reset with the reason (RFC 8538 3: any NOTIFICATION but Hard Reset keeps the
 * peer in helper mode; 5.1 leaves Administrative Reset to local choice, and FRR, with
 * `bgp hard-administrative-reset` off, and BIRD keep the routes); without it, no NOTIFICATION at all:
 * RFC 4724 4.2 helper mode starts when "the TCP session" ends, and a NOTIFICATION would end it.
 */
export function restartNotification(
  gr: GracefulRestartSession | undefined,
  message: string | undefined,
): NotificationSpec | null {
  if (!gr) return null;
  if (!gr.notification) return null;
  return {
    code: ErrorCode.Cease,
    subcode: CeaseSubcode.AdministrativeReset,
    ...(message ? { shutdownMessage: truncateUtf8(message) } : {}),
  };
}

/**
 * RFC 4724 4.2: when the session comes back, stale routes of a family the new OPEN does not list
 * with the F bit set (or all of them, without the capability) are deleted at once.
 */
export function familiesKeptAfterReconnect(gr: GracefulRestartSession | undefined): AfiSafi[] {
  return (gr?.peerFamilies ?? [])
    .filter((f) => f.forwardingPreserved)
    .map((f) => ({ afi: f.afi, safi: f.safi }));
}
