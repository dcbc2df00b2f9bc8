/**
 * Splits a TCP byte stream into whole BGP messages.
 *
 * Messages that lie entirely within one chunk are returned as views of that chunk (no copy); only
 * a message split across chunks is assembled, in one fixed 4096-byte buffer, so a stream of many
 * small messages costs O(n) whatever the chunking (no growing concatenation).
 */
import { messageLength } from './header.js';
import { HEADER_LENGTH, MAX_MESSAGE_LENGTH } from './types.js';

export class MessageReader {
  private readonly partial = Buffer.allocUnsafe(MAX_MESSAGE_LENGTH);
  private partialLength = 0;

  /** Bytes held of a message not yet complete. */
  get pending(): number {
    return this.partialLength;
  }

  /**
   * Takes the next chunk and returns the messages it completes, in order. Throws BgpDecodeError
   * (1/1 or 1/2) on a bad header; the stream is then unusable and the session must close.
   * A returned Buffer may share memory with `chunk`: decode it before reusing the chunk.
   */
  push(chunk: Buffer): Buffer[] {
    const out: Buffer[] = [];
    let off = 0;
    if (this.partialLength > 0) {
      off = this.fillPartial(chunk, out);
      if (this.partialLength > 0) return out;
    }
    while (off < chunk.length) {
      const rest = chunk.length - off;
      if (rest < HEADER_LENGTH) {
        this.keep(chunk, off);
        break;
      }
      const view = chunk.subarray(off);
      const length = messageLength(view)!;
      if (rest < length) {
        this.keep(chunk, off);
        break;
      }
      out.push(view.subarray(0, length));
      off += length;
    }
    return out;
  }

  private keep(chunk: Buffer, off: number): void {
    chunk.copy(this.partial, 0, off);
    this.partialLength = chunk.length - off;
  }

  /** Completes the held message from `chunk`; returns the offset of the first unused byte. */
  private fillPartial(chunk: Buffer, out: Buffer[]): number {
    let off = 0;
    if (this.partialLength < HEADER_LENGTH) {
      const n = Math.min(HEADER_LENGTH - this.partialLength, chunk.length);
      chunk.copy(this.partial, this.partialLength, 0, n);
      this.partialLength += n;
      off = n;
      if (this.partialLength < HEADER_LENGTH) return off;
    }
    const length = messageLength(this.partial.subarray(0, this.partialLength))!;
    const n = Math.min(length - this.partialLength, chunk.length - off);
    chunk.copy(this.partial, this.partialLength, off, off + n);
    this.partialLength += n;
    off += n;
    if (this.partialLength === length) {
      out.push(Buffer.from(this.partial.subarray(0, length)));
      this.partialLength = 0;
    }
    return off;
  }
}
