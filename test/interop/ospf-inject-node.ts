/**
 * Sends hand-made OSPF packets out of one interface, for the daemon-level bad-input test
 * (ospf-daemon-bad-input.test.ts). Started by the test inside a lab namespace (never the root
 * namespace). Arguments: interface name, a file with one packet per line in hex. Each packet goes
 * to AllSPFRouters (224.0.0.5) with TTL 1.
 */
import { readFileSync } from 'node:fs';
import { openOspfSocket } from '../../src/ospf/socket.js';

const [ifname, file] = process.argv.slice(2) as [string, string];
const packets = readFileSync(file, 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((h) => Buffer.from(h, 'hex'));
const socket = openOspfSocket(ifname, { broadcast: false });
for (const p of packets) {
  socket.send(p, '224.0.0.5');
  await new Promise((r) => setTimeout(r, 5));
}
await socket.close();
process.stdout.write(`sent ${packets.length}\n`);
