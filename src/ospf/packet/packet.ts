/**
 * Whole OSPF packets: header + typed body. `decodePacket` checks framing (version, length, type)
 * and decodes the body between the header and the OSPF length; bytes past that length (crypto
 * digest, LLS block, link padding) are tolerated. Authentication and checksum: `auth.ts`.
 */
import { PacketType } from '../constants.js';
import { OspfDecodeError } from '../ip.js';
import { type AuthConfig, sealPacket } from './auth.js';
import { type DbDescriptionBody, decodeDbDescription, encodeDbDescription } from './dbd.js';
import { decodePacketHeader, PACKET_HEADER_LEN, type RawHeader, writePacketHeader } from './header.js';
import { decodeHello, encodeHello, type HelloBody } from './hello.js';
import { decodeLsAck, encodeLsAck, type LsAckBody } from './lsack.js';
import { decodeLsRequest, encodeLsRequest, type LsRequestBody } from './lsr.js';
import { decodeLsUpdate, encodeLsUpdate, type LsUpdateBody } from './lsu.js';

export type PacketBody = HelloBody | DbDescriptionBody | LsRequestBody | LsUpdateBody | LsAckBody;

export interface OspfPacket {
  routerId: string;
  areaId: string;
  body: PacketBody;
}

const typeOfKind: Record<PacketBody['kind'], PacketType> = {
  hello: PacketType.Hello,
  dd: PacketType.DbDescription,
  lsr: PacketType.LsRequest,
  lsu: PacketType.LsUpdate,
  ack: PacketType.LsAck,
};

export function packetTypeOf(body: PacketBody): PacketType {
  return typeOfKind[body.kind];
}

export interface DecodedPacket {
  packet: OspfPacket;
  header: RawHeader;
}

export function decodePacket(buf: Buffer): DecodedPacket {
  const header = decodePacketHeader(buf);
  const b = buf.subarray(PACKET_HEADER_LEN, header.length);
  let body: PacketBody;
  switch (header.type) {
    case PacketType.Hello:
      body = decodeHello(b);
      break;
    case PacketType.DbDescription:
      body = decodeDbDescription(b);
      break;
    case PacketType.LsRequest:
      body = decodeLsRequest(b);
      break;
    case PacketType.LsUpdate:
      body = decodeLsUpdate(b);
      break;
    case PacketType.LsAck:
      body = decodeLsAck(b);
      break;
    default:
      throw new OspfDecodeError('bad-type', `packet type ${header.type}`);
  }
  return { packet: { routerId: header.routerId, areaId: header.areaId, body }, header };
}

function encodeBody(body: PacketBody): Buffer {
  switch (body.kind) {
    case 'hello':
      return encodeHello(body);
    case 'dd':
      return encodeDbDescription(body);
    case 'lsr':
      return encodeLsRequest(body);
    case 'lsu':
      return encodeLsUpdate(body);
    case 'ack':
      return encodeLsAck(body);
  }
}

/** Encodes and seals a packet (checksum, authentication; `cryptoSeq` used only for crypto auth). */
export function encodePacket(p: OspfPacket, auth: AuthConfig = { type: 'none' }, cryptoSeq = 0): Buffer {
  const body = encodeBody(p.body);
  const out = Buffer.alloc(PACKET_HEADER_LEN + body.length);
  writePacketHeader(out, { type: packetTypeOf(p.body), routerId: p.routerId, areaId: p.areaId }, out.length);
  body.copy(out, PACKET_HEADER_LEN);
  return sealPacket(out, auth, cryptoSeq);
}
