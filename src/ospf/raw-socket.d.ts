/** Typings for the parts of `raw-socket` 1.8 used here (the package ships none). */
declare module 'raw-socket' {
  import type { EventEmitter } from 'node:events';

  export interface RawSocket extends EventEmitter {
    send(
      buffer: Buffer,
      offset: number,
      length: number,
      address: string,
      afterCallback: (error: Error | null, bytes: number) => void,
    ): RawSocket;
    setOption(level: number, option: number, value: number | Buffer, length?: number): void;
    close(): RawSocket;
    on(event: 'message', listener: (buffer: Buffer, source: string) => void): this;
    on(event: 'error', listener: (error: Error) => void): this;
    on(event: 'close', listener: () => void): this;
  }

  export const AddressFamily: { IPv4: number; IPv6: number };
  export function createSocket(options: {
    protocol: number;
    addressFamily?: number;
    bufferSize?: number;
  }): RawSocket;

  const raw: { AddressFamily: typeof AddressFamily; createSocket: typeof createSocket };
  export default raw;
}
