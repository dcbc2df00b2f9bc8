/**
 * Authentication (RFC 2328 Appendix D; RFC 5709 for HMAC-SHA-256).
 *
 * - none (AuType 0) and simple (1): the packet checksum covers the packet, Auth field as zeros.
 * - crypto (2): checksum 0; Auth = 0x0000 · KeyID · AuthLen · CryptoSeq32; the digest is appended
 *   after the OSPF packet length (not counted in it).
 *   MD5 (D.4.3):        MD5(packet ‖ key zero-padded to 16)
 *   HMAC-SHA-256 (5709): HMAC(Ks, packet ‖ Apad), Apad = 0x878FE1F3 repeated to 32 bytes,
 *                        Ks = key zero-padded to 32, or SHA-256(key) when longer (RFC 5709 3.3).
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { packetChecksum } from '../checksum.js';
import { AuType } from '../constants.js';
import type { RawHeader } from './header.js';

export type AuthConfig =
  | { type: 'none' }
  | { type: 'simple'; key: string }
  | { type: 'md5'; keyId: number; key: string }
  | { type: 'hmac-sha-256'; keyId: number; key: string };

const APAD = Buffer.from('878fe1f3', 'hex');

/** 2024-01-01T00:00:00Z: the origin of the cryptographic sequence clock below. */
const CRYPTO_SEQ_EPOCH_MS = Date.UTC(2024, 0, 1);
/** One sequence tick per 100 ms: 2^32 ticks last until 2037 (like a 32-bit time_t). */
const CRYPTO_SEQ_TICK_MS = 100;

/**
 * The lowest cryptographic sequence number to send at wall-clock time `nowMs` (RFC 2328 D.4.3).
 * Receivers drop a packet whose number is below (FRR: not above) the last one accepted from us
 * until the adjacency dies, so a restarted daemon must start above everything its previous
 * incarnation sent. Seeding from wall-clock seconds (as FRR does) fails that after a restart
 * within seconds of an adjacency bring-up, which sends more than one packet a second: the MD5
 * interop test saw FRR ignore the new process until Dead. Ticks of 100 ms keep ahead unless
 * a process averages more than ten packets a second per interface.
 */
export function cryptoSeqFloor(nowMs: number): number {
  return Math.max(0, Math.floor((nowMs - CRYPTO_SEQ_EPOCH_MS) / CRYPTO_SEQ_TICK_MS)) >>> 0;
}

export function auTypeOf(auth: AuthConfig): AuType {
  if (auth.type === 'none') return AuType.None;
  if (auth.type === 'simple') return AuType.Simple;
  return AuType.Crypto;
}

function digestLength(auth: AuthConfig): number {
  return auth.type === 'md5' ? 16 : auth.type === 'hmac-sha-256' ? 32 : 0;
}

function computeDigest(packet: Buffer, auth: AuthConfig): Buffer {
  if (auth.type === 'md5') {
    const key = Buffer.alloc(16);
    Buffer.from(auth.key).copy(key, 0, 0, 16);
    return createHash('md5').update(packet).update(key).digest();
  }
  if (auth.type === 'hmac-sha-256') {
    let key = Buffer.from(auth.key);
    if (key.length > 32) key = createHash('sha256').update(key).digest();
    const ks = Buffer.alloc(32);
    key.copy(ks);
    const apad = Buffer.alloc(32);
    for (let i = 0; i < 32; i += 4) APAD.copy(apad, i);
    return createHmac('sha256', ks).update(packet).update(apad).digest();
  }
  return Buffer.alloc(0);
}

/**
 * Seals an encoded packet (header fields already written, length = packet.length): fills AuType,
 * Authentication and checksum, and appends the digest for crypto auth. Returns a new buffer.
 */
export function sealPacket(packet: Buffer, auth: AuthConfig, cryptoSeq: number): Buffer {
  const out = Buffer.from(packet);
  out.writeUInt16BE(auTypeOf(auth), 14);
  out.fill(0, 16, 24);
  if (auth.type === 'none' || auth.type === 'simple') {
    out.writeUInt16BE(packetChecksum(out), 12);
    if (auth.type === 'simple') Buffer.from(auth.key).copy(out, 16, 0, 8);
    return out;
  }
  out.writeUInt16BE(0, 12);
  out[18] = auth.keyId;
  out[19] = digestLength(auth);
  out.writeUInt32BE(cryptoSeq >>> 0, 20);
  return Buffer.concat([out, computeDigest(out, auth)]);
}

/**
 * Checks a received packet (RFC 2328 D.5). `buf` is the packet plus any trailing bytes.
 * Returns null when accepted, else the drop reason. The crypto sequence check is the caller's
 * (it is per neighbor).
 */
export function verifyAuth(buf: Buffer, h: RawHeader, auth: AuthConfig): string | null {
  const packet = buf.subarray(0, h.length);
  if (h.auth.auType !== auTypeOf(auth)) return 'auth-type';
  if (auth.type === 'none' || auth.type === 'simple') {
    if (packetChecksum(packet) !== h.checksum) return 'bad-checksum';
    if (auth.type === 'simple') {
      const want = Buffer.alloc(8);
      Buffer.from(auth.key).copy(want, 0, 0, 8);
      if (!want.equals(h.auth.data)) return 'auth-key';
    }
    return null;
  }
  if (h.auth.keyId !== auth.keyId) return 'auth-key';
  const len = digestLength(auth);
  if (h.auth.authLen !== len || buf.length < h.length + len) return 'auth-key';
  const got = buf.subarray(h.length, h.length + len);
  const want = computeDigest(packet, auth);
  return timingSafeEqual(got, want) ? null : 'auth-key';
}
