/**
 * BFD timer arithmetic, pure: the negotiated transmit interval (RFC 5880 6.8.2, 6.8.7), the
 * Detection Time in Asynchronous mode (RFC 5880 6.8.4) and the transmit jitter (RFC 5880 6.8.7).
 * Every value is in microseconds, as on the wire (the configured values are milliseconds).
 */
import type { BfdTimerConfig } from './types.js';

const US = 1000;

/**
 * RFC 5880 6.8.7: a system transmits no faster than "the larger of bfd.DesiredMinTxInterval and
 * bfd.RemoteMinRxInterval" — the slower side decides.
 */
export function txIntervalUs(desiredMinTxUs: number, remoteMinRxUs: number): number {
  return Math.max(desiredMinTxUs, remoteMinRxUs);
}

/**
 * RFC 5880 6.8.4: in Asynchronous mode the Detection Time is "the value of Detect Mult received
 * from the remote system, multiplied by the agreed transmit interval of the remote system (the
 * greater of bfd.RequiredMinRxInterval and the last received Desired Min TX Interval)".
 */
export function detectionTimeUs(
  remoteDetectMult: number,
  requiredMinRxUs: number,
  remoteDesiredMinTxUs: number,
): number {
  return remoteDetectMult * Math.max(requiredMinRxUs, remoteDesiredMinTxUs);
}

/**
 * RFC 5880 6.8.7: each interval is reduced by a random 0-25 % (75-100 % of the interval); with a
 * Detect Mult of 1 it is at most 90 %, so one late packet cannot end the session. `random` gives a
 * number in [0, 1).
 */
export function jitteredUs(intervalUs: number, detectMult: number, random: () => number): number {
  const r = Math.min(Math.max(random(), 0), 1);
  const share = detectMult === 1 ? 0.75 + 0.15 * r : 0.75 + 0.25 * r;
  return Math.floor(intervalUs * share);
}

/** Timer values a session can run with (RFC 5880 4.1: nonzero Detect Mult, 32-bit µs fields). */
export function checkTimers(t: BfdTimerConfig): BfdTimerConfig {
  const ms = (name: string, v: number): void => {
    if (!Number.isInteger(v) || v < 1 || v * US > 0xffffffff) {
      throw new RangeError(`${name} ${v} must be an integer number of ms, 1..${Math.floor(0xffffffff / US)}`);
    }
  };
  ms('desiredMinTxMs', t.desiredMinTxMs);
  ms('requiredMinRxMs', t.requiredMinRxMs);
  if (!Number.isInteger(t.detectMult) || t.detectMult < 1 || t.detectMult > 255) {
    throw new RangeError(`detectMult ${t.detectMult} must be 1..255`);
  }
  return { desiredMinTxMs: t.desiredMinTxMs, requiredMinRxMs: t.requiredMinRxMs, detectMult: t.detectMult };
}
