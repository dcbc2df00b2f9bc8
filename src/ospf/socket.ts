/**
 * The OSPF socket of one interface: a raw IPv4 socket for protocol 89 (RFC 2328 A.1) bound to the
 * device (SO_BINDTODEVICE, because the raw-socket package offers neither bind() nor IP_PKTINFO),
 * member of AllSPFRouters (and AllDRouters on broadcast links), TTL 1, TOS 0xC0 (internetwork
 * control), no multicast loopback, 64 KiB receive buffer.
 */
import { existsSync, readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import raw, { type RawSocket } from 'raw-socket';
import { ALL_D_ROUTERS, ALL_SPF_ROUTERS, IP_PROTO_OSPF } from './constants.js';
import type { OspfSocket } from './interface.js';
import { writeIp } from './ip.js';

const SOL_SOCKET = 1;
const SO_BINDTODEVICE = 25;
const SO_RCVBUF = 8;
const IPPROTO_IP = 0;
const IP_TOS = 1;
const IP_MULTICAST_IF = 32;
const IP_MULTICAST_TTL = 33;
const IP_MULTICAST_LOOP = 34;
const IP_ADD_MEMBERSHIP = 35;

export class OspfSocketError extends Error {}

/**
 * The interface exists but has no usable IPv4 address yet (none configured, or the link is down:
 * Node lists addresses of running interfaces only). Not fatal: the interface stays Down (RFC 2328
 * 9.1) and the speaker tries again.
 */
export class InterfaceNotReadyError extends OspfSocketError {}

export interface InterfaceInfo {
  address: string;
  netmask: string;
  mtu: number;
  ifindex: number;
}

/** Address and netmask from os.networkInterfaces(); ifindex and MTU from sysfs. */
export function interfaceInfo(ifname: string): InterfaceInfo {
  if (!existsSync(`/sys/class/net/${ifname}`)) {
    throw new OspfSocketError(`interface ${ifname} does not exist (ospf.interfaces[].name)`);
  }
  const v4 = (networkInterfaces()[ifname] ?? []).find((a) => a.family === 'IPv4');
  if (!v4) throw new InterfaceNotReadyError(`interface ${ifname} is down or has no IPv4 address`);
  const sys = (f: string) => Number(readFileSync(`/sys/class/net/${ifname}/${f}`, 'utf8').trim());
  let mtu = 1500;
  let ifindex = 0;
  try {
    mtu = sys('mtu');
    ifindex = sys('ifindex');
  } catch {
    // Without sysfs the kernel still resolves the membership by address (ip_mreqn.imr_address).
  }
  return { address: v4.address, netmask: v4.netmask, mtu, ifindex };
}

function mreqn(group: string, address: string, ifindex: number): Buffer {
  const b = Buffer.alloc(12);
  writeIp(b, group, 0);
  writeIp(b, address, 4);
  b.writeInt32LE(ifindex, 8);
  return b;
}

export function openOspfSocket(ifname: string, opts: { broadcast: boolean }): OspfSocket {
  const info = interfaceInfo(ifname);
  let sock: RawSocket;
  try {
    sock = raw.createSocket({ protocol: IP_PROTO_OSPF, bufferSize: 65535 });
  } catch (e) {
    const msg = (e as Error).message;
    if (/permitted|EPERM|EACCES/i.test(msg)) {
      throw new OspfSocketError(
        'OSPF needs a raw IP socket (protocol 89): run as root or grant CAP_NET_RAW (hostNetwork pods: securityContext.capabilities.add [NET_RAW])',
      );
    }
    throw new OspfSocketError(`cannot open OSPF raw socket: ${msg}`);
  }
  try {
    const dev = Buffer.from(`${ifname}\0`);
    sock.setOption(SOL_SOCKET, SO_BINDTODEVICE, dev, dev.length);
    sock.setOption(SOL_SOCKET, SO_RCVBUF, 1 << 20);
    sock.setOption(IPPROTO_IP, IP_TOS, 0xc0);
    sock.setOption(IPPROTO_IP, IP_MULTICAST_TTL, 1);
    sock.setOption(IPPROTO_IP, IP_MULTICAST_LOOP, 0);
    const ifReq = mreqn('0.0.0.0', info.address, info.ifindex);
    sock.setOption(IPPROTO_IP, IP_MULTICAST_IF, ifReq, ifReq.length);
    const groups = opts.broadcast ? [ALL_SPF_ROUTERS, ALL_D_ROUTERS] : [ALL_SPF_ROUTERS];
    for (const g of groups) {
      const m = mreqn(g, info.address, info.ifindex);
      sock.setOption(IPPROTO_IP, IP_ADD_MEMBERSHIP, m, m.length);
    }
  } catch (e) {
    sock.close();
    throw new OspfSocketError(`cannot set up OSPF socket on ${ifname}: ${(e as Error).message}`);
  }
  let handler: ((packet: Buffer, source: string) => void) | undefined;
  sock.on('message', (buf, source) => {
    // IPv4 raw sockets deliver the IP header: skip IHL x 4 bytes.
    if (buf.length < 20) return;
    const ihl = (buf[0]! & 0x0f) * 4;
    handler?.(buf.subarray(ihl), source);
  });
  sock.on('error', () => {
    // Send errors are reported per packet; a socket error closes it (raw-socket behaviour).
  });
  // raw-socket queues sends until the fd is writable: close only once they are out, so the
  // final flush and goodbye Hello of a drain are not lost.
  let pending = 0;
  let drained: (() => void) | undefined;
  return {
    info: { address: info.address, netmask: info.netmask, mtu: info.mtu },
    send(packet, destination) {
      pending++;
      sock.send(packet, 0, packet.length, destination, () => {
        pending--;
        if (pending === 0) drained?.();
      });
    },
    onMessage(h) {
      handler = h;
    },
    close() {
      return new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          sock.close();
          resolve();
        };
        const timer = setTimeout(done, 200);
        if (pending === 0) done();
        else drained = done;
      });
    },
  };
}
