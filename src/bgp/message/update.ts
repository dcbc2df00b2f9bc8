/**
 * UPDATE (RFC 4271 4.3) with the revised error handling of RFC 7606 and the AS4 attributes of
 * RFC 6793; End-of-RIB markers (RFC 4724 2).
 *
 *  +-----------------------------------------------------+
 *  |   Withdrawn Routes Length (2 octets)                |
 *  |   Withdrawn Routes (variable)                       |
 *  |   Total Path Attribute Length (2 octets)            |
 *  |   Path Attributes (variable)                        |
 *  |   Network Layer Reachability Information (variable) |
 *  +-----------------------------------------------------+
 *
 * Each path attribute: Flags (1), Type (1), Length (1, or 2 with Extended Length 0x10), Value.
 *
 * Errors that RFC 7606 still answers with a session reset throw BgpDecodeError: field lengths that
 * do not fit the message (3/1), an unparseable NLRI or withdrawn field (3/10, RFC 7606 5.3),
 * repeated MP_(UN)REACH_NLRI (3/1, RFC 7606 3 (g)), an unusable MP_(UN)REACH_NLRI (3/9, RFC 4760 7),
 * an unrecognized well-known attribute (3/2). Everything else becomes a note in `errors`.
 */
import { asPathCount, mergeAs4Path } from './attributes/as-path.js';
import { type AttrDecodeState, discard, withdraw } from './attributes/state.js';
import { ATTR_TABLE, ENCODE_ORDER } from './attributes/table.js';
import { finishMessage, startMessage } from './header.js';
import { decodePrefixes, encodePrefixes } from './nlri.js';
import {
  Afi,
  type AfiSafi,
  AS_TRANS,
  AttrFlag,
  AttrType,
  BgpDecodeError,
  type CodecContext,
  ErrorCode,
  HEADER_LENGTH,
  MessageType,
  type PathAttributes,
  Safi,
  type UnknownAttribute,
  type UpdateMessage,
  UpdateSubcode,
} from './types.js';
import type { ByteWriter } from './writer.js';

function updateError(subcode: number, why: string, data: Buffer = Buffer.alloc(0)): BgpDecodeError {
  return new BgpDecodeError(ErrorCode.UpdateMessage, subcode, data, why);
}

/** Decodes an UPDATE; `buf` is the whole message, at least 23 bytes (checked by `messageLength`). */
export function decodeUpdate(buf: Buffer, ctx: CodecContext): UpdateMessage {
  const end = buf.length;
  let off = HEADER_LENGTH;
  const withdrawnLen = buf.readUInt16BE(off);
  off += 2;
  // RFC 4271 6.3: Withdrawn Routes Length + Total Attribute Length + 23 must not exceed Length.
  if (off + withdrawnLen + 2 > end) {
    throw updateError(
      UpdateSubcode.MalformedAttributeList,
      `withdrawn routes length ${withdrawnLen} overruns`,
    );
  }
  const withdrawn = decodePrefixes(buf, off, off + withdrawnLen, 4);
  if (typeof withdrawn === 'string')
    throw updateError(UpdateSubcode.InvalidNetworkField, `withdrawn routes: ${withdrawn}`);
  off += withdrawnLen;
  const attrLen = buf.readUInt16BE(off);
  off += 2;
  if (off + attrLen > end) {
    throw updateError(
      UpdateSubcode.MalformedAttributeList,
      `total path attribute length ${attrLen} overruns`,
    );
  }
  const nlriStart = off + attrLen;
  const s: AttrDecodeState = {
    ctx,
    attrs: {},
    notes: [],
    unknown: [],
    hasLegacyNlri: nlriStart < end,
  };
  const seen = decodeAttributes(s, buf, off, nlriStart, withdrawn.length > 0);
  const nlri = decodePrefixes(buf, nlriStart, end, 4);
  if (typeof nlri === 'string') throw updateError(UpdateSubcode.InvalidNetworkField, `NLRI: ${nlri}`);

  finishAs4(s);
  if (s.unknown.length > 0) s.attrs.unknown = s.unknown;
  checkMandatory(s, seen, nlri.length > 0);
  const msg: UpdateMessage = { type: 2, withdrawn, attributes: s.attrs, nlri };
  return s.notes.length > 0 ? { ...msg, errors: s.notes } : msg;
}

/** Which attribute types one UPDATE holds; reused, as decoding is synchronous. */
const SEEN = new Uint8Array(256);

/** Reads the path attributes in buf[start, end); returns which type codes were present. */
function decodeAttributes(
  s: AttrDecodeState,
  buf: Buffer,
  start: number,
  end: number,
  hasLegacyWithdrawn: boolean,
): Uint8Array {
  const seen = SEEN.fill(0);
  let off = start;
  while (off < end) {
    const flags = buf[off]!;
    const headLen = flags & AttrFlag.ExtendedLength ? 4 : 3;
    if (end - off < headLen) {
      overrun(s, seen, hasLegacyWithdrawn, `${end - off} octets left, too few for an attribute header`);
      break;
    }
    const type = buf[off + 1]!;
    const len = headLen === 4 ? buf.readUInt16BE(off + 2) : buf[off + 2]!;
    const valueAt = off + headLen;
    if (valueAt + len > end) {
      overrun(s, seen, hasLegacyWithdrawn, `attribute ${type} of length ${len} overruns the attributes`);
      break;
    }
    const attrStart = off;
    off = valueAt + len;

    if (seen[type]) {
      // RFC 7606 3 (g).
      if (type === AttrType.MpReachNlri || type === AttrType.MpUnreachNlri) {
        throw updateError(UpdateSubcode.MalformedAttributeList, `attribute ${type} appears twice`);
      }
      discard(s, type, UpdateSubcode.MalformedAttributeList, `repeated attribute ${type} discarded`);
      continue;
    }
    seen[type] = 1;
    const spec = ATTR_TABLE[type];
    if (spec === undefined) {
      if (!(flags & AttrFlag.Optional)) {
        // RFC 4271 6.3: Data is the unrecognized attribute.
        throw updateError(
          UpdateSubcode.UnrecognizedWellKnownAttribute,
          `unrecognized well-known attribute ${type}`,
          Buffer.from(buf.subarray(attrStart, off)),
        );
      }
      // RFC 4271 5: unrecognized optional transitive attributes are passed on, non-transitive
      // ones quietly ignored.
      if (flags & AttrFlag.Transitive) {
        s.unknown.push({
          flags: flags & ~AttrFlag.ExtendedLength,
          type,
          value: Buffer.from(buf.subarray(valueAt, off)),
        });
      }
      continue;
    }
    if ((flags & (AttrFlag.Optional | AttrFlag.Transitive)) !== spec.flags) {
      // RFC 7606 3 (c): a flags conflict makes the attribute malformed: treat-as-withdraw. MP
      // attributes are still read, since their NLRI are the ones to withdraw.
      withdraw(s, type, UpdateSubcode.AttributeFlagsError, `${spec.name} with flags 0x${flags.toString(16)}`);
      if (type !== AttrType.MpReachNlri && type !== AttrType.MpUnreachNlri) continue;
    }
    spec.decode(s, buf, valueAt, len, attrStart);
  }
  return seen;
}

/**
 * RFC 7606 4: attributes that overrun the Total Attribute Length mean treat-as-withdraw, the NLRI
 * field found by the Total Attribute Length. If no NLRI can be seen at all (no legacy fields, no
 * MP attribute read yet), an MP attribute may hide in the unread part, so withdrawing is
 * impossible and the session is reset (RFC 7606 5.3 spirit, 3/1).
 */
function overrun(s: AttrDecodeState, seen: Uint8Array, hasLegacyWithdrawn: boolean, why: string): void {
  if (
    !s.hasLegacyNlri &&
    !hasLegacyWithdrawn &&
    !seen[AttrType.MpReachNlri] &&
    !seen[AttrType.MpUnreachNlri]
  ) {
    throw updateError(UpdateSubcode.MalformedAttributeList, `${why}; no NLRI can be located`);
  }
  s.overran = true;
  withdraw(s, 0, UpdateSubcode.MalformedAttributeList, why);
}

/** RFC 6793 4.2.3: rebuild the 4-octet AS path and aggregator from AS4_PATH / AS4_AGGREGATOR. */
function finishAs4(s: AttrDecodeState): void {
  if (s.ctx.fourOctetAs) return;
  const agg = s.attrs.aggregator;
  if (agg !== undefined && agg.asn !== AS_TRANS) {
    // AGGREGATOR from an OLD speaker with a 2-octet ASN: AS4_* are stale and ignored.
    return;
  }
  if (agg !== undefined && s.as4Aggregator !== undefined) s.attrs.aggregator = s.as4Aggregator;
  if (s.as4Path !== undefined && s.attrs.asPath !== undefined) {
    if (asPathCount(s.as4Path) <= asPathCount(s.attrs.asPath))
      s.attrs.asPath = mergeAs4Path(s.attrs.asPath, s.as4Path);
  }
}

/**
 * RFC 4271 5 / RFC 4760 3: ORIGIN and AS_PATH with any reachable NLRI, NEXT_HOP with legacy
 * NLRI. RFC 7606 3 (d): a missing one is treat-as-withdraw. (LOCAL_PREF on iBGP is the
 * session's to check: the codec does not know the peer type.)
 */
function checkMandatory(s: AttrDecodeState, seen: Uint8Array, hasLegacyNlri: boolean): void {
  // After an overrun the unread attributes are unknown, not missing; the UPDATE is withdrawn anyway.
  if (s.overran || (!hasLegacyNlri && !seen[AttrType.MpReachNlri])) return;
  if (!seen[AttrType.Origin]) missing(s, AttrType.Origin, 'ORIGIN');
  if (!seen[AttrType.AsPath]) missing(s, AttrType.AsPath, 'AS_PATH');
  if (hasLegacyNlri && !seen[AttrType.NextHop]) missing(s, AttrType.NextHop, 'NEXT_HOP');
}

function missing(s: AttrDecodeState, type: number, name: string): void {
  withdraw(s, type, UpdateSubcode.MissingWellKnownAttribute, `missing ${name}`);
}

function writeAttribute(w: ByteWriter, flags: number, type: number, value: Buffer): void {
  // Extended Length only when the value needs it (RFC 4271 4.3).
  if (value.length > 255) {
    if (value.length > 0xffff) throw new Error(`attribute ${type} of ${value.length} bytes`);
    w.u8(flags | AttrFlag.ExtendedLength)
      .u8(type)
      .u16(value.length);
  } else {
    w.u8(flags & ~AttrFlag.ExtendedLength)
      .u8(type)
      .u8(value.length);
  }
  w.bytes(value);
}

function encodeAttributes(w: ByteWriter, a: PathAttributes, ctx: CodecContext): void {
  const unknown: readonly UnknownAttribute[] = [...(a.unknown ?? [])].sort((x, y) => x.type - y.type);
  for (const u of unknown) {
    if (ATTR_TABLE[u.type] !== undefined)
      throw new Error(`attribute ${u.type} is modelled; it cannot be unknown`);
  }
  let ui = 0;
  const writeUnknownUpTo = (type: number): void => {
    for (; ui < unknown.length && unknown[ui]!.type < type; ui++) {
      const u = unknown[ui]!;
      // RFC 4271 5: an unrecognized optional transitive attribute is passed on with Partial set.
      const transitive =
        (u.flags & (AttrFlag.Optional | AttrFlag.Transitive)) === (AttrFlag.Optional | AttrFlag.Transitive);
      writeAttribute(w, transitive ? u.flags | AttrFlag.Partial : u.flags, u.type, u.value);
    }
  };
  for (const spec of ENCODE_ORDER) {
    const value = spec.encode(a, ctx);
    if (value === undefined) continue;
    if (spec.type !== AttrType.MpReachNlri && spec.type !== AttrType.MpUnreachNlri)
      writeUnknownUpTo(spec.type);
    writeAttribute(w, spec.flags, spec.type, value);
  }
  writeUnknownUpTo(256);
}

/** Encodes an UPDATE; throws a plain Error if it would exceed 4096 bytes or holds bad values. */
export function encodeUpdate(msg: UpdateMessage, ctx: CodecContext): Buffer {
  const w = startMessage(MessageType.Update, 256);
  const wlAt = w.reserve(2);
  encodePrefixes(w, msg.withdrawn, 4);
  w.patchU16(wlAt, w.length - wlAt - 2);
  const alAt = w.reserve(2);
  encodeAttributes(w, msg.attributes, ctx);
  const attrLen = w.length - alAt - 2;
  if (attrLen > 0xffff) throw new Error(`path attributes of ${attrLen} bytes`);
  w.patchU16(alAt, attrLen);
  encodePrefixes(w, msg.nlri, 4);
  return finishMessage(w);
}

/**
 * RFC 4724 2: the End-of-RIB marker. IPv4 unicast: an UPDATE with no withdrawn routes, no
 * attributes and no NLRI; any other family: an UPDATE with only an empty MP_UNREACH_NLRI.
 */
export function endOfRib(afi: number, safi: number): UpdateMessage {
  if (afi === Afi.Ipv4 && safi === Safi.Unicast) return { type: 2, withdrawn: [], attributes: {}, nlri: [] };
  return { type: 2, withdrawn: [], attributes: { mpUnreach: { afi, safi, withdrawn: [] } }, nlri: [] };
}

/** The family whose End-of-RIB `msg` is (RFC 4724 2), or undefined. */
export function isEndOfRib(msg: UpdateMessage): AfiSafi | undefined {
  if (msg.withdrawn.length > 0 || msg.nlri.length > 0) return undefined;
  const a = msg.attributes;
  let count = 0;
  for (const key of Object.keys(a) as (keyof PathAttributes)[]) {
    const v = a[key];
    if (v === undefined || (key === 'unknown' && Array.isArray(v) && v.length === 0)) continue;
    count++;
  }
  if (count === 0) return { afi: Afi.Ipv4, safi: Safi.Unicast };
  if (count === 1 && a.mpUnreach !== undefined && a.mpUnreach.withdrawn.length === 0) {
    return { afi: a.mpUnreach.afi, safi: a.mpUnreach.safi };
  }
  return undefined;
}
