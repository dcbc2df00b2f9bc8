/**
 * The RFC 5881 sockets in lab namespaces: bound to the local address on 3784 (not the wildcard),
 * packets sent with TTL / Hop Limit 255 from a source port in 49152-65535, and received packets
 * with TTL 254 or 1 reported as TTL drops by the kernel filter (IPv4, IPv6, IPv6 link-local with
 * the interface). An address the
 * namespace does not have is refused with a clear message.
 */
import t from 'tap';
import { interopGate, Lab, waitFor } from '../../lab/fixture/index.js';
import { jsonLines, runChild, spawnChild } from './helpers.js';

const gate = interopGate(['ip']);

interface Rx {
  local?: string;
  from?: string;
  port?: number;
  ttlOk?: boolean;
  hex?: string;
  ready?: { local: string; txPort: number }[];
}

t.test('BFD sockets: TTL 255 sent and required, source port range', { skip: gate.skip }, async (t) => {
  const lab = await Lab.create();
  t.teardown(() => lab.destroy());
  const a = await lab.addNamespace('a');
  const b = await lab.addNamespace('b');
  await lab.addLink(
    { ns: a, ifname: 'eth1', addresses: ['198.18.0.1/30', '2001:db8::1/64'] },
    { ns: b, ifname: 'eth1', addresses: ['198.18.0.2/30', '2001:db8::2/64'] },
  );
  const listener = spawnChild(a, 'bfd-listen', 'test/bfd/socket-child.ts', [
    'listen',
    '198.18.0.1',
    '2001:db8::1',
  ]);
  const lines = () => jsonLines<Rx>(listener.log());
  await waitFor(() => lines().some((l) => l.ready), { timeoutMs: 20_000, what: 'listener ready' });
  const ss = await a.exec('ss', ['-H', '-uln', 'sport', '=', ':3784']);
  t.match(ss.stdout, /198\.18\.0\.1:3784/, 'bound to the IPv4 address');
  t.match(ss.stdout, /\[2001:db8::1\]:3784/, 'bound to the IPv6 address');
  t.notMatch(ss.stdout, /(0\.0\.0\.0|\*|\[::\]):3784/, 'not to the wildcard');
  const ready = lines().find((l) => l.ready)!.ready!;
  for (const r of ready) t.ok(r.txPort >= 49152 && r.txPort <= 65535, `${r.local} sends from ${r.txPort}`);

  for (const [src, dst] of [
    ['198.18.0.2', '198.18.0.1'],
    ['2001:db8::2', '2001:db8::1'],
  ] as const) {
    for (const ttl of [255, 254, 1]) {
      const file = lab.writeFile(
        `ttl-${ttl}-${dst}.hex`,
        `${(0x2000 + ttl).toString(16).padStart(48, '0')}\n`,
      );
      const r = await runChild(b, ['inject', src, dst, String(ttl), file]);
      t.match(r.stdout, '"sent":1');
    }
    const sent = await runChild(b, ['send', src, dst, 'cafe'.repeat(12)]);
    const txPort = (JSON.parse(sent.stdout.trim().split('\n').at(-1)!) as { txPort: number }).txPort;
    await waitFor(() => lines().filter((l) => l.local === dst && l.from === src).length >= 4, {
      timeoutMs: 5000,
      what: `4 datagrams on ${dst}`,
    });
    const got = lines().filter((l) => l.local === dst && l.from === src);
    t.same(
      got.map((l) => [l.ttlOk, l.hex]),
      [
        [true, (0x2000 + 255).toString(16).padStart(48, '0')],
        [false, ''],
        [false, ''],
        [true, 'cafe'.repeat(12)],
      ],
      `${dst}: TTL 255 delivered, 254 and 1 flagged, ours arrive with 255`,
    );
    t.equal(got[3]!.port, txPort, 'from the socket pair source port');
    t.ok(txPort >= 49152, `source port ${txPort} in 49152-65535`);
  }
  await listener.stop();

  // IPv6 link-local: bound with the interface, the zone stripped from the reported source.
  const ll = async (ns: typeof a) =>
    (await ns.addresses()).find((l) => l.ifname === 'eth1')!.addrs.find((x) => x.local.startsWith('fe80'))!
      .local;
  const [llA, llB] = [await ll(a), await ll(b)];
  const llListener = spawnChild(a, 'bfd-listen-ll', 'test/bfd/socket-child.ts', ['listen', `${llA}%eth1`]);
  const llLines = () => jsonLines<Rx>(llListener.log());
  await waitFor(() => llLines().some((l) => l.ready), {
    timeoutMs: 20_000,
    what: 'link-local listener ready',
  });
  await runChild(b, ['send', `${llB}%eth1`, llA, 'beef'.repeat(12)]);
  const llFile = lab.writeFile('ttl-254-ll.hex', `${'20'.repeat(24)}\n`);
  await runChild(b, ['inject', `${llB}%eth1`, llA, '254', llFile]);
  await waitFor(() => llLines().filter((l) => l.from).length >= 2, {
    timeoutMs: 5000,
    what: 'link-local datagrams',
  });
  t.same(
    llLines()
      .filter((l) => l.from)
      .map((l) => [l.from, l.ttlOk]),
    [
      [llB, true],
      [llB, false],
    ],
    `link-local ${llA}%eth1: ours accepted, Hop Limit 254 flagged`,
  );
  await llListener.stop();
  const noIf = await runChild(a, ['send', llA, llB, 'cafe'], true);
  t.match(noIf.stderr, /link-local address .* needs an interface/);

  const missing = await runChild(a, ['send', '198.18.0.99', '198.18.0.2', 'cafe'], true);
  t.not(missing.code, 0);
  t.match(missing.stderr, /bfd: cannot open the socket on 198\.18\.0\.99.*EADDRNOTAVAIL.*not assigned/);
});
