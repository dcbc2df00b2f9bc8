/**
 * The BFD sockets inside a lab namespace, for the socket and interop tests (started by the test
 * with `ip netns exec`, never in the root namespace).
 *   listen ADDR[%IF]...   opens the sockets of each local address (on device IF: needed for
 *                         link-local); prints {"ready":…} and one JSON line per datagram; exits on
 *                         SIGTERM
 *   send LOCAL[%IF] PEER HEX  opens LOCAL's sockets, sends the packet to PEER, prints {"txPort":…}
 *   inject LOCAL[%IF] PEER TTL FILE  plain dgram from LOCAL with the given TTL/Hop Limit, one hex
 *                         packet per line of FILE to PEER:3784: what a misbehaving or distant
 *                         sender would do; prints {"sent":n}
 */
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { isIPv4 } from 'node:net';
import { type BfdSocket, openBfdSocket } from '../../src/bfd/socket.js';

const [mode, ...args] = process.argv.slice(2);
const out = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);
const split = (a: string) => {
  const [localAddress, iface] = a.split('%') as [string, string | undefined];
  return { localAddress, interface: iface };
};

if (mode === 'listen') {
  const sockets: BfdSocket[] = [];
  for (const arg of args) {
    const local = split(arg).localAddress;
    sockets.push(
      await openBfdSocket({
        ...split(arg),
        onPacket: (d) =>
          out({ local, from: d.from, port: d.port, ttlOk: d.ttlOk, hex: d.data.toString('hex') }),
        onError: (e) => out({ local, error: e.message }),
      }),
    );
  }
  out({ ready: sockets.map((s) => ({ local: s.localAddress, txPort: s.txPort })) });
  process.on('SIGTERM', () => {
    void Promise.all(sockets.map((s) => s.close())).then(() => process.exit(0));
  });
} else if (mode === 'send') {
  const [local, peer, hex] = args as [string, string, string];
  const s = await openBfdSocket({ ...split(local), onPacket: () => {} });
  s.send(Buffer.from(hex, 'hex'), peer);
  await new Promise((r) => setTimeout(r, 100));
  out({ txPort: s.txPort });
  await s.close();
} else if (mode === 'inject') {
  const [local, peer, ttl, file] = args as [string, string, string, string];
  const packets = readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((h) => Buffer.from(h, 'hex'));
  const s = createSocket(isIPv4(local) ? 'udp4' : 'udp6');
  await new Promise<void>((r) => s.bind({ address: local, port: 0 }, () => r()));
  const zone = split(local).interface;
  const to = zone && !peer.includes('%') ? `${peer}%${zone}` : peer;
  s.setTTL(Number(ttl));
  for (const p of packets) {
    await new Promise<void>((r, j) => s.send(p, 3784, to, (e) => (e ? j(e) : r())));
    await new Promise((r) => setTimeout(r, 5));
  }
  out({ sent: packets.length });
  s.close();
} else {
  out({ error: `unknown mode ${mode}` });
  process.exitCode = 2;
}
