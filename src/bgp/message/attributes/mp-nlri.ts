/**
 * MP_REACH_NLRI (RFC 4760 3) and MP_UNREACH_NLRI (RFC 4760 4) for IPv4 and IPv6 unicast.
 *
 *  +---------------------------------------------------------+
 *  | Address Family Identifier (2 octets)                    |
 *  | Subsequent Address Family Identifier (1 octet)          |
 *  | Length of Next Hop Network Address (1 octet)            |
 *  | Network Address of Next Hop (variable)                  |
 *  | Reserved (1 octet)                                      |
 *  | Network Layer Reachability Information (variable)       |
 *  +---------------------------------------------------------+
 *
 * IPv6 next hop: 16 octets global, or 32 global + link-local (RFC 2545 3). An IPv4 NLRI may have
 * an IPv6 next hop (RFC 8950), so AFI 1 accepts 4, 16 or 32 octets.
 *
 * Errors: RFC 4760 7 and RFC 7606 7.11 — a next hop length that does not fit, or NLRI that do not
 * parse, make the NLRI unlocatable, so the session is reset with UPDATE Message Error / Optional
 * Attribute Error. A family we do not speak is discarded (we never negotiated it).
 */
import { type Family, formatAddress, parseAddress } from '../../../net/prefix.js';
import { decodePrefixes, encodePrefixes } from '../nlri.js';
import {
  Afi,
  AttrType,
  BgpDecodeError,
  ErrorCode,
  type MpReach,
  type MpUnreach,
  Safi,
  UpdateSubcode,
} from '../types.js';
import { ByteWriter } from '../writer.js';
import { type AttrDecodeState, discard } from './state.js';

function familyOf(afi: number, safi: number): Family | undefined {
  if (safi !== Safi.Unicast) return undefined;
  if (afi === Afi.Ipv4) return 4;
  if (afi === Afi.Ipv6) return 6;
  return undefined;
}

function optionalAttributeError(attribute: Buffer, why: string): BgpDecodeError {
  // Copied: the NOTIFICATION outlives the received buffer.
  // RFC 4271 6.3: Data is the erroneous attribute (type, length and value).
  return new BgpDecodeError(
    ErrorCode.UpdateMessage,
    UpdateSubcode.OptionalAttributeError,
    Buffer.from(attribute),
    why,
  );
}

export function decodeMpReach(
  s: AttrDecodeState,
  buf: Buffer,
  off: number,
  len: number,
  attrStart: number,
): void {
  if (len < 5)
    throw optionalAttributeError(buf.subarray(attrStart, off + len), `MP_REACH_NLRI of length ${len}`);
  const afi = buf.readUInt16BE(off);
  const safi = buf[off + 2]!;
  const nhLen = buf[off + 3]!;
  const family = familyOf(afi, safi);
  if (family === undefined) {
    discard(
      s,
      AttrType.MpReachNlri,
      UpdateSubcode.OptionalAttributeError,
      `MP_REACH_NLRI for AFI ${afi} SAFI ${safi}`,
    );
    return;
  }
  if (4 + nhLen + 1 > len)
    throw optionalAttributeError(
      buf.subarray(attrStart, off + len),
      `next hop length ${nhLen} overruns MP_REACH_NLRI`,
    );
  const validNh = family === 4 ? nhLen === 4 || nhLen === 16 || nhLen === 32 : nhLen === 16 || nhLen === 32;
  if (!validNh)
    throw optionalAttributeError(
      buf.subarray(attrStart, off + len),
      `next hop length ${nhLen} for AFI ${afi}`,
    );
  const nh = off + 4;
  const first = nhLen === 4 ? 4 : 16;
  const nextHop = formatAddress(buf.subarray(nh, nh + first));
  // Reserved octet (formerly the SNPA count) after the next hop: ignored, RFC 4760 3.
  const nlri = decodePrefixes(buf, nh + nhLen + 1, off + len, family);
  if (typeof nlri === 'string')
    throw optionalAttributeError(buf.subarray(attrStart, off + len), `MP_REACH_NLRI: ${nlri}`);
  const reach: MpReach =
    nhLen === 32
      ? { afi, safi, nextHop, linkLocalNextHop: formatAddress(buf.subarray(nh + 16, nh + 32)), nlri }
      : { afi, safi, nextHop, nlri };
  s.attrs.mpReach = reach;
}

export function decodeMpUnreach(
  s: AttrDecodeState,
  buf: Buffer,
  off: number,
  len: number,
  attrStart: number,
): void {
  if (len < 3)
    throw optionalAttributeError(buf.subarray(attrStart, off + len), `MP_UNREACH_NLRI of length ${len}`);
  const afi = buf.readUInt16BE(off);
  const safi = buf[off + 2]!;
  const family = familyOf(afi, safi);
  if (family === undefined) {
    discard(
      s,
      AttrType.MpUnreachNlri,
      UpdateSubcode.OptionalAttributeError,
      `MP_UNREACH_NLRI for AFI ${afi} SAFI ${safi}`,
    );
    return;
  }
  const withdrawn = decodePrefixes(buf, off + 3, off + len, family);
  if (typeof withdrawn === 'string')
    throw optionalAttributeError(buf.subarray(attrStart, off + len), `MP_UNREACH_NLRI: ${withdrawn}`);
  s.attrs.mpUnreach = { afi, safi, withdrawn };
}

function requireFamily(afi: number, safi: number, what: string): Family {
  const family = familyOf(afi, safi);
  if (family === undefined) throw new Error(`${what} for AFI ${afi} SAFI ${safi} is not supported`);
  return family;
}

export function encodeMpReach(r: MpReach): Buffer {
  const family = requireFamily(r.afi, r.safi, 'MP_REACH_NLRI');
  const nh = parseAddress(r.nextHop);
  const w = new ByteWriter(64);
  w.u16(r.afi).u8(r.safi);
  if (r.linkLocalNextHop !== undefined) {
    const ll = parseAddress(r.linkLocalNextHop);
    if (nh.length !== 16 || ll.length !== 16)
      throw new Error('a link-local next hop needs an IPv6 global next hop');
    w.u8(32).bytes(nh).bytes(ll);
  } else {
    if (family === 6 && nh.length !== 16) throw new Error(`IPv6 NLRI with next hop ${r.nextHop}`);
    w.u8(nh.length).bytes(nh);
  }
  w.u8(0);
  encodePrefixes(w, r.nlri, family);
  return w.finish();
}

export function encodeMpUnreach(u: MpUnreach): Buffer {
  const family = requireFamily(u.afi, u.safi, 'MP_UNREACH_NLRI');
  const w = new ByteWriter(64);
  w.u16(u.afi).u8(u.safi);
  encodePrefixes(w, u.withdrawn, family);
  return w.finish();
}
