/**
 * A map keyed by prefix, compact enough for a full table. IPv4 keys live in one Map per prefix
 * length keyed by the address as a signed 32-bit integer: V8 keeps those as small integers
 * (no heap number per key), which halves insert time and saves memory against one combined key
 * such as address * 64 + length (above 2^31). IPv6 keys are short hex strings.
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
      const slash = k.indexOf('/');
      yield [makePrefix(Buffer.from(k.slice(0, slash), 'hex'), Number(k.slice(slash + 1))), v];
    }
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
