/**
 * etcds:// end to end: a real etcd serving TLS with client-certificate auth (certificates made
 * here with openssl), and the store's option parsing and its errors.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { freePort, interopGate, Lab, waitFor } from '../../lab/fixture/index.js';
import { ipamSchema } from '../../src/config/ipam.js';
import { EtcdBlockStore, etcdOptionsFromConfig } from '../../src/ipam/store/etcd.js';
import { openStore } from '../../src/ipam/store/open.js';
import { StoreError } from '../../src/ipam/store/types.js';
import { silentLogger } from '../../src/lib/log.js';

t.test('store URLs and TLS options', async (t) => {
  const plain = etcdOptionsFromConfig('etcd://198.18.0.10:2379,198.18.0.11:2379', undefined, silentLogger);
  t.same(plain.hosts, ['http://198.18.0.10:2379', 'http://198.18.0.11:2379']);
  t.equal(plain.prefix, '/podroute/ipam');
  t.equal(plain.tls, undefined);
  t.throws(
    () => etcdOptionsFromConfig('etcds://h:2379', undefined, silentLogger),
    /ipam\.etcd\.caFile: is required/,
  );
  t.throws(
    () =>
      etcdOptionsFromConfig(
        'etcds://h:2379',
        { caFile: '/nonexistent/ca.pem', prefix: '/p', leaseTtl: 30, dialTimeout: 3000 },
        silentLogger,
      ),
    /ipam\.etcd\.caFile: "\/nonexistent\/ca\.pem" cannot be read/,
  );
  t.throws(
    () =>
      etcdOptionsFromConfig(
        'etcds://h:2379',
        { caFile: '/etc/hostname', certFile: '/etc/hostname', prefix: '/p', leaseTtl: 30, dialTimeout: 3000 },
        silentLogger,
      ),
    /give both certFile and keyFile/,
  );
  await t.rejects(openStore({ store: 'redis://x' }, silentLogger), StoreError);
  t.equal((await openStore({ store: 'file:///tmp/podroute-unused/ipam.json' }, silentLogger)).kind, 'file');
  t.throws(() => ipamSchema.parse({ store: 'http://x', networks: [{ name: 'a', cidr: '198.18.0.0/24' }] }));
});

// A real etcd needs the tool and root (the lab fixture); without them this case skips, under CI=true it fails.
const gate = interopGate(['etcd']);

t.test('etcds:// with a client certificate against a real TLS etcd', { skip: gate.skip }, async (t) => {
  const lab = await Lab.create();
  t.teardown(() => lab.destroy());
  const dir = lab.makeDir('pki');
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  ssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '1',
    '-subj',
    '/CN=podroute-test-ca',
  );
  writeFileSync(
    join(dir, 'ext.cnf'),
    'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n',
  );
  for (const who of ['server', 'client']) {
    ssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      `${who}.key`,
      '-out',
      `${who}.csr`,
      '-subj',
      `/CN=${who}`,
    );
    ssl(
      'x509',
      '-req',
      '-in',
      `${who}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${who}.pem`,
      '-days',
      '1',
      '-extfile',
      'ext.cnf',
    );
  }
  const port = await freePort();
  const peer = await freePort();
  const url = `https://127.0.0.1:${port}`;
  const proc = lab.spawnManaged('etcd-tls', 'etcd', [
    '--name',
    'tls',
    '--data-dir',
    join(lab.makeDir('etcd-tls'), 'data'),
    '--listen-client-urls',
    url,
    '--advertise-client-urls',
    url,
    '--listen-peer-urls',
    `http://127.0.0.1:${peer}`,
    '--initial-advertise-peer-urls',
    `http://127.0.0.1:${peer}`,
    '--initial-cluster',
    `tls=http://127.0.0.1:${peer}`,
    '--cert-file',
    join(dir, 'server.pem'),
    '--key-file',
    join(dir, 'server.key'),
    '--client-cert-auth',
    '--trusted-ca-file',
    join(dir, 'ca.pem'),
    '--logger',
    'zap',
    '--log-outputs',
    'stderr',
  ]);
  const cfg = (withClientCert: boolean) =>
    ipamSchema.parse({
      store: `etcds://127.0.0.1:${port}`,
      etcd: {
        prefix: `/tls-${randomBytes(3).toString('hex')}`,
        caFile: join(dir, 'ca.pem'),
        dialTimeout: 1000,
        ...(withClientCert ? { certFile: join(dir, 'client.pem'), keyFile: join(dir, 'client.key') } : {}),
      },
      networks: [{ name: 'a', cidr: '198.18.0.0/24' }],
    });
  const store = await openStore(cfg(true), silentLogger);
  t.teardown(() => store.close());
  await waitFor(
    async () => {
      if (!proc.running) throw new Error(`etcd exited:\n${proc.tail(20)}`);
      return store.list().then(
        () => true,
        () => false,
      );
    },
    { timeoutMs: 20_000, intervalMs: 200, what: 'TLS etcd' },
  );
  t.same(await store.claim({ block: '198.18.0.0/26', node: 'n', group: 'g', network: 'a', claimId: 'x' }), {
    ok: true,
  });
  t.same(
    (await store.list()).map((c) => c.block),
    ['198.18.0.0/26'],
  );
  // Without a client certificate the server refuses the handshake.
  const noCert = cfg(false);
  const anon = new EtcdBlockStore({
    ...etcdOptionsFromConfig(noCert.store, noCert.etcd, silentLogger),
    retryMs: 1500,
  });
  await t.rejects(anon.list(), StoreError);
  await anon.close();
});
