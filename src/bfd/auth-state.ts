/**
 * The authentication state of one BFD session (RFC 5880 6.8.1 bfd.AuthType, bfd.XmitAuthSeq,
 * bfd.RcvAuthSeq, bfd.AuthSeqKnown) and the sequence-number rules of RFC 5880 6.7.3 and 6.7.4:
 * what goes out, and whether a received packet is accepted. The section codec is `auth.ts`.
 *
 * Time is passed in (ms of the session's Clock), so the rule that bfd.AuthSeqKnown is cleared after
 * two Detection Times without a packet (6.8.1) is applied when the next packet arrives.
 */
import { randomInt } from 'node:crypto';
import {
  AUTH_TYPE_NAMES,
  type BfdAuthConfig,
  type BfdAuthFailure,
  type BfdAuthTypeName,
  checkAuthConfig,
  checkAuthentication,
  digestLength,
  encodeAuthenticated,
  isMeticulous,
  receivedSequence,
} from './auth.js';
import { type BfdControlPacket, encodeControl } from './packet.js';

/** `a` lies in [lo, lo + span] on the 32-bit circle (RFC 5880 6.7.3). */
function inWindow(a: number, lo: number, span: number): boolean {
  return (a - lo) >>> 0 <= span;
}

export class BfdAuthState {
  readonly config: BfdAuthConfig;
  /** bfd.XmitAuthSeq: RFC 5880 6.8.1 says to start at a random 32-bit value. */
  private xmitSeq: number;
  private rcvSeq = 0;
  private seqKnown = false;
  private lastRxAt = Number.NEGATIVE_INFINITY;

  constructor(config: BfdAuthConfig, initialSeq: number = randomInt(0, 2 ** 32 - 1)) {
    this.config = checkAuthConfig(config);
    this.xmitSeq = initialSeq >>> 0;
  }

  /**
   * Encodes an outgoing packet with its Authentication Section. Every packet takes the next number:
   * RFC 5880 6.7.3 and 6.7.4 require that of the meticulous types and allow it for the others.
   */
  encode(p: BfdControlPacket): Buffer {
    const out = encodeAuthenticated(p, this.config, this.xmitSeq);
    if (digestLength(this.config.type) > 0) this.xmitSeq = (this.xmitSeq + 1) >>> 0;
    return out;
  }

  /**
   * RFC 5880 6.7.2-6.7.4 reception: undefined when the packet is accepted (and the received
   * sequence number is then remembered), else why it must be discarded. `detectTimeMs` is the
   * session's Detection Time, `now` the clock time.
   */
  verify(raw: Buffer, p: BfdControlPacket, now: number, detectTimeMs: number): BfdAuthFailure | undefined {
    // RFC 5880 6.8.1: bfd.AuthSeqKnown "MUST be set to zero after no packets have been received on
    // this session for at least twice the Detection Time".
    if (this.seqKnown && now - this.lastRxAt >= 2 * detectTimeMs) this.seqKnown = false;
    const failure = checkAuthentication(raw, p, this.config);
    if (failure) return failure;
    const seq = receivedSequence(p);
    if (seq !== undefined && this.seqKnown) {
      // "bfd.RcvAuthSeq to bfd.RcvAuthSeq+(3*Detect Mult) inclusive"; meticulous: from RcvAuthSeq+1.
      const span = 3 * p.detectMult;
      const ok = isMeticulous(this.config.type)
        ? inWindow(seq, (this.rcvSeq + 1) >>> 0, span - 1)
        : inWindow(seq, this.rcvSeq, span);
      if (!ok) return 'auth-sequence';
    }
    this.lastRxAt = now;
    if (seq !== undefined) {
      this.rcvSeq = seq;
      this.seqKnown = true;
    }
    return undefined;
  }

  /** For status: the type and Key ID, never the key. */
  summary(): { type: BfdAuthTypeName; keyId: number } {
    return { type: AUTH_TYPE_NAMES[this.config.type], keyId: this.config.keyId };
  }

  /** For tests: bfd.RcvAuthSeq while bfd.AuthSeqKnown is 1. */
  get receiveSequence(): number | undefined {
    return this.seqKnown ? this.rcvSeq : undefined;
  }
}

/**
 * RFC 5880 6.8.6: "If the A bit is set and no authentication is in use (bfd.AuthType is zero), the
 * packet MUST be discarded. If the A bit is clear and authentication is in use (bfd.AuthType is
 * nonzero), the packet MUST be discarded. If the A bit is set, the packet MUST be authenticated
 * under the rules of section 6.7". `raw` is the datagram (absent: the packet encoded again).
 * Undefined: go on with the packet; else the drop reason.
 */
export function authFailure(
  state: BfdAuthState | undefined,
  raw: Buffer | undefined,
  p: BfdControlPacket,
  now: number,
  detectTimeMs: number,
): BfdAuthFailure | 'auth-unsupported' | undefined {
  if (!state) return p.auth ? 'auth-unsupported' : undefined;
  return state.verify(raw ?? encodeControl(p), p, now, detectTimeMs);
}
