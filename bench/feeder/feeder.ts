/**
 * BGP feeder for the ingest benchmark: precomputes a synthetic full table (table.ts), then waits
 * for the speaker under test to connect (or connects to it), completes OPEN / KEEPALIVE
 * (RFC 4271 8.2.2), streams every UPDATE followed by End-of-RIB (RFC 4724 2), and keeps the session
 * up with KEEPALIVEs until killed.
 *
 *   node --import tsx bench/feeder/feeder.ts --listen 198.18.0.0 --asn 65000 --peer-asn 65001 \
 *        [--connect ADDR] [--port 179] [--count 1000000] [--per-path 400] [--hold 90]
 *
 * Events are JSON lines on stdout: `ready` (table built, listening), `established`, `first-update`
 * (wall-clock ms just before the first UPDATE is written), `sent` (last byte handed to the kernel),
 * `notification` (received; exits 1).
 */
import { createServer, type Socket, connect as tcpConnect } from 'node:net';
import { parseArgs } from 'node:util';
import {
  decodeMessage,
  encodeKeepalive,
  encodeMessage,
  MessageReader,
  type OpenMessage,
} from '../../src/bgp/message/index.js';
import { buildTable } from './table.js';

const { values: a } = parseArgs({
  options: {
    listen: { type: 'string' },
    connect: { type: 'string' },
    port: { type: 'string', default: '179' },
    asn: { type: 'string', default: '65000' },
    'peer-asn': { type: 'string', default: '65001' },
    'router-id': { type: 'string' },
    'next-hop': { type: 'string' },
    count: { type: 'string', default: '1000000' },
    'per-path': { type: 'string', default: '400' },
    hold: { type: 'string', default: '90' },
  },
});

const now = (): number => performance.timeOrigin + performance.now();
const emit = (event: string, extra: Record<string, unknown> = {}): void => {
  process.stdout.write(`${JSON.stringify({ event, at: now(), ...extra })}\n`);
};

const localAddr = a.listen ?? '0.0.0.0';
const asn = Number(a.asn);
const routerId = a['router-id'] ?? a.listen ?? '198.18.0.0';
const nextHop = a['next-hop'] ?? a.listen ?? routerId;
const ctx = { fourOctetAs: true };

const t0 = now();
const table = buildTable({ count: Number(a.count), perPath: Number(a['per-path']), asn, nextHop });
const open: OpenMessage = {
  type: 1,
  version: 4,
  myAs: asn > 0xffff ? 23456 : asn,
  holdTime: Number(a.hold),
  bgpId: routerId,
  capabilities: [{ code: 1, afi: 1, safi: 1 }, { code: 2 }, { code: 65, asn }],
};

function session(sock: Socket): void {
  sock.setNoDelay(true);
  const reader = new MessageReader();
  let gotOpen = false;
  let established = false;
  let keepalive: NodeJS.Timeout | undefined;
  sock.write(encodeMessage(open, ctx));
  sock.on('data', (chunk: Buffer) => {
    for (const raw of reader.push(chunk)) {
      const msg = decodeMessage(raw, ctx);
      if (msg.type === 1) {
        gotOpen = true;
        if (msg.myAs !== 23456 && msg.myAs !== Number(a['peer-asn']))
          emit('warning', { text: `peer AS ${msg.myAs}` });
        // RFC 4271 4.4: KEEPALIVEs at a third of the negotiated hold time.
        const hold = Math.min(msg.holdTime, Number(a.hold));
        sock.write(encodeKeepalive());
        if (hold > 0) keepalive = setInterval(() => sock.write(encodeKeepalive()), (hold * 1000) / 3);
      } else if (msg.type === 4 && gotOpen && !established) {
        established = true;
        emit('established');
        void stream(sock);
      } else if (msg.type === 3) {
        emit('notification', { code: msg.code, subcode: msg.subcode });
        process.exit(1);
      }
    }
  });
  sock.on('close', () => {
    clearInterval(keepalive);
    emit('closed');
  });
  sock.on('error', (e) => emit('socket-error', { text: e.message }));
}

/** Writes every chunk, waiting for `drain` when the socket buffer is full (no unbounded queue). */
async function stream(sock: Socket): Promise<void> {
  emit('first-update');
  for (const c of table.chunks) {
    if (!sock.write(c)) await new Promise((r) => sock.once('drain', r));
  }
  sock.write(table.endOfRib);
  emit('sent', { updates: table.updates, prefixes: table.prefixes, bytes: table.bytes });
}

const ready = {
  prefixes: table.prefixes,
  updates: table.updates,
  paths: table.paths,
  bytes: table.bytes,
  buildMs: Math.round(now() - t0),
};
if (a.connect) {
  const sock = tcpConnect({ host: a.connect, port: Number(a.port), localAddress: a.listen });
  sock.on('connect', () => session(sock));
  emit('ready', ready);
} else {
  const server = createServer((sock) => {
    // One session at a time: a second connection (collision) is refused.
    if (server.listening) server.close();
    session(sock);
  });
  server.listen(Number(a.port), localAddr, () => emit('ready', ready));
}
