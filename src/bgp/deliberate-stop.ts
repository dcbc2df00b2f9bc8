/**
 * The steps of taking BGP sessions down on purpose (drain, SIGTERM, a peer removed by reload),
 * shared by the speaker's stop() and removePeer():
 *   1. RFC 8326 4: re-announce with GRACEFUL_SHUTDOWN and wait, so the fabric moves traffic to
 *      other paths before our routes go (nothing with a wait of 0);
 *   2. withdraw (outbound.ts), then the Cease (RFC 4486, RFC 9003) — the caller's choice;
 *   3. wait for the sessions to close, at most STOP_TIMEOUT_MS: a peer that stopped reading
 *      keeps its socket half-open and must not hold the daemon's exit or a reload up.
 */
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/log.js';
import type { Outbound } from './outbound.js';
import type { Peer } from './speaker-peer.js';

/** Drain / stop waits at most this long for the peers (the daemon exits within 5 s of SIGTERM). */
export const STOP_TIMEOUT_MS = 2000;

/** Step 1: GRACEFUL_SHUTDOWN on every route to the Established `peers`, then `waitS` seconds. */
export async function gracefulShutdown(
  peers: readonly Peer[],
  out: Outbound,
  waitS: number,
  clock: Clock,
  log: Logger,
): Promise<void> {
  const up = peers.filter((p) => p.session.state === 'Established' && p.ribOut.size > 0);
  if (waitS <= 0 || up.length === 0) return;
  for (const peer of up) {
    out.shuttingDown.add(peer);
    out.reconcile(peer);
  }
  log.info(
    { peers: up.map((p) => p.config.address), wait: waitS },
    'BGP graceful shutdown: waiting before withdrawing',
  );
  await new Promise<void>((resolve) => clock.setTimer(waitS * 1000, resolve));
}

/** Step 3: resolves when every stop settled or after STOP_TIMEOUT_MS (true when it timed out). */
export async function closedWithin(clock: Clock, stops: readonly Promise<unknown>[]): Promise<boolean> {
  let timedOut = false;
  let timer: { cancel(): void } | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = clock.setTimer(STOP_TIMEOUT_MS, () => {
      timedOut = true;
      resolve();
    });
  });
  await Promise.race([Promise.all(stops), timeout]);
  timer?.cancel();
  return timedOut;
}
