/**
 * What attribute decoders share while one UPDATE's path attributes are read: the session context,
 * the attributes decoded so far, and the RFC 7606 notes.
 */
import type {
  AsPathSegment,
  AttributeErrorNote,
  CodecContext,
  PathAttributes,
  UnknownAttribute,
} from '../types.js';

export interface AttrDecodeState {
  readonly ctx: CodecContext;
  readonly attrs: PathAttributes;
  readonly notes: AttributeErrorNote[];
  readonly unknown: UnknownAttribute[];
  /** The legacy NLRI field is non-empty (NEXT_HOP matters, RFC 4760 3). */
  readonly hasLegacyNlri: boolean;
  /** RFC 6793 4.2.3: kept aside until all attributes are read, then merged. */
  as4Path?: AsPathSegment[];
  as4Aggregator?: { asn: number; address: string };
  /** The attribute list overran (RFC 7606 4): attributes after that point were not read. */
  overran?: boolean;
}

/** RFC 7606 2 "treat-as-withdraw": every NLRI of the UPDATE is handled as withdrawn. */
export function withdraw(s: AttrDecodeState, attrType: number, subcode: number, reason: string): void {
  s.notes.push({ action: 'treat-as-withdraw', attrType, subcode, reason });
}

/** RFC 7606 2 "attribute discard": the attribute is dropped, the UPDATE otherwise used. */
export function discard(s: AttrDecodeState, attrType: number, subcode: number, reason: string): void {
  s.notes.push({ action: 'attribute-discard', attrType, subcode, reason });
}
