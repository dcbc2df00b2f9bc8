/**
 * The BFD Authentication Section (RFC 5880 4.2-4.4, 6.7): pure functions that write it into an
 * outgoing Control packet and check it on a received one, for Simple Password (6.7.2), Keyed and
 * Meticulous Keyed MD5 (6.7.3) and Keyed and Meticulous Keyed SHA1 (6.7.4). The sequence-number
 * state that decides which numbers are acceptable lives in `auth-state.ts`.
 *
 *  Simple Password (4.2.2):  | Type=1 | Len=3+n | Key ID | Password (1..16 bytes) |
 *  Keyed MD5 / SHA1 (4.2.3, 4.2.4):
 *   | Type | Len=24/28 | Key ID | Reserved=0 | Sequence Number (32) | Auth Key/Digest (16/20) |
 *
 * The digest is MD5 or SHA1 over the entire Control packet (Length bytes) with the key, padded
 * with zeros to the digest size, in the Auth Key/Digest field (RFC 5880 6.7.3, 6.7.4).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { BfdAuthType, type BfdControlPacket, CONTROL_LEN, encodeControl } from './packet.js';

/** The configured authentication of a session: bfd.AuthType and one key (RFC 5880 6.8.1). */
export interface BfdAuthConfig {
  type: BfdAuthType;
  keyId: number;
  key: Buffer;
}

/** Config names of the Auth Types, as status shows them. */
export const AUTH_TYPE_NAMES: Record<BfdAuthType, BfdAuthTypeName> = {
  [BfdAuthType.SimplePassword]: 'simple',
  [BfdAuthType.KeyedMd5]: 'keyed-md5',
  [BfdAuthType.MeticulousKeyedMd5]: 'meticulous-keyed-md5',
  [BfdAuthType.KeyedSha1]: 'keyed-sha1',
  [BfdAuthType.MeticulousKeyedSha1]: 'meticulous-keyed-sha1',
};

export type BfdAuthTypeName =
  | 'simple'
  | 'keyed-md5'
  | 'meticulous-keyed-md5'
  | 'keyed-sha1'
  | 'meticulous-keyed-sha1';

export function authTypeFromName(name: BfdAuthTypeName): BfdAuthType {
  const found = Object.entries(AUTH_TYPE_NAMES).find(([, n]) => n === name);
  if (!found) throw new RangeError(`unknown BFD authentication type ${name}`);
  return Number(found[0]) as BfdAuthType;
}

/** RFC 5880 4.2.3, 4.2.4: the digest length of a keyed type; 0 for Simple Password. */
export function digestLength(type: BfdAuthType): number {
  switch (type) {
    case BfdAuthType.KeyedMd5:
    case BfdAuthType.MeticulousKeyedMd5:
      return 16;
    case BfdAuthType.KeyedSha1:
    case BfdAuthType.MeticulousKeyedSha1:
      return 20;
    default:
      return 0;
  }
}

/** RFC 5880 6.7.3, 6.7.4: the meticulous types take a new sequence number in every packet. */
export function isMeticulous(type: BfdAuthType): boolean {
  return type === BfdAuthType.MeticulousKeyedMd5 || type === BfdAuthType.MeticulousKeyedSha1;
}

/** RFC 5880 4.2.2-4.2.4: the longest key each type carries (simple: 1..16 bytes). */
export function maxKeyLength(type: BfdAuthType): number {
  return type === BfdAuthType.SimplePassword ? 16 : digestLength(type);
}

/** Throws RangeError unless the key fits the type (RFC 5880 4.2.2-4.2.4) and the Key ID one octet. */
export function checkAuthConfig(auth: BfdAuthConfig): BfdAuthConfig {
  if (!(auth.type in AUTH_TYPE_NAMES)) throw new RangeError(`Auth Type ${auth.type} is not defined`);
  if (!Number.isInteger(auth.keyId) || auth.keyId < 0 || auth.keyId > 255) {
    throw new RangeError(`Key ID ${auth.keyId} must be 0..255`);
  }
  const max = maxKeyLength(auth.type);
  const min = auth.type === BfdAuthType.SimplePassword ? 1 : 0;
  if (auth.key.length < min || auth.key.length > max) {
    throw new RangeError(
      `a ${AUTH_TYPE_NAMES[auth.type]} key has ${min}..${max} bytes, not ${auth.key.length}`,
    );
  }
  return auth;
}

function digest(type: BfdAuthType, data: Buffer): Buffer {
  const algo = digestLength(type) === 16 ? 'md5' : 'sha1';
  return createHash(algo).update(data).digest();
}

/**
 * Encodes `p` (its `auth` ignored) with the Authentication Section of `auth`; `seq` is
 * bfd.XmitAuthSeq (unused for Simple Password). RFC 5880 6.7.2-6.7.4, transmission.
 */
export function encodeAuthenticated(p: BfdControlPacket, auth: BfdAuthConfig, seq: number): Buffer {
  const n = digestLength(auth.type);
  let data: Buffer;
  if (n === 0) {
    data = Buffer.from(auth.key);
  } else {
    data = Buffer.alloc(1 + 4 + n);
    // data[0]: Reserved, zero. The key padded with zeros stands in the digest field for hashing.
    data.writeUInt32BE(seq >>> 0, 1);
    auth.key.copy(data, 5);
  }
  const out = encodeControl({ ...p, auth: { type: auth.type, keyId: auth.keyId, data } });
  if (n > 0) digest(auth.type, out).copy(out, CONTROL_LEN + 8);
  return out;
}

/** Why a received Authentication Section was refused: stable strings, used as drop counter keys. */
export type BfdAuthFailure = 'auth-missing' | 'auth-type' | 'auth-key-id' | 'auth-sequence' | 'auth-failed';

/** A received keyed section's Sequence Number; undefined for Simple Password or a short section. */
export function receivedSequence(p: BfdControlPacket): number | undefined {
  if (!p.auth || digestLength(p.auth.type) === 0 || p.auth.data.length < 5) return undefined;
  return p.auth.data.readUInt32BE(1);
}

/**
 * RFC 5880 6.7.2-6.7.4, reception, all but the sequence-number window: the Auth Type and Len match
 * bfd.AuthType, the Key ID is the configured one, and the password or digest is right. `raw` is the
 * packet as received (at least Length bytes). Returns undefined when the packet is authentic.
 */
export function checkAuthentication(
  raw: Buffer,
  p: BfdControlPacket,
  auth: BfdAuthConfig,
): BfdAuthFailure | undefined {
  if (!p.auth) return 'auth-missing';
  if (p.auth.type !== auth.type) return 'auth-type';
  if (p.auth.keyId !== auth.keyId) return 'auth-key-id';
  const n = digestLength(auth.type);
  if (n === 0) {
    const got = p.auth.data;
    return got.length === auth.key.length && timingSafeEqual(got, auth.key) ? undefined : 'auth-failed';
  }
  // The codec has checked Auth Len (24 / 28) against the type.
  const length = raw[3] ?? 0;
  if (raw.length < length || length < CONTROL_LEN + 8 + n) return 'auth-failed';
  const copy = Buffer.from(raw.subarray(0, length));
  const received = Buffer.from(copy.subarray(CONTROL_LEN + 8, CONTROL_LEN + 8 + n));
  copy.fill(0, CONTROL_LEN + 8, CONTROL_LEN + 8 + n);
  auth.key.copy(copy, CONTROL_LEN + 8);
  return timingSafeEqual(digest(auth.type, copy), received) ? undefined : 'auth-failed';
}
