/**
 * AS_PATH (RFC 4271 4.3 (b), 5.1.2) and AS4_PATH (RFC 6793 3): segments of type, count, ASNs.
 * The model always holds 4-octet ASNs; on a session without the 4-octet AS capability the wire
 * carries 2-octet ASNs with AS_TRANS, and the real path in AS4_PATH (RFC 6793 4.2.2, 4.2.3).
 */
import { AS_TRANS, type AsPathSegment, SegmentType } from '../types.js';
import { ByteWriter } from '../writer.js';

/** Decodes segments of `width`-octet ASNs; returns the reason text if malformed (RFC 7606 7.2, RFC 7607). */
export function decodeAsPath(buf: Buffer, off: number, len: number, width: 2 | 4): AsPathSegment[] | string {
  const segments: AsPathSegment[] = [];
  const end = off + len;
  let p = off;
  while (p < end) {
    if (end - p < 2) return 'a single octet after the last segment';
    const type = buf[p]!;
    const n = buf[p + 1]!;
    p += 2;
    if (type < SegmentType.AsSet || type > SegmentType.ConfedSet) return `unknown segment type ${type}`;
    if (n === 0) return 'segment of length zero';
    if (p + n * width > end) return 'segment overruns the attribute';
    const asns = new Array<number>(n);
    for (let i = 0; i < n; i++, p += width) {
      const asn = width === 4 ? buf.readUInt32BE(p) : buf.readUInt16BE(p);
      // RFC 7607 2: AS 0 makes the attribute malformed.
      if (asn === 0) return 'AS 0 in the path (RFC 7607)';
      asns[i] = asn;
    }
    segments.push({ type, asns });
  }
  return segments;
}

function isConfed(type: number): boolean {
  return type === SegmentType.ConfedSequence || type === SegmentType.ConfedSet;
}

/** RFC 4271 9.1.2.2 (a) path length as RFC 6793 4.2.3 counts it: a set is 1, confederation 0. */
export function asPathCount(path: readonly AsPathSegment[]): number {
  let n = 0;
  for (const s of path) {
    if (s.type === SegmentType.AsSequence) n += s.asns.length;
    else if (s.type === SegmentType.AsSet) n += 1;
  }
  return n;
}

/**
 * RFC 6793 4.2.3: the leading ASes of AS_PATH that AS4_PATH lacks (the path added by OLD
 * speakers), followed by AS4_PATH. If AS4_PATH is longer than AS_PATH it is ignored.
 */
export function mergeAs4Path(
  asPath: readonly AsPathSegment[],
  as4Path: readonly AsPathSegment[],
): AsPathSegment[] {
  let take = asPathCount(asPath) - asPathCount(as4Path);
  if (take < 0) return [...asPath];
  const out: AsPathSegment[] = [];
  for (const seg of asPath) {
    if (isConfed(seg.type)) {
      // Confederation segments lead the path and are absent from AS4_PATH: keep them.
      if (take > 0 || out.length === 0 || isConfed(out[out.length - 1]!.type)) out.push(seg);
      continue;
    }
    if (take === 0) break;
    if (seg.type === SegmentType.AsSet) {
      out.push(seg);
      take -= 1;
    } else if (seg.asns.length <= take) {
      out.push(seg);
      take -= seg.asns.length;
    } else {
      out.push({ type: seg.type, asns: seg.asns.slice(0, take) });
      take = 0;
    }
  }
  // Join the two halves of one AS_SEQUENCE split by the old/new boundary.
  const last = out[out.length - 1];
  const first = as4Path[0];
  if (
    last?.type === SegmentType.AsSequence &&
    first?.type === SegmentType.AsSequence &&
    last.asns.length + first.asns.length <= 255
  ) {
    out[out.length - 1] = { type: SegmentType.AsSequence, asns: [...last.asns, ...first.asns] };
    return out.concat(as4Path.slice(1));
  }
  return out.concat(as4Path);
}

/** RFC 6793 6: AS4_PATH carries no confederation segments; any received are dropped. */
export function withoutConfed(path: readonly AsPathSegment[]): AsPathSegment[] {
  return path.filter((s) => !isConfed(s.type));
}

/** Whether the 2-octet encoding loses information and needs AS4_PATH (RFC 6793 4.2.2). */
export function needsAs4Path(path: readonly AsPathSegment[]): boolean {
  return path.some((s) => !isConfed(s.type) && s.asns.some((a) => a > 0xffff));
}

/**
 * Encodes segments with `width`-octet ASNs (2: ASNs above 65535 become AS_TRANS). A segment of more
 * than 255 ASNs is split, as RFC 4271 5.1.2 prepending does.
 */
export function encodeAsPath(path: readonly AsPathSegment[], width: 2 | 4): Buffer {
  const w = new ByteWriter(64);
  for (const seg of path) {
    if (seg.type < 1 || seg.type > 255) throw new Error(`AS_PATH segment type ${seg.type}`);
    for (let i = 0; i < seg.asns.length || i === 0; i += 255) {
      const part = seg.asns.slice(i, i + 255);
      if (part.length === 0) throw new Error('AS_PATH segment with no ASNs');
      w.u8(seg.type).u8(part.length);
      for (const asn of part) {
        if (!Number.isInteger(asn) || asn < 0 || asn > 0xffffffff) throw new Error(`ASN ${asn} out of range`);
        if (width === 4) w.u32(asn);
        else w.u16(asn > 0xffff ? AS_TRANS : asn);
      }
    }
  }
  return w.finish();
}
