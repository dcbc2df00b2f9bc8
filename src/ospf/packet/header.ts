/**
 * OSPF packet header (RFC 2328 A.3.1), 24 bytes:
 *
 *   |   Version #   |     Type      |         Packet length         |
 *   |                          Router ID                            |
 *   |                           Area ID                             |
 *   |           Checksum            |             AuType            |
 *   |                       Authentication (8)                      |
 */
import { OSPF_VERSION, type PacketType } from '../constants.js';
import { OspfDecodeError, readIp, writeIp } from '../ip.js';

export const PACKET_HEADER_LEN = 24;

export interface PacketHeader {
  type: PacketType;
  routerId: string;
  areaId: string;
}

/** The raw authentication fields as received (RFC 2328 D.3). */
export interface AuthFields {
  auType: number;
  /** The 8 bytes as received (simple password, or the crypto block below). */
  data: Buffer;
  keyId: number;
  authLen: number;
  cryptoSeq: number;
}

export interface RawHeader extends PacketHeader {
  version: number;
  length: number;
  checksum: number;
  auth: AuthFields;
}

export function decodePacketHeader(buf: Buffer): RawHeader {
  if (buf.length < PACKET_HEADER_LEN) throw new OspfDecodeError('short-packet', 'packet shorter than header');
  const version = buf[0]!;
  if (version !== OSPF_VERSION) throw new OspfDecodeError('bad-version', `OSPF version ${version}`);
  const length = buf.readUInt16BE(2);
  if (length < PACKET_HEADER_LEN || length > buf.length) {
    throw new OspfDecodeError('bad-length', `packet length ${length} with ${buf.length} bytes received`);
  }
  const data = Buffer.from(buf.subarray(16, 24));
  return {
    version,
    type: buf[1]! as PacketType,
    length,
    routerId: readIp(buf, 4),
    areaId: readIp(buf, 8),
    checksum: buf.readUInt16BE(12),
    auth: {
      auType: buf.readUInt16BE(14),
      data,
      keyId: data[2]!,
      authLen: data[3]!,
      cryptoSeq: data.readUInt32BE(4),
    },
  };
}

/** Writes version, type, length, router and area IDs; checksum and auth are filled by `auth.ts`. */
export function writePacketHeader(out: Buffer, h: PacketHeader, length: number): void {
  out[0] = OSPF_VERSION;
  out[1] = h.type;
  out.writeUInt16BE(length, 2);
  writeIp(out, h.routerId, 4);
  writeIp(out, h.areaId, 8);
}
