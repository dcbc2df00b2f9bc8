/**
 * Captures what a real BGP daemon sends (not a test: run by hand, loopback only).
 *
 *   npx tsx test/bgp/message/capture-peer.ts [port=11179]
 *
 * Listens on 127.0.0.1:port, answers the daemon's OPEN with ours (AS 65000, MP IPv4/IPv6, route
 * refresh, 4-octet AS, GR), prints every message as {hex, decoded}, and after 4 s sends Cease /
 * Administrative Shutdown with a shutdown communication and closes. Point the daemon at it:
 *
 * BIRD 2 (bird -c bird.conf -s /tmp/x.ctl -P /tmp/x.pid):
 *   router id 198.18.0.9; protocol device {}
 *   protocol static s4 { ipv4; route 198.18.100.0/24 blackhole; route 198.18.101.0/25 blackhole; }
 *   protocol static s6 { ipv6; route 2001:db8:100::/48 blackhole; }
 *   protocol bgp p { local 127.0.0.1 as 4200000001; neighbor 127.0.0.1 port 11179 as 65000;
 *     multihop; hold time 90; graceful restart on; long lived graceful restart on;
 *     ipv4 { import none; export all; next hop self; };
 *     ipv6 { import none; export all; next hop address 2001:db8::9; }; }
 *
 * GoBGP (gobgpd -f gobgp.toml --api-hosts 127.0.0.1:50551; global port = -1 so it listens on
 * nothing; neighbor 127.0.0.1, remote-port 11179, connect-retry 1, GR on for both families;
 * routes added with `gobgp -p 50551 global rib add ...`).
 *
 * FRR (/usr/lib/frr/bgpd -f frr.conf -Z -S -n -p 0 -P 0 --vty_socket DIR): router bgp 65001,
 * neighbor 127.0.0.1 remote-as 65000 port 11179, ebgp-multihop 2, update-source 127.0.0.1,
 * bgp graceful-restart, a network per family.
 */
import { createServer } from 'node:net';
import { decodeMessage, encodeMessage, MessageReader } from '../../../src/bgp/message/index.js';

const port = Number(process.argv[2] ?? 11179);
const ctx = { fourOctetAs: true };

const server = createServer((sock) => {
  const reader = new MessageReader();
  sock.on('data', (chunk) => {
    for (const bytes of reader.push(chunk)) {
      const msg = decodeMessage(bytes, ctx);
      console.log(
        JSON.stringify({ hex: bytes.toString('hex'), msg }, (_k, v) =>
          v && v.type === 'Buffer' ? Buffer.from(v.data).toString('hex') : v,
        ),
      );
      if (msg.type !== 1) continue;
      const open = encodeMessage(
        {
          type: 1,
          version: 4,
          myAs: 65000,
          holdTime: 90,
          bgpId: '198.18.0.8',
          capabilities: [
            { code: 1, afi: 1, safi: 1 },
            { code: 1, afi: 2, safi: 1 },
            { code: 2 },
            { code: 65, asn: 65000 },
            {
              code: 64,
              restarting: false,
              notification: true,
              restartTime: 120,
              families: [
                { afi: 1, safi: 1, forwardingPreserved: false },
                { afi: 2, safi: 1, forwardingPreserved: false },
              ],
            },
          ],
        },
        ctx,
      );
      sock.write(open);
      sock.write(encodeMessage({ type: 4 }, ctx));
    }
  });
  setTimeout(() => {
    const bye = {
      type: 3 as const,
      code: 6,
      subcode: 2,
      data: Buffer.alloc(0),
      shutdownMessage: 'capture done',
    };
    sock.write(encodeMessage(bye, ctx));
    setTimeout(() => {
      sock.destroy();
      server.close();
    }, 500);
  }, 4000);
});
server.listen(port, '127.0.0.1');
// Bounded: stops by itself.
setTimeout(() => process.exit(0), 15_000).unref();
