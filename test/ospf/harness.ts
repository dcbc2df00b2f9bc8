/**
 * Test harness: speakers on a ManualClock joined by in-memory links. A link delivers every packet
 * to the other sockets 1 ms later (multicast and unicast alike), records it, and can drop packets.
 */
import { type OspfConfig, ospfSchema } from '../../src/config/ospf.js';
import { ManualClock } from '../../src/lib/clock.js';
import { silentLogger } from '../../src/lib/log.js';
import type { OspfSocket } from '../../src/ospf/interface.js';
import { decodePacket, type OspfPacket } from '../../src/ospf/packet/packet.js';
import { OspfSpeaker } from '../../src/ospf/speaker.js';

export interface Sent {
  from: string;
  to: string;
  packet: OspfPacket;
  bytes: Buffer;
}

export class FakeSocket implements OspfSocket {
  handler: ((packet: Buffer, source: string) => void) | undefined;
  closed = false;
  constructor(
    readonly link: FakeLink,
    readonly info: { address: string; netmask: string; mtu: number },
  ) {}
  send(packet: Buffer, destination: string): void {
    if (!this.closed) this.link.transmit(this, packet, destination);
  }
  onMessage(handler: (packet: Buffer, source: string) => void): void {
    this.handler = handler;
  }
  close(): void {
    this.closed = true;
  }
}

export class FakeLink {
  readonly sockets: FakeSocket[] = [];
  readonly log: Sent[] = [];
  /** Return true to lose the packet. */
  drop: (s: Sent) => boolean = () => false;
  constructor(readonly clock: ManualClock) {}

  attach(address: string, netmask = '255.255.255.252', mtu = 1500): FakeSocket {
    const s = new FakeSocket(this, { address, netmask, mtu });
    this.sockets.push(s);
    return s;
  }

  transmit(from: FakeSocket, bytes: Buffer, to: string): void {
    const sent: Sent = { from: from.info.address, to, packet: decodePacket(bytes).packet, bytes };
    this.log.push(sent);
    if (this.drop(sent)) return;
    for (const s of this.sockets) {
      if (s === from || s.closed) continue;
      if (!to.startsWith('224.') && s.info.address !== to) continue;
      this.clock.setTimer(1, () => {
        if (!s.closed) s.handler?.(Buffer.from(bytes), from.info.address);
      });
    }
  }

  /** Packets of one kind sent by `from`. */
  sentBy(from: string, kind: string): Sent[] {
    return this.log.filter((s) => s.from === from && s.packet.body.kind === kind);
  }
}

export function config(partial: Record<string, unknown>, iface: Record<string, unknown> = {}): OspfConfig {
  return ospfSchema.parse({
    interfaces: [{ name: 'eth1', helloInterval: 10, deadInterval: 40, ...iface }],
    ...partial,
  });
}

export function speaker(
  clock: ManualClock,
  routerId: string,
  cfg: OspfConfig,
  sockets: Record<string, FakeSocket>,
): OspfSpeaker {
  return new OspfSpeaker({
    routerId,
    config: cfg,
    clock,
    logger: silentLogger,
    socketFactory: (ifname) => {
      const s = sockets[ifname];
      if (!s) throw new Error(`no fake socket for ${ifname}`);
      return s;
    },
  });
}

export function nbrState(sp: OspfSpeaker, rid: string, ifname = 'eth1'): string {
  const i = sp.status().interfaces.find((x) => x.name === ifname);
  return i?.neighbors.find((n) => n.routerId === rid)?.state ?? 'absent';
}

/** A pair of speakers on a point-to-point /30: A = 198.18.0.1, B = 198.18.0.2 (higher RID). */
export function p2pPair(
  opts: { a?: Record<string, unknown>; b?: Record<string, unknown>; cfg?: Record<string, unknown> } = {},
) {
  const clock = new ManualClock(1_000_000);
  const link = new FakeLink(clock);
  const sa = link.attach('198.18.0.1');
  const sb = link.attach('198.18.0.2');
  const a = speaker(clock, '198.18.0.1', config(opts.cfg ?? {}, opts.a), { eth1: sa });
  const b = speaker(clock, '198.18.0.2', config(opts.cfg ?? {}, opts.b), { eth1: sb });
  return { clock, link, a, b, sa, sb };
}
