/**
 * Two BFD sessions joined by an in-memory link on one ManualClock: each transmitted packet is
 * decoded and delivered to the other side after `latencyMs`, unless the link is cut.
 */

import type { BfdAuthConfig } from '../../src/bfd/auth.js';
import { type BfdControlPacket, decodeControl } from '../../src/bfd/packet.js';
import { BfdSession, type BfdStateChange, type BfdTimerConfig } from '../../src/bfd/session.js';
import { ManualClock } from '../../src/lib/clock.js';

export interface Sent {
  at: number;
  from: 'a' | 'b';
  packet: BfdControlPacket;
  /** The encoded datagram. */
  bytes: Buffer;
}

export interface Pair {
  clock: ManualClock;
  a: BfdSession;
  b: BfdSession;
  sent: Sent[];
  events: { side: 'a' | 'b'; e: BfdStateChange }[];
  /** Drops everything in one or both directions. */
  cut(dir?: 'a->b' | 'b->a' | 'both'): void;
  heal(): void;
  /** Delivers a hand-made packet (and its datagram, when it matters) to one side, as if from the other. */
  inject(to: 'a' | 'b', p: BfdControlPacket, bytes?: Buffer): void;
}

export function pair(
  ta: BfdTimerConfig,
  tb: BfdTimerConfig,
  opts: { latencyMs?: number; random?: () => number; auth?: { a?: BfdAuthConfig; b?: BfdAuthConfig } } = {},
): Pair {
  const clock = new ManualClock(1000);
  const latency = opts.latencyMs ?? 1;
  const blocked = new Set<string>();
  const sent: Sent[] = [];
  const events: Pair['events'] = [];
  const sessions: Partial<Record<'a' | 'b', BfdSession>> = {};
  const wire = (from: 'a' | 'b') => (bytes: Buffer) => {
    const packet = decodeControl(bytes);
    sent.push({ at: clock.now(), from, packet, bytes });
    const to = from === 'a' ? 'b' : 'a';
    if (blocked.has(`${from}->${to}`)) return;
    clock.setTimer(latency, () => sessions[to]!.receive(packet, bytes));
  };
  const random = opts.random ?? (() => 0.5);
  const a = new BfdSession({
    peer: '198.18.0.1',
    localAddress: '198.18.0.0',
    localDiscriminator: 0x1111,
    clock,
    random,
    transmit: wire('a'),
    ...(opts.auth?.a ? { auth: opts.auth.a } : {}),
    ...ta,
  });
  const b = new BfdSession({
    peer: '198.18.0.0',
    localAddress: '198.18.0.1',
    localDiscriminator: 0x2222,
    clock,
    random,
    transmit: wire('b'),
    ...(opts.auth?.b ? { auth: opts.auth.b } : {}),
    ...tb,
  });
  sessions.a = a;
  sessions.b = b;
  a.onStateChange((e) => events.push({ side: 'a', e }));
  b.onStateChange((e) => events.push({ side: 'b', e }));
  return {
    clock,
    a,
    b,
    sent,
    events,
    cut(dir = 'both') {
      if (dir !== 'b->a') blocked.add('a->b');
      if (dir !== 'a->b') blocked.add('b->a');
    },
    heal() {
      blocked.clear();
    },
    inject(to, p, bytes) {
      sessions[to]!.receive(p, bytes);
    },
  };
}

export const FAST: BfdTimerConfig = { desiredMinTxMs: 100, requiredMinRxMs: 100, detectMult: 3 };
