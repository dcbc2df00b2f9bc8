/**
 * Capabilities (RFC 5492 4): code, length, value, carried in OPEN optional parameter type 2.
 *
 * Known: Multiprotocol (RFC 4760 8), Route Refresh (RFC 2918 2), Graceful Restart (RFC 4724 3,
 * N bit RFC 8538 2), 4-octet AS (RFC 6793 3). Anything else is kept byte for byte and re-encoded
 * unchanged (RFC 5492 3: an unrecognized capability is ignored, not an error).
 */

import { BgpDecodeError, type Capability, CapabilityCode, ErrorCode, OpenSubcode } from './types.js';
import type { ByteWriter } from './writer.js';

/** RFC 4724 3: Restart Flags in the top nibble of the 16-bit field, Restart Time below. */
const GR_RESTARTING = 0x8000;
const GR_NOTIFICATION = 0x4000;
const GR_TIME_MASK = 0x0fff;
/** RFC 4724 3: per-family flags, F = forwarding state preserved. */
const GR_FORWARDING = 0x80;

function malformed(why: string): BgpDecodeError {
  // RFC 4271 6.2 names no subcode for a malformed capability; like FRR we send OPEN Message
  // Error / Unspecific (subcode 0, RFC 4271 errata 4493).
  return new BgpDecodeError(ErrorCode.OpenMessage, OpenSubcode.Unspecific, Buffer.alloc(0), why);
}

/** Decodes the capabilities in the value of one Capabilities optional parameter. */
export function decodeCapabilities(buf: Buffer, start: number, end: number, out: Capability[]): void {
  let off = start;
  while (off < end) {
    if (end - off < 2) throw malformed('truncated capability header');
    const code = buf[off]!;
    const len = buf[off + 1]!;
    off += 2;
    if (off + len > end) throw malformed(`capability ${code} overruns its optional parameter`);
    out.push(decodeCapability(code, buf, off, len));
    off += len;
  }
}

function decodeCapability(code: number, buf: Buffer, off: number, len: number): Capability {
  switch (code) {
    case CapabilityCode.Multiprotocol:
      // RFC 4760 8: AFI (2), Reserved (1), SAFI (1).
      if (len !== 4) throw malformed(`multiprotocol capability of length ${len}, expected 4`);
      return { code: 1, afi: buf.readUInt16BE(off), safi: buf[off + 3]! };
    case CapabilityCode.RouteRefresh:
      if (len !== 0) throw malformed(`route refresh capability of length ${len}, expected 0`);
      return { code: 2 };
    case CapabilityCode.FourOctetAs:
      if (len !== 4) throw malformed(`4-octet AS capability of length ${len}, expected 4`);
      return { code: 65, asn: buf.readUInt32BE(off) };
    case CapabilityCode.GracefulRestart: {
      if (len < 2 || (len - 2) % 4 !== 0) throw malformed(`graceful restart capability of length ${len}`);
      const head = buf.readUInt16BE(off);
      const families = [];
      for (let p = off + 2; p < off + len; p += 4) {
        families.push({
          afi: buf.readUInt16BE(p),
          safi: buf[p + 2]!,
          forwardingPreserved: (buf[p + 3]! & GR_FORWARDING) !== 0,
        });
      }
      return {
        code: 64,
        restarting: (head & GR_RESTARTING) !== 0,
        notification: (head & GR_NOTIFICATION) !== 0,
        restartTime: head & GR_TIME_MASK,
        families,
      };
    }
    default:
      return { code, value: Buffer.from(buf.subarray(off, off + len)), unknown: true };
  }
}

/** Writes one capability TLV. Throws a plain Error for values the wire cannot carry. */
export function encodeCapability(w: ByteWriter, cap: Capability): void {
  w.u8(cap.code);
  const lenAt = w.reserve(1);
  const start = w.length;
  if (cap.unknown) {
    w.bytes(cap.value);
  } else {
    switch (cap.code) {
      case 1:
        w.u16(cap.afi).u8(0).u8(cap.safi);
        break;
      case 2:
        break;
      case 65:
        checkRange(cap.asn, 0xffffffff, '4-octet AS capability ASN');
        w.u32(cap.asn);
        break;
      case 64:
        checkRange(cap.restartTime, GR_TIME_MASK, 'graceful restart time');
        w.u16(
          (cap.restarting ? GR_RESTARTING : 0) | (cap.notification ? GR_NOTIFICATION : 0) | cap.restartTime,
        );
        for (const f of cap.families) {
          w.u16(f.afi)
            .u8(f.safi)
            .u8(f.forwardingPreserved ? GR_FORWARDING : 0);
        }
        break;
    }
  }
  const len = w.length - start;
  if (len > 255) throw new Error(`capability ${cap.code} value of ${len} bytes exceeds 255`);
  w.patchU8(lenAt, len);
}

export function checkRange(v: number, max: number, what: string): void {
  if (!Number.isInteger(v) || v < 0 || v > max) throw new Error(`${what} ${v} is not in 0..${max}`);
}
