/**
 * The path attributes this codec models, table-driven by type code (as BIRD's bgp_attr_table):
 * the Optional/Transitive flags each must carry, how to decode it (with its RFC 7606 error
 * handling) and how to encode it from the model.
 */
import { formatAddress, parseAddress } from '../../../net/prefix.js';
import { checkRange } from '../capability.js';
import {
  AS_TRANS,
  AttrFlag,
  AttrType,
  type CodecContext,
  type LargeCommunity,
  type PathAttributes,
  UpdateSubcode,
} from '../types.js';
import { ByteWriter } from '../writer.js';
import { decodeAsPath, encodeAsPath, needsAs4Path, withoutConfed } from './as-path.js';
import { decodeMpReach, decodeMpUnreach, encodeMpReach, encodeMpUnreach } from './mp-nlri.js';
import { type AttrDecodeState, discard, withdraw } from './state.js';

export interface AttrSpec {
  readonly type: number;
  readonly name: string;
  /** Required Optional and Transitive bits (RFC 4271 5, RFC 7606 3 (c)). */
  readonly flags: number;
  /**
   * Decodes the value buf[off, off + len); buf[attrStart, off + len) is the whole attribute
   * (flags, type, length, value), the Data of a NOTIFICATION about it.
   */
  decode(s: AttrDecodeState, buf: Buffer, off: number, len: number, attrStart: number): void;
  /** The value to send, or undefined when the model has none. */
  encode(a: PathAttributes, ctx: CodecContext): Buffer | undefined;
}

const WELL_KNOWN = AttrFlag.Transitive;
const OPTIONAL = AttrFlag.Optional;
const OPTIONAL_TRANSITIVE = AttrFlag.Optional | AttrFlag.Transitive;

function u32(v: number, what: string): Buffer {
  checkRange(v, 0xffffffff, what);
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(v);
  return b;
}

function ipv4(text: string, what: string): Buffer {
  const b = parseAddress(text);
  if (b.length !== 4) throw new Error(`${what} ${text} is not an IPv4 address`);
  return b;
}

/** RFC 7606 7.3 semantic check: addresses that can never be a next hop. */
function unusableNextHop(b: Buffer, off: number): boolean {
  const first = b[off]!;
  return b.readUInt32BE(off) === 0 || first >= 224;
}

function aggregatorValue(asn: number, address: string, width: 2 | 4): Buffer {
  const w = new ByteWriter(8);
  if (width === 4) w.u32(asn);
  else w.u16(asn > 0xffff ? AS_TRANS : asn);
  return w.bytes(ipv4(address, 'aggregator address')).finish();
}

const SPECS: AttrSpec[] = [
  {
    // RFC 4271 4.3 (a); RFC 7606 7.1.
    type: AttrType.Origin,
    name: 'ORIGIN',
    flags: WELL_KNOWN,
    decode(s, buf, off, len) {
      if (len !== 1)
        return withdraw(s, this.type, UpdateSubcode.AttributeLengthError, `ORIGIN of length ${len}`);
      const v = buf[off]!;
      if (v > 2) return withdraw(s, this.type, UpdateSubcode.InvalidOriginAttribute, `ORIGIN value ${v}`);
      s.attrs.origin = v as 0 | 1 | 2;
    },
    encode(a) {
      if (a.origin === undefined) return undefined;
      checkRange(a.origin, 2, 'ORIGIN');
      return Buffer.from([a.origin]);
    },
  },
  {
    // RFC 4271 4.3 (b); RFC 7606 7.2; 2-octet ASNs without the capability (RFC 6793 4.2.3).
    type: AttrType.AsPath,
    name: 'AS_PATH',
    flags: WELL_KNOWN,
    decode(s, buf, off, len) {
      const path = decodeAsPath(buf, off, len, s.ctx.fourOctetAs ? 4 : 2);
      if (typeof path === 'string')
        return withdraw(s, this.type, UpdateSubcode.MalformedAsPath, `AS_PATH: ${path}`);
      s.attrs.asPath = path;
    },
    encode(a, ctx) {
      return a.asPath === undefined ? undefined : encodeAsPath(a.asPath, ctx.fourOctetAs ? 4 : 2);
    },
  },
  {
    // RFC 4271 4.3 (c); RFC 7606 7.3. Ignored when the UPDATE has no legacy NLRI (RFC 4760 3).
    type: AttrType.NextHop,
    name: 'NEXT_HOP',
    flags: WELL_KNOWN,
    decode(s, buf, off, len) {
      const bad =
        len !== 4
          ? { sub: UpdateSubcode.AttributeLengthError, why: `NEXT_HOP of length ${len}` }
          : unusableNextHop(buf, off)
            ? {
                sub: UpdateSubcode.InvalidNextHopAttribute,
                why: `NEXT_HOP ${formatAddress(buf.subarray(off, off + 4))}`,
              }
            : undefined;
      if (bad === undefined) {
        s.attrs.nextHop = formatAddress(buf.subarray(off, off + 4));
      } else if (s.hasLegacyNlri) {
        withdraw(s, this.type, bad.sub, bad.why);
      } else {
        discard(s, this.type, bad.sub, `${bad.why} (no NLRI uses it)`);
      }
    },
    encode(a) {
      return a.nextHop === undefined ? undefined : ipv4(a.nextHop, 'NEXT_HOP');
    },
  },
  {
    // RFC 4271 4.3 (d); RFC 7606 7.4.
    type: AttrType.MultiExitDisc,
    name: 'MULTI_EXIT_DISC',
    flags: OPTIONAL,
    decode(s, buf, off, len) {
      if (len !== 4)
        return withdraw(s, this.type, UpdateSubcode.AttributeLengthError, `MED of length ${len}`);
      s.attrs.med = buf.readUInt32BE(off);
    },
    encode(a) {
      return a.med === undefined ? undefined : u32(a.med, 'MED');
    },
  },
  {
    // RFC 4271 4.3 (e); RFC 7606 7.5.
    type: AttrType.LocalPref,
    name: 'LOCAL_PREF',
    flags: WELL_KNOWN,
    decode(s, buf, off, len) {
      if (len !== 4)
        return withdraw(s, this.type, UpdateSubcode.AttributeLengthError, `LOCAL_PREF of length ${len}`);
      s.attrs.localPref = buf.readUInt32BE(off);
    },
    encode(a) {
      return a.localPref === undefined ? undefined : u32(a.localPref, 'LOCAL_PREF');
    },
  },
  {
    // RFC 4271 4.3 (f); RFC 7606 7.6.
    type: AttrType.AtomicAggregate,
    name: 'ATOMIC_AGGREGATE',
    flags: WELL_KNOWN,
    decode(s, _buf, _off, len) {
      if (len !== 0)
        return discard(s, this.type, UpdateSubcode.AttributeLengthError, `ATOMIC_AGGREGATE of length ${len}`);
      s.attrs.atomicAggregate = true;
    },
    encode(a) {
      return a.atomicAggregate ? Buffer.alloc(0) : undefined;
    },
  },
  {
    // RFC 4271 4.3 (g), 6 or 8 octets by the 4-octet AS capability (RFC 6793 3); RFC 7606 7.7.
    type: AttrType.Aggregator,
    name: 'AGGREGATOR',
    flags: OPTIONAL_TRANSITIVE,
    decode(s, buf, off, len) {
      const width = s.ctx.fourOctetAs ? 4 : 2;
      if (len !== width + 4)
        return discard(s, this.type, UpdateSubcode.AttributeLengthError, `AGGREGATOR of length ${len}`);
      const asn = width === 4 ? buf.readUInt32BE(off) : buf.readUInt16BE(off);
      // RFC 7607 2: AS 0 in AGGREGATOR is malformed, and RFC 7606 7.7 discards it.
      if (asn === 0)
        return discard(s, this.type, UpdateSubcode.OptionalAttributeError, 'AGGREGATOR with AS 0');
      s.attrs.aggregator = { asn, address: formatAddress(buf.subarray(off + width, off + width + 4)) };
    },
    encode(a, ctx) {
      if (a.aggregator === undefined) return undefined;
      checkRange(a.aggregator.asn, 0xffffffff, 'aggregator ASN');
      return aggregatorValue(a.aggregator.asn, a.aggregator.address, ctx.fourOctetAs ? 4 : 2);
    },
  },
  {
    // RFC 1997; RFC 7606 7.8.
    type: AttrType.Communities,
    name: 'COMMUNITIES',
    flags: OPTIONAL_TRANSITIVE,
    decode(s, buf, off, len) {
      if (len === 0 || len % 4 !== 0) {
        return withdraw(s, this.type, UpdateSubcode.OptionalAttributeError, `COMMUNITIES of length ${len}`);
      }
      const list = new Array<number>(len / 4);
      for (let i = 0; i < list.length; i++) list[i] = buf.readUInt32BE(off + i * 4);
      s.attrs.communities = list;
    },
    encode(a) {
      // An empty list would be malformed on the wire (RFC 7606 7.8): nothing to send.
      if (a.communities === undefined || a.communities.length === 0) return undefined;
      const w = new ByteWriter(a.communities.length * 4 + 4);
      for (const c of a.communities) w.bytes(u32(c, 'community'));
      return w.finish();
    },
  },
  {
    // RFC 4760 3.
    type: AttrType.MpReachNlri,
    name: 'MP_REACH_NLRI',
    flags: OPTIONAL,
    decode: decodeMpReach,
    encode: (a) => (a.mpReach === undefined ? undefined : encodeMpReach(a.mpReach)),
  },
  {
    // RFC 4760 4.
    type: AttrType.MpUnreachNlri,
    name: 'MP_UNREACH_NLRI',
    flags: OPTIONAL,
    decode: decodeMpUnreach,
    encode: (a) => (a.mpUnreach === undefined ? undefined : encodeMpUnreach(a.mpUnreach)),
  },
  {
    // RFC 6793 3, 4.2.2, 6 (malformed: discard); between NEW speakers it is discarded (4.1).
    type: AttrType.As4Path,
    name: 'AS4_PATH',
    flags: OPTIONAL_TRANSITIVE,
    decode(s, buf, off, len) {
      if (s.ctx.fourOctetAs)
        return discard(
          s,
          this.type,
          UpdateSubcode.OptionalAttributeError,
          'AS4_PATH between 4-octet speakers',
        );
      const path = decodeAsPath(buf, off, len, 4);
      if (typeof path === 'string')
        return discard(s, this.type, UpdateSubcode.OptionalAttributeError, `AS4_PATH: ${path}`);
      s.as4Path = withoutConfed(path);
    },
    encode(a, ctx) {
      if (ctx.fourOctetAs || a.asPath === undefined || !needsAs4Path(a.asPath)) return undefined;
      return encodeAsPath(withoutConfed(a.asPath), 4);
    },
  },
  {
    // RFC 6793 3, 4.2.2.
    type: AttrType.As4Aggregator,
    name: 'AS4_AGGREGATOR',
    flags: OPTIONAL_TRANSITIVE,
    decode(s, buf, off, len) {
      if (s.ctx.fourOctetAs) {
        return discard(
          s,
          this.type,
          UpdateSubcode.OptionalAttributeError,
          'AS4_AGGREGATOR between 4-octet speakers',
        );
      }
      if (len !== 8)
        return discard(s, this.type, UpdateSubcode.AttributeLengthError, `AS4_AGGREGATOR of length ${len}`);
      if (buf.readUInt32BE(off) === 0) {
        return discard(s, this.type, UpdateSubcode.OptionalAttributeError, 'AS4_AGGREGATOR with AS 0');
      }
      s.as4Aggregator = {
        asn: buf.readUInt32BE(off),
        address: formatAddress(buf.subarray(off + 4, off + 8)),
      };
    },
    encode(a, ctx) {
      if (ctx.fourOctetAs || a.aggregator === undefined || a.aggregator.asn <= 0xffff) return undefined;
      return aggregatorValue(a.aggregator.asn, a.aggregator.address, 4);
    },
  },
  {
    // RFC 8092 3, 6 (malformed: treat-as-withdraw).
    type: AttrType.LargeCommunity,
    name: 'LARGE_COMMUNITY',
    flags: OPTIONAL_TRANSITIVE,
    decode(s, buf, off, len) {
      if (len === 0 || len % 12 !== 0) {
        return withdraw(
          s,
          this.type,
          UpdateSubcode.OptionalAttributeError,
          `LARGE_COMMUNITY of length ${len}`,
        );
      }
      const list = new Array<LargeCommunity>(len / 12);
      for (let i = 0, p = off; i < list.length; i++, p += 12) {
        list[i] = {
          globalAdmin: buf.readUInt32BE(p),
          localData1: buf.readUInt32BE(p + 4),
          localData2: buf.readUInt32BE(p + 8),
        };
      }
      s.attrs.largeCommunities = list;
    },
    encode(a) {
      if (a.largeCommunities === undefined || a.largeCommunities.length === 0) return undefined;
      const w = new ByteWriter(a.largeCommunities.length * 12 + 4);
      for (const c of a.largeCommunities) {
        w.bytes(u32(c.globalAdmin, 'large community')).bytes(u32(c.localData1, 'large community'));
        w.bytes(u32(c.localData2, 'large community'));
      }
      return w.finish();
    },
  },
];

/** Attribute specs by type code. */
export const ATTR_TABLE: ReadonlyArray<AttrSpec | undefined> = (() => {
  const table = new Array<AttrSpec | undefined>(256).fill(undefined);
  for (const spec of SPECS) table[spec.type] = spec;
  return table;
})();

/**
 * Send order: MP_REACH_NLRI / MP_UNREACH_NLRI first (RFC 7606 5.1), then ascending type code
 * (RFC 4271 5 "SHOULD order path attributes ... in ascending order of attribute type").
 */
export const ENCODE_ORDER: readonly AttrSpec[] = [
  ATTR_TABLE[AttrType.MpReachNlri]!,
  ATTR_TABLE[AttrType.MpUnreachNlri]!,
  ...SPECS.filter((s) => s.type !== AttrType.MpReachNlri && s.type !== AttrType.MpUnreachNlri).sort(
    (a, b) => a.type - b.type,
  ),
];
