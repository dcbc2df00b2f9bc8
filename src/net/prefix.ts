/**
 * IP prefixes: parse, format, compare, contain.
 *
 * A prefix is kept as its family, its length and its address bytes (4 or 16, host bits zeroed),
 * so codecs can copy the significant octets straight into NLRI (RFC 4271 4.3) and the IPAM can do
 * arithmetic through `toBigInt`/`fromBigInt`.
 */
import { isIPv4, isIPv6 } from 'node:net';

export type Family = 4 | 6;

export interface Prefix {
  readonly family: Family;
  /** 4 or 16 bytes, network byte order, bits past `length` are zero. */
  readonly bytes: Buffer;
  readonly length: number;
}

export class PrefixError extends Error {}

export function addressBits(family: Family): number {
  return family === 4 ? 32 : 128;
}

/** Parses an IPv4 or IPv6 address into its network-order bytes; throws PrefixError. */
export function parseAddress(text: string): Buffer {
  if (isIPv4(text)) return Buffer.from(text.split('.').map(Number));
  if (isIPv6(text)) return ipv6Bytes(text);
  throw new PrefixError(`${JSON.stringify(text)} is not an IPv4 or IPv6 address`);
}

function ipv6Bytes(text: string): Buffer {
  let head = text;
  let tail4: number[] = [];
  // An embedded dotted quad (::ffff:198.18.0.1) fills the last 32 bits.
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.', lastColon)) {
    tail4 = text
      .slice(lastColon + 1)
      .split('.')
      .map(Number);
    head = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const [left, right] = head.includes('::') ? head.split('::') : [head, undefined];
  const groups = (s: string | undefined): number[] =>
    s ? s.split(':').map((g) => Number.parseInt(g, 16)) : [];
  const l = groups(left);
  const r = groups(right);
  const fill = right === undefined ? [] : new Array<number>(8 - l.length - r.length).fill(0);
  const all = [...l, ...fill, ...r];
  const out = Buffer.alloc(16);
  all.forEach((g, i) => {
    out.writeUInt16BE(g, i * 2);
  });
  if (tail4.length === 4) Buffer.from(tail4).copy(out, 12);
  return out;
}

export function formatAddress(bytes: Buffer): string {
  if (bytes.length === 4) return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
  if (bytes.length !== 16) throw new PrefixError(`address of ${bytes.length} bytes`);
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i));
  // RFC 5952 4.2: compress the longest run (first on ties) of two or more zero groups.
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

export function familyOf(bytes: Buffer): Family {
  return bytes.length === 4 ? 4 : 6;
}

/** Zeroes the host bits: the canonical form every Prefix keeps. */
export function maskBytes(bytes: Buffer, length: number): Buffer {
  const out = Buffer.from(bytes);
  for (let i = 0; i < out.length; i++) {
    const bitsHere = Math.max(0, Math.min(8, length - i * 8));
    out[i] = out[i]! & (0xff << (8 - bitsHere)) & 0xff;
  }
  return out;
}

export function makePrefix(bytes: Buffer, length: number): Prefix {
  const family = familyOf(bytes);
  if (!Number.isInteger(length) || length < 0 || length > addressBits(family)) {
    throw new PrefixError(`prefix length ${length} is out of range for IPv${family}`);
  }
  return { family, bytes: maskBytes(bytes, length), length };
}

/**
 * Parses "198.18.0.0/24" or "2001:db8::/48". With `strict` (the default), host bits set in
 * the address are an error, as an operator who wrote 198.18.0.1/24 most likely meant something else.
 */
export function parsePrefix(text: string, strict = true): Prefix {
  const slash = text.indexOf('/');
  if (slash < 0) throw new PrefixError(`${JSON.stringify(text)} is not a prefix (address/length)`);
  const bytes = parseAddress(text.slice(0, slash));
  const lenText = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(lenText)) throw new PrefixError(`${JSON.stringify(text)} has no valid prefix length`);
  const prefix = makePrefix(bytes, Number(lenText));
  if (strict && !prefix.bytes.equals(bytes)) {
    throw new PrefixError(`${text} has host bits set (did you mean ${formatPrefix(prefix)}?)`);
  }
  return prefix;
}

export function formatPrefix(p: Prefix): string {
  return `${formatAddress(p.bytes)}/${p.length}`;
}

export function prefixEquals(a: Prefix, b: Prefix): boolean {
  return a.family === b.family && a.length === b.length && a.bytes.equals(b.bytes);
}

/** Orders by family, then address, then length: the order status output and tests rely on. */
export function comparePrefix(a: Prefix, b: Prefix): number {
  if (a.family !== b.family) return a.family - b.family;
  const c = Buffer.compare(a.bytes, b.bytes);
  return c !== 0 ? c : a.length - b.length;
}

/** True when `inner` lies within `outer` (equal counts). */
export function prefixContains(outer: Prefix, inner: Prefix): boolean {
  return (
    outer.family === inner.family &&
    outer.length <= inner.length &&
    maskBytes(inner.bytes, outer.length).equals(outer.bytes)
  );
}

export function prefixesOverlap(a: Prefix, b: Prefix): boolean {
  return prefixContains(a, b) || prefixContains(b, a);
}

export function toBigInt(bytes: Buffer): bigint {
  return BigInt(`0x${bytes.toString('hex') || '0'}`);
}

export function fromBigInt(value: bigint, family: Family): Buffer {
  const size = family === 4 ? 4 : 16;
  return Buffer.from(value.toString(16).padStart(size * 2, '0'), 'hex');
}

/** Number of addresses in the prefix, as a bigint (IPv6 /0 does not fit a number). */
export function prefixSize(p: Prefix): bigint {
  return 1n << BigInt(addressBits(p.family) - p.length);
}
