/**
 * The receive path of one interface (RFC 2328 8.2): decode the packet, run the generic checks
 * (area, own packets, source subnet on multi-access networks), authenticate it (Appendix D, with
 * the cryptographic sequence replay check of D.5.2), then hand it to the part of the protocol it
 * belongs to — Hellos to the interface (10.5), DD and LS Requests to the neighbor (10.6, 10.7),
 * LS Updates and acks to flooding (13, 13.7). Sits above the interface, neighbor and flooding
 * modules, so none of them needs to know the others for reception. A packet that fails a check is
 * counted under its reason and dropped; nothing a peer sends can throw out of here.
 */
import { AuType, PacketType } from './constants.js';
import { type FloodContext, receiveLsAck, receiveLsUpdate } from './flood.js';
import type { OspfInterface } from './interface.js';
import { ipToNum, OspfDecodeError } from './ip.js';
import { verifyAuth } from './packet/auth.js';
import { decodePacket } from './packet/packet.js';

/** Feeds every packet the interface's socket receives through `receivePacket`. */
export function listen(ctx: FloodContext, iface: OspfInterface): void {
  iface.socket.onMessage((b, src) => {
    // Bad input must never take the daemon down: anything unexpected is counted and logged.
    try {
      receivePacket(ctx, iface, b, src);
    } catch (e) {
      ctx.count('internal-error');
      ctx.logger.error({ iface: iface.name, err: (e as Error).stack }, 'ospf: packet processing failed');
    }
  });
}

/** RFC 2328 8.2: one packet received on `iface` from `source`. */
export function receivePacket(ctx: FloodContext, iface: OspfInterface, buf: Buffer, source: string): void {
  let decoded: ReturnType<typeof decodePacket>;
  try {
    decoded = decodePacket(buf);
  } catch (e) {
    if (e instanceof OspfDecodeError) {
      ctx.count(e.reason);
      return;
    }
    throw e;
  }
  const { packet, header } = decoded;
  if (packet.areaId !== iface.area.id) {
    ctx.count('wrong-area');
    return;
  }
  if (packet.routerId === ctx.routerId) {
    ctx.count('own-packet');
    return;
  }
  // 8.2: on multi-access networks the source must be on our subnet (BIRD: "strange source").
  if (iface.broadcast && !sameSubnet(iface, source)) {
    ctx.count('wrong-subnet');
    return;
  }
  const authFail = verifyAuth(buf, header, iface.config.auth);
  if (authFail) {
    ctx.count(authFail);
    return;
  }
  const nbr = iface.neighbors.get(packet.routerId);
  if (header.auth.auType === AuType.Crypto && nbr) {
    // RFC 2328 D.5.2: a lower sequence number than the last accepted is a replay.
    if (header.auth.cryptoSeq < nbr.cryptoSeq) {
      ctx.count('auth-replay');
      return;
    }
    nbr.cryptoSeq = header.auth.cryptoSeq;
  }
  if (header.type === PacketType.Hello && packet.body.kind === 'hello') {
    iface.receiveHello(packet.body, packet.routerId, source);
    // A neighbor this Hello created starts its replay window at this packet (D.5.2).
    const created = iface.neighbors.get(packet.routerId);
    if (created && header.auth.auType === AuType.Crypto) created.cryptoSeq = header.auth.cryptoSeq;
    return;
  }
  if (!nbr) {
    ctx.count('unknown-neighbor');
    return;
  }
  switch (packet.body.kind) {
    case 'dd':
      nbr.receiveDd(packet.body);
      return;
    case 'lsr':
      nbr.receiveLsRequest(packet.body.entries);
      return;
    case 'lsu':
      receiveLsUpdate(ctx, iface, nbr, packet.body.lsas);
      return;
    case 'ack':
      receiveLsAck(ctx, nbr, packet.body.headers);
      return;
    default: {
      ctx.count('bad-type');
      return;
    }
  }
}

function sameSubnet(iface: OspfInterface, source: string): boolean {
  const m = ipToNum(iface.mask);
  return (ipToNum(source) & m) >>> 0 === (ipToNum(iface.address) & m) >>> 0;
}
