/** Test helpers: a scripted BGP peer on the far end of an in-memory socket, and event-loop settling. */
import type { MemorySocketHandle } from '../../src/bgp/memory-transport.js';
import {
  type Capability,
  type CodecContext,
  decodeMessage,
  encodeMessage,
  type Message,
  MessageReader,
  type NotificationMessage,
  type OpenMessage,
  type UpdateMessage,
} from '../../src/bgp/message/index.js';

/** Lets queued microtasks and setImmediate callbacks (the UPDATE pump) run. */
export async function settle(rounds = 6): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
}

export interface PeerOpen {
  asn: number;
  id: string;
  hold?: number;
  /** Default: MP IPv4 + IPv6 unicast, route refresh, 4-octet AS. */
  capabilities?: Capability[];
  myAs?: number;
}

export function peerOpen(p: PeerOpen): OpenMessage {
  return {
    type: 1,
    version: 4,
    myAs: p.myAs ?? (p.asn > 0xffff ? 23456 : p.asn),
    holdTime: p.hold ?? 90,
    bgpId: p.id,
    capabilities: p.capabilities ?? [
      { code: 1, afi: 1, safi: 1 },
      { code: 1, afi: 2, safi: 1 },
      { code: 2 },
      { code: 65, asn: p.asn },
    ],
  };
}

export class ScriptedPeer {
  readonly received: Message[] = [];
  readonly decodeErrors: unknown[] = [];
  closed = false;
  ctx: CodecContext = { fourOctetAs: true };
  private readonly reader = new MessageReader();

  constructor(readonly sock: MemorySocketHandle) {
    sock.setHandlers({
      data: (chunk) => {
        for (const f of this.reader.push(chunk)) {
          try {
            this.received.push(decodeMessage(f, this.ctx));
          } catch (err) {
            this.decodeErrors.push(err);
          }
        }
      },
      close: () => {
        this.closed = true;
      },
      drain: () => {},
    });
  }

  send(msg: Message): void {
    this.sock.write(encodeMessage(msg, this.ctx));
  }

  raw(hex: string | Buffer): void {
    this.sock.write(typeof hex === 'string' ? Buffer.from(hex.replace(/\s+/g, ''), 'hex') : hex);
  }

  open(p: PeerOpen): void {
    this.send(peerOpen(p));
  }

  keepalive(): void {
    this.send({ type: 4 });
  }

  /** OPEN + KEEPALIVE: what a healthy peer sends to reach Established. */
  accept(p: PeerOpen): void {
    this.open(p);
    this.keepalive();
  }

  count(type: number): number {
    return this.received.filter((m) => m.type === type).length;
  }

  get opens(): OpenMessage[] {
    return this.received.filter((m): m is OpenMessage => m.type === 1);
  }

  get updates(): UpdateMessage[] {
    return this.received.filter((m): m is UpdateMessage => m.type === 2);
  }

  get notifications(): NotificationMessage[] {
    return this.received.filter((m): m is NotificationMessage => m.type === 3);
  }

  /** "code/subcode" of every NOTIFICATION received. */
  get notes(): string[] {
    return this.notifications.map((n) => `${n.code}/${n.subcode}`);
  }
}
