/**
 * The link state database of one flooding scope (an area, or the AS for AS-external-LSAs).
 * LSAs are stored as received (bytes) with the time of installation; the age is derived from the
 * clock (RFC 2328 12.1.1: age grows by one per second while held) and capped at MaxAge.
 */
import type { Clock } from '../lib/clock.js';
import { INF_TRANS_DELAY, MAX_AGE, MAX_AGE_DIFF } from './constants.js';
import type { LsaHeader } from './lsa/header.js';
import { lsaKey } from './lsa/header.js';
import type { Lsa } from './lsa/lsa.js';

export interface LsdbEntry {
  readonly key: string;
  readonly lsa: Lsa;
  /** The LSA as stored; its age field is the age at `installedAt`. */
  readonly bytes: Buffer;
  readonly installedAt: number;
  /** True when installed from a neighbor's LS Update (RFC 2328 13 (5)(a) MinLSArrival applies). */
  readonly fromFlooding: boolean;
}

export class Lsdb {
  private readonly map = new Map<string, LsdbEntry>();

  constructor(private readonly clock: Clock) {}

  get(key: string): LsdbEntry | undefined {
    return this.map.get(key);
  }

  entries(): LsdbEntry[] {
    return [...this.map.values()];
  }

  get size(): number {
    return this.map.size;
  }

  /** Current age in seconds (RFC 2328 12.1.1), never above MaxAge. */
  ageOf(e: LsdbEntry): number {
    const held = Math.floor((this.clock.now() - e.installedAt) / 1000);
    return Math.min(MAX_AGE, e.lsa.header.age + Math.max(0, held));
  }

  headerOf(e: LsdbEntry): LsaHeader {
    return { ...e.lsa.header, age: this.ageOf(e) };
  }

  /** Bytes to transmit: current age plus InfTransDelay (RFC 2328 13.3 (5)), capped at MaxAge. */
  bytesForSend(e: LsdbEntry, transmitDelay = INF_TRANS_DELAY): Buffer {
    const out = Buffer.from(e.bytes);
    out.writeUInt16BE(Math.min(MAX_AGE, this.ageOf(e) + transmitDelay), 0);
    return out;
  }

  install(lsa: Lsa, bytes: Buffer, fromFlooding: boolean): LsdbEntry {
    const entry: LsdbEntry = {
      key: lsaKey(lsa.header),
      lsa,
      bytes: Buffer.from(bytes),
      installedAt: this.clock.now(),
      fromFlooding,
    };
    this.map.set(entry.key, entry);
    return entry;
  }

  remove(key: string): void {
    this.map.delete(key);
  }
}

/**
 * RFC 2328 13.1: which of two instances of the same LSA is more recent. Positive when `a` is
 * newer, negative when `b` is, 0 when they are the same instance. Ages must be current.
 */
export function compareLsaInstances(a: LsaHeader, b: LsaHeader): number {
  if (a.seq !== b.seq) return a.seq > b.seq ? 1 : -1;
  if (a.checksum !== b.checksum) return a.checksum > b.checksum ? 1 : -1;
  const aMax = a.age >= MAX_AGE;
  const bMax = b.age >= MAX_AGE;
  if (aMax !== bMax) return aMax ? 1 : -1;
  if (Math.abs(a.age - b.age) > MAX_AGE_DIFF) return a.age < b.age ? 1 : -1;
  return 0;
}
