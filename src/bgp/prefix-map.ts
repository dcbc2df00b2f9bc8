/**
 * A map keyed by prefix, compact enough for a full table. IPv4 keys live in one Map per prefix
 * length keyed by the address as a signed 32-bit integer: V8 keeps those as small integers
 * (no heap number per key), which halves insert time and saves memory against one combined key
 * such as address * 64 + length (above 2^31). IPv6 keys are short hex strings.
 *
 * Two reads for the status view walk the keys without building a Prefix per entry: `first` (the
 * lowest keys in prefix order) and `distinctCount` (keys of several maps, each counted once).
 */
import { makePrefix, type Prefix } from '../net/prefix.js';

export class PrefixMap<V> {
  private readonly v4: Map<number, V>[] = Array.from({ length: 33 }, () => new Map<number, V>());
  private readonly v6 = new Map<string, V>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(p: Prefix): V | undefined {
    return p.family === 4 ? this.v4[p.length]!.get(p.bytes.readInt32BE(0)) : this.v6.get(v6Key(p));
  }

  set(p: Prefix, value: V): void {
    if (p.family === 4) {
      const m = this.v4[p.length]!;
      const k = p.bytes.readInt32BE(0);
      if (!m.has(k)) this.count++;
      m.set(k, value);
    } else {
      const k = v6Key(p);
      if (!this.v6.has(k)) this.count++;
      this.v6.set(k, value);
    }
  }

  delete(p: Prefix): boolean {
    if (this.count === 0) return false;
    const gone =
      p.family === 4 ? this.v4[p.length]!.delete(p.bytes.readInt32BE(0)) : this.v6.delete(v6Key(p));
    if (gone) this.count--;
    return gone;
  }

  *entries(): IterableIterator<[Prefix, V]> {
    for (let len = 0; len <= 32; len++) {
      for (const [k, v] of this.v4[len]!) {
        const b = Buffer.alloc(4);
        b.writeInt32BE(k);
        yield [makePrefix(b, len), v];
      }
    }
    for (const [k, v] of this.v6) {
      yield [v6Prefix(k), v];
    }
  }

  /**
   * The `limit` lowest prefixes in `comparePrefix` order (family, address, length), sorted: one pass
   * over the keys keeping the lowest seen so far, so a full table costs no Prefix per entry.
   */
  first(limit: number): Prefix[] {
    if (limit <= 0) return [];
    // IPv4 as address * 64 + length: exact in a double (below 2^38), ordered as comparePrefix.
    const low = new Lowest<number>(limit, (a, b) => a - b);
    for (let len = 0; len <= 32; len++) {
      for (const k of this.v4[len]!.keys()) low.offer((k >>> 0) * 64 + len);
    }
    const out = low.result().map((n) => {
      const b = Buffer.alloc(4);
      b.writeUInt32BE(Math.floor(n / 64));
      return makePrefix(b, n % 64);
    });
    if (out.length === limit) return out;
    // IPv6 keys are 32 hex digits, '/', the length: the digits compare as the address bytes.
    const low6 = new Lowest<string>(limit - out.length, compareV6Key);
    for (const k of this.v6.keys()) low6.offer(k);
    for (const k of low6.result()) out.push(v6Prefix(k));
    return out;
  }

  /** Keys present in any of `maps`, each counted once. */
  static distinctCount(maps: readonly PrefixMap<unknown>[]): number {
    let n = 0;
    maps.forEach((m, i) => {
      const earlier = maps.slice(0, i);
      if (earlier.length === 0) {
        n += m.size;
        return;
      }
      for (let len = 0; len <= 32; len++) {
        for (const k of m.v4[len]!.keys()) if (!earlier.some((e) => e.v4[len]!.has(k))) n++;
      }
      for (const k of m.v6.keys()) if (!earlier.some((e) => e.v6.has(k))) n++;
    });
    return n;
  }

  clear(): void {
    for (const m of this.v4) m.clear();
    this.v6.clear();
    this.count = 0;
  }
}

function v6Key(p: Prefix): string {
  return `${p.bytes.toString('hex')}/${p.length}`;
}

function v6Prefix(k: string): Prefix {
  const slash = k.indexOf('/');
  return makePrefix(Buffer.from(k.slice(0, slash), 'hex'), Number(k.slice(slash + 1)));
}

function compareV6Key(a: string, b: string): number {
  const x = a.slice(0, 32);
  const y = b.slice(0, 32);
  return x < y ? -1 : x > y ? 1 : Number(a.slice(33)) - Number(b.slice(33));
}

/**
 * The `limit` lowest values offered: a buffer of twice that, cut back to the lowest `limit` when
 * full, and a bound that turns away at once what cannot be among them (a few sorts of 2 x limit
 * values for a million offered in any order).
 */
class Lowest<T> {
  private buf: T[] = [];
  private bound: T | undefined;

  constructor(
    private readonly limit: number,
    private readonly cmp: (a: T, b: T) => number,
  ) {}

  offer(v: T): void {
    if (this.bound !== undefined && this.cmp(v, this.bound) >= 0) return;
    this.buf.push(v);
    if (this.buf.length >= 2 * this.limit) this.cut();
  }

  result(): T[] {
    this.cut();
    return this.buf;
  }

  private cut(): void {
    this.buf.sort(this.cmp);
    if (this.buf.length >= this.limit) {
      this.buf.length = this.limit;
      this.bound = this.buf[this.limit - 1];
    }
  }
}
