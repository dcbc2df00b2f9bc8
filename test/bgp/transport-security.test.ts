/**
 * TCP MD5 (RFC 2385) and GTSM (RFC 5082) on NetTransport: the struct layouts handed to the kernel,
 * then real sockets on loopback only (network safety rule): matching keys connect, a wrong or
 * missing key is silence (a timeout whose words name the likely cause), GTSM options are on the
 * sockets before any data.
 */
import * as net from 'node:net';
import t from 'tap';
import {
  GTSM_TTL,
  IP_MINTTL,
  IP_TTL,
  IPV6_MINHOPCOUNT,
  IPV6_UNICAST_HOPS,
  minTtl,
  peerSecurity,
} from '../../src/bgp/socket-options.js';
import {
  type BgpListener,
  type BgpSocket,
  describeConnectTimeout,
  describeSocketError,
  NetTransport,
} from '../../src/bgp/transport.js';
import { getsockoptInt, IPPROTO_IP, IPPROTO_IPV6 } from '../../src/lib/libc-socket.js';
import {
  AF_INET,
  AF_INET6,
  encodePollfd,
  encodeSockaddr,
  encodeTcpMd5sig,
  TCP_MD5SIG_SIZE,
} from '../../src/lib/sockaddr.js';

t.test('sockaddr_in / sockaddr_in6 layout', async (t) => {
  t.same(
    [...encodeSockaddr('198.18.0.1', 179)],
    [2, 0, 0, 179, 198, 18, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0],
    'family host order (LE), port and address network order',
  );
  const v6 = encodeSockaddr('2001:db8::1', 0x1234);
  t.equal(v6.length, 28);
  t.same([...v6.subarray(0, 8)], [10, 0, 0x12, 0x34, 0, 0, 0, 0]);
  t.equal(v6.subarray(8, 24).toString('hex'), '20010db8000000000000000000000001');
  t.equal(v6.readUInt32LE(24), 0, 'no scope');
  const mapped = encodeSockaddr('198.18.0.1', 179, AF_INET6);
  t.equal(mapped.subarray(8, 24).toString('hex'), '00000000000000000000ffffc6120001', 'v4-mapped');
  t.throws(() => encodeSockaddr('2001:db8::1', 179, AF_INET), RangeError);
});

t.test('struct tcp_md5sig layout', async (t) => {
  const b = encodeTcpMd5sig('198.18.0.1', Buffer.from('secret'));
  t.equal(b.length, TCP_MD5SIG_SIZE);
  t.equal(b.readUInt16LE(0), AF_INET, 'tcpm_addr.ss_family');
  t.equal(b.readUInt16BE(2), 0, 'port unused');
  t.same([...b.subarray(4, 8)], [198, 18, 0, 1], 'sin_addr');
  t.ok(b.subarray(8, 128).equals(Buffer.alloc(120)), 'rest of sockaddr_storage zero');
  t.equal(b[128], 0, 'tcpm_flags: whole address, any interface');
  t.equal(b[129], 0, 'tcpm_prefixlen');
  t.equal(b.readUInt16LE(130), 6, 'tcpm_keylen');
  t.equal(b.readInt32LE(132), 0, 'tcpm_ifindex');
  t.equal(b.subarray(136, 142).toString(), 'secret', 'tcpm_key');
  t.ok(b.subarray(142).equals(Buffer.alloc(216 - 142)), 'key padding zero');

  const v6 = encodeTcpMd5sig('2001:db8::1', Buffer.from('k'));
  t.equal(v6.readUInt16LE(0), AF_INET6);
  t.equal(v6.subarray(8, 24).toString('hex'), '20010db8000000000000000000000001', 'sin6_addr at 8');
  t.equal(v6.readUInt16LE(130), 1);
  const mapped = encodeTcpMd5sig('198.18.0.1', Buffer.from('k'), AF_INET6);
  t.equal(mapped.readUInt16LE(0), AF_INET6, 'dual-stack socket: IPv4 peer as v4-mapped');
  t.equal(mapped.subarray(20, 24).toString('hex'), 'c6120001');

  const del = encodeTcpMd5sig('198.18.0.1', Buffer.alloc(0));
  t.equal(del.readUInt16LE(130), 0, 'key length 0 deletes');
  t.equal(encodeTcpMd5sig('198.18.0.1', Buffer.alloc(80)).readUInt16LE(130), 80);
  t.throws(() => encodeTcpMd5sig('198.18.0.1', Buffer.alloc(81)), RangeError);
});

t.test('pollfd layout and GTSM arithmetic (RFC 5082 3)', async (t) => {
  t.same([...encodePollfd(7, 4)], [7, 0, 0, 0, 4, 0, 0, 0]);
  t.equal(GTSM_TTL, 255);
  t.equal(minTtl(1), 255, 'directly connected: only TTL 255 accepted');
  t.equal(minTtl(2), 254);
  t.equal(minTtl(254), 2);
  t.same(peerSecurity({ password: 'x', ttlSecurity: 2 }), { md5Password: 'x', ttlSecurityHops: 2 });
  t.same(peerSecurity({}), {});
});

t.test('timeout words name the likely cause and never the password', async (t) => {
  t.equal(
    describeConnectTimeout('198.18.0.1', 179, 5000, { md5Password: 'hunter2' }),
    'no answer from 198.18.0.1:179 within 5 s — with a TCP MD5 password configured, a password mismatch is the likely cause',
  );
  t.equal(
    describeConnectTimeout('2001:db8::1', 179, 30000, { ttlSecurityHops: 1 }),
    'no answer from [2001:db8::1]:179 within 30 s — with ttlSecurity configured, the peer may be more than 1 hop away or not sending with TTL 255',
  );
  t.equal(
    describeConnectTimeout('198.18.0.1', 179, 1500, undefined),
    'no answer from 198.18.0.1:179 within 1.5 s',
  );
  const err = Object.assign(new Error('x'), { code: 'ETIMEDOUT', description: 'no answer' });
  t.equal(describeSocketError(err, 'connect'), 'connect: no answer');
  t.equal(
    describeSocketError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }), 'connect'),
    'connect: ECONNREFUSED',
  );
});

// ===== real sockets on loopback =====

interface Pair {
  client: BgpSocket;
  server: BgpSocket;
}

async function listenOn(tr: NetTransport, host: string, got: (s: BgpSocket) => void): Promise<BgpListener> {
  return tr.listen({ port: 0, host }, got);
}

function connectTo(tr: NetTransport, host: string, port: number, timeoutMs: number): Promise<BgpSocket> {
  return new Promise((resolve, reject) => {
    tr.connect({ host, port, timeoutMs }, (err, s) => (err || !s ? reject(err) : resolve(s)));
  });
}

/** Connects and checks that bytes flow both ways. */
async function exchange(
  client: NetTransport,
  host: string,
  listener: BgpListener,
  accepted: Promise<BgpSocket>,
): Promise<Pair> {
  const c = await connectTo(client, host, listener.port, 3000);
  const s = await accepted;
  const got = new Promise<string>((resolve) =>
    s.setHandlers({ data: (d) => resolve(d.toString()), close: () => {}, drain: () => {} }),
  );
  c.setHandlers({ data: () => {}, close: () => {}, drain: () => {} });
  c.write(Buffer.from('hello'));
  if ((await got) !== 'hello') throw new Error('bytes did not arrive');
  return { client: c, server: s };
}

for (const host of ['127.0.0.1', '::1']) {
  t.test(`MD5 on ${host}: matching keys connect; wrong or no key is silence`, async (t) => {
    const server = new NetTransport();
    server.setPeerSecurity(host, { md5Password: 'right-key' });
    let onAccept: (s: BgpSocket) => void = () => {};
    const listener = await listenOn(server, host, (s) => onAccept(s));
    t.teardown(() => listener.close());

    const good = new NetTransport();
    good.setPeerSecurity(host, { md5Password: 'right-key' });
    const accepted = new Promise<BgpSocket>((r) => {
      onAccept = r;
    });
    const pair = await exchange(good, host, listener, accepted);
    t.pass('signed connection carries data');
    pair.client.destroy();
    pair.server.destroy();

    let unexpected = 0;
    onAccept = (s) => {
      unexpected++;
      s.destroy();
    };
    const wrong = new NetTransport();
    wrong.setPeerSecurity(host, { md5Password: 'wrong-key' });
    const err = await connectTo(wrong, host, listener.port, 1000).then(
      () => null,
      (e: Error) => e,
    );
    t.ok(err, 'wrong key: no connection');
    const words = describeSocketError(err ?? new Error(), 'connect');
    t.match(
      words,
      /no answer from .* within 1 s — with a TCP MD5 password configured, a password mismatch is the likely cause/,
    );
    t.notOk(words.includes('wrong-key') || words.includes('right-key'), 'no password in the words');

    const plain = new NetTransport();
    const err2 = await connectTo(plain, host, listener.port, 1000).then(
      () => null,
      (e: Error) => e,
    );
    t.equal((err2 as NodeJS.ErrnoException | null)?.code, 'ETIMEDOUT', 'unsigned SYN: silence');
    t.equal(unexpected, 0, 'the listener never accepted a bad connection');
  });
}

t.test('MD5 keys on an open listener follow setPeerSecurity', async (t) => {
  const server = new NetTransport();
  let onAccept: (s: BgpSocket) => void = () => {};
  const listener = await listenOn(server, '127.0.0.1', (s) => onAccept(s));
  t.teardown(() => listener.close());
  server.setPeerSecurity('127.0.0.1', { md5Password: 'later' });
  const plain = new NetTransport();
  const e = await connectTo(plain, '127.0.0.1', listener.port, 800).then(
    () => null,
    (x: Error) => x,
  );
  t.ok(e, 'key added after listen: an unsigned client is refused');
  server.setPeerSecurity('127.0.0.1', undefined);
  const accepted = new Promise<BgpSocket>((r) => {
    onAccept = r;
  });
  const pair = await exchange(plain, '127.0.0.1', listener, accepted);
  t.pass('key removed: plain connections work again');
  pair.client.destroy();
  pair.server.destroy();
});

function fdOf(s: BgpSocket): number {
  // NetSocket keeps the net.Socket as `sock`; libuv exposes the fd on its handle.
  const sock = (s as unknown as { sock: net.Socket }).sock;
  return (sock as unknown as { _handle: { fd: number } })._handle.fd;
}

for (const [host, level, ttlOpt, minOpt] of [
  ['127.0.0.1', IPPROTO_IP, IP_TTL, IP_MINTTL],
  ['::1', IPPROTO_IPV6, IPV6_UNICAST_HOPS, IPV6_MINHOPCOUNT],
] as const) {
  t.test(`GTSM on ${host}: TTL 255 and the minimum on both ends`, async (t) => {
    const server = new NetTransport();
    server.setPeerSecurity(host, { ttlSecurityHops: 1 });
    let onAccept: (s: BgpSocket) => void = () => {};
    const accepted = new Promise<BgpSocket>((r) => {
      onAccept = r;
    });
    const listener = await listenOn(server, host, (s) => onAccept(s));
    t.teardown(() => listener.close());
    const client = new NetTransport();
    client.setPeerSecurity(host, { ttlSecurityHops: 2 });
    const pair = await exchange(client, host, listener, accepted);
    t.equal(getsockoptInt(fdOf(pair.client), level, ttlOpt), 255, 'client sends with 255');
    t.equal(getsockoptInt(fdOf(pair.client), level, minOpt), 254, 'client: 2 hops → at least 254');
    t.equal(getsockoptInt(fdOf(pair.server), level, ttlOpt), 255, 'accepted socket sends with 255');
    t.equal(getsockoptInt(fdOf(pair.server), level, minOpt), 255, 'accepted socket: 1 hop → 255');
    pair.client.destroy();
    pair.server.destroy();
  });
}

t.test('a plain peer on a listener shared with a GTSM peer keeps default TTLs', async (t) => {
  const server = new NetTransport();
  server.setPeerSecurity('198.18.0.1', { ttlSecurityHops: 1 });
  server.setPeerSecurity('127.0.0.1', undefined);
  let onAccept: (s: BgpSocket) => void = () => {};
  const accepted = new Promise<BgpSocket>((r) => {
    onAccept = r;
  });
  const listener = await listenOn(server, '127.0.0.1', (s) => onAccept(s));
  t.teardown(() => listener.close());
  const pair = await exchange(new NetTransport(), '127.0.0.1', listener, accepted);
  t.equal(getsockoptInt(fdOf(pair.server), IPPROTO_IP, IP_MINTTL), 0, 'no minimum for the plain peer');
  t.not(getsockoptInt(fdOf(pair.server), IPPROTO_IP, IP_TTL), 255, 'default TTL again');
  pair.client.destroy();
  pair.server.destroy();
});

t.test('a connect to a protected peer can be cancelled', async (t) => {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => server.close());
  const tr = new NetTransport();
  tr.setPeerSecurity('127.0.0.1', { md5Password: 'k' });
  let called = false;
  // The plain server does not answer signed SYNs at all, so this stays pending until cancelled.
  const c = tr.connect(
    { host: '127.0.0.1', port: (server.address() as net.AddressInfo).port, timeoutMs: 5000 },
    () => {
      called = true;
    },
  );
  await new Promise((r) => setTimeout(r, 100));
  const t0 = Date.now();
  c.cancel();
  await new Promise((r) => setTimeout(r, 200));
  t.notOk(called, 'done is not called after cancel');
  t.ok(Date.now() - t0 < 1000);
});
