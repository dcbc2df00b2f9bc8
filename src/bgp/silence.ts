/**
 * Status words for a passive peer with TCP MD5 (RFC 2385) or GTSM (RFC 5082) that never connects.
 * The kernel drops segments with a wrong key or a low TTL without a trace (RFC 2385 2.0, RFC 5082
 * 3), so such a session only looks silent; after two connect-retry times of silence the status
 * names the likely cause instead of showing nothing.
 */
import type { BgpPeerConfig } from '../config/bgp.js';
import type { Clock } from '../lib/clock.js';
import type { BgpState } from './fsm.js';
import type { SessionCounters } from './session-counters.js';
import { peerSecurity } from './socket-options.js';
import { describeSilence } from './transport.js';

/** What the watch reads from the session on each status request. */
export interface SessionView {
  readonly state: BgpState;
  readonly lastError: string | null;
  readonly counters: Pick<SessionCounters, 'messagesIn'>;
}

export class SilenceWatch {
  private quietSince: number;
  private seen = 0;

  constructor(
    private readonly config: Pick<
      BgpPeerConfig,
      'address' | 'passive' | 'connectRetryTime' | 'password' | 'ttlSecurity'
    >,
    private readonly clock: Clock,
  ) {
    this.quietSince = clock.now();
  }

  /** The session (re)starts: silence is counted from now. */
  start(): void {
    this.quietSince = this.clock.now();
  }

  /** The session's lastError, or the likely cause when a protected passive peer stays silent. */
  lastError(s: SessionView): string | null {
    if (!this.config.passive || s.state === 'Established') return s.lastError;
    const now = this.clock.now();
    const m = s.counters.messagesIn;
    const total = m.open + m.update + m.notification + m.keepalive + m.routeRefresh;
    if (total !== this.seen) {
      // Something arrived since the last look: the peer is not silent, the TCP checks pass.
      this.seen = total;
      this.quietSince = now;
    }
    const quiet = now - this.quietSince;
    if (quiet < 2 * this.config.connectRetryTime * 1000) return s.lastError;
    const hint = describeSilence(this.config.address, quiet, peerSecurity(this.config));
    if (!hint) return s.lastError;
    return s.lastError ? `${hint} (before: ${s.lastError})` : hint;
  }
}
