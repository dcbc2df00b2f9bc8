/**
 * deploy/install-cni.sh (the DaemonSet's init container), run with /bin/sh against temporary
 * directories: an absent conflist is written, ours is replaced, a foreign one is left alone, every
 * write is a rename (a reader never sees half a file), and the installed plugin — one static
 * executable, no Node.js beside it — runs (CNI VERSION). Needs `npm run build` (dist/).
 */
import { execFile } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { tempDir } from '../../lab/fixture/temp-dir.js';

const run = promisify(execFile);
const repo = new URL('../..', import.meta.url).pathname;
const script = join(repo, 'deploy/install-cni.sh');
const MARKER = '"managedBy": "podroute-install-cni"';

function dirs() {
  const root = tempDir('podroute-install-cni-');
  const bin = join(root, 'opt/cni/bin');
  const conf = join(root, 'etc/cni/net.d');
  const refs = join(root, 'image-plugins');
  mkdirSync(refs, { recursive: true });
  for (const p of ['ptp', 'portmap']) {
    writeFileSync(join(refs, p), `#!/bin/sh\necho ${p}\n`);
    chmodSync(join(refs, p), 0o755);
  }
  return { root, bin, conf, refs, conflist: join(conf, '10-podroute.conflist') };
}

async function install(d: ReturnType<typeof dirs>, socket = '/run/podroute/podroute.sock') {
  return run('/bin/sh', [script], {
    env: {
      PATH: process.env.PATH,
      CNI_BIN_DIR: d.bin,
      CNI_CONF_DIR: d.conf,
      PODROUTE_HOME: repo,
      PODROUTE_SOCKET: socket,
      REFERENCE_PLUGINS_DIR: d.refs,
    },
  });
}

const leftovers = (dir: string) => readdirSync(dir).filter((f) => f.startsWith('.'));

t.test('absent: the plugin, reference plugins and the conflist are written', async (t) => {
  const d = dirs();
  const r = await install(d, '/run/pod route/x&y.sock');
  t.match(r.stderr, /wrote .*10-podroute\.conflist/);
  const conf = JSON.parse(readFileSync(d.conflist, 'utf8'));
  t.equal(conf.managedBy, 'podroute-install-cni', 'marker');
  t.same(
    conf.plugins.map((p: { type: string }) => p.type),
    ['ptp', 'portmap'],
    'ptp, then portmap',
  );
  t.same(
    conf.plugins[0].ipam,
    { type: 'podroute-cni', socket: '/run/pod route/x&y.sock' },
    'socket substituted verbatim',
  );
  for (const p of ['podroute-cni', 'ptp', 'portmap'])
    t.ok(statSync(join(d.bin, p)).mode & 0o111, `${p} executable`);
  t.same(leftovers(d.bin), [], 'no temporary files left in the bin dir');
  t.same(leftovers(d.conf), [], 'no temporary files left in the conf dir');
  // The installed plugin is one executable file (ELF, no interpreter line) and runs on its own.
  const plugin = join(d.bin, 'podroute-cni');
  t.equal(readFileSync(plugin).subarray(0, 4).toString('latin1'), '\x7fELF', 'a compiled executable');
  t.same(
    readdirSync(d.bin).sort(),
    ['podroute-cni', 'portmap', 'ptp'],
    'nothing beside it (no Node.js, no bundle)',
  );
  const child = run(plugin, [], { env: { CNI_COMMAND: 'VERSION' } });
  child.child.stdin?.end('{"cniVersion":"1.0.0"}');
  const v = await child;
  const version = JSON.parse(v.stdout);
  t.ok(version.supportedVersions.includes('1.0.0'), `VERSION answers ${v.stdout}`);
});

t.test('upgrade: the Node.js runtime an older installer left is removed', async (t) => {
  const d = dirs();
  mkdirSync(join(d.bin, 'podroute.d/dist/cni'), { recursive: true });
  writeFileSync(join(d.bin, 'podroute.d/node'), 'old node');
  writeFileSync(join(d.bin, 'podroute-cni'), '#!/bin/sh\nexec "$0.d/node"\n');
  const before = statSync(join(d.bin, 'podroute-cni')).ino;
  await install(d);
  t.notOk(existsSync(join(d.bin, 'podroute.d')), 'podroute.d/ is gone');
  t.not(statSync(join(d.bin, 'podroute-cni')).ino, before, 'the plugin replaced by rename');
  t.same(leftovers(d.bin), [], 'no temporary files left');
});

t.test('ours: replaced (by rename: a new inode)', async (t) => {
  const d = dirs();
  await install(d);
  const old = `{ ${MARKER}, "cniVersion": "0.4.0", "name": "podroute", "plugins": [] }\n`;
  writeFileSync(d.conflist, old);
  const before = statSync(d.conflist).ino;
  await install(d);
  const now = readFileSync(d.conflist, 'utf8');
  t.not(now, old, 'replaced');
  t.equal(JSON.parse(now).plugins.length, 2);
  t.not(statSync(d.conflist).ino, before, 'renamed into place, not rewritten in place');
  // A host that has its own ptp keeps it.
  writeFileSync(join(d.bin, 'ptp'), '#!/bin/sh\necho host-ptp\n');
  await install(d);
  t.match(readFileSync(join(d.bin, 'ptp'), 'utf8'), /host-ptp/, "the host's ptp is not replaced");
});

t.test('foreign: left alone, and the install still succeeds', async (t) => {
  const d = dirs();
  mkdirSync(d.conf, { recursive: true });
  const foreign = '{ "cniVersion": "1.0.0", "name": "other", "plugins": [{ "type": "bridge" }] }\n';
  writeFileSync(d.conflist, foreign);
  const r = await install(d);
  t.match(r.stderr, /left .*10-podroute\.conflist alone: it is not podroute's/);
  t.equal(readFileSync(d.conflist, 'utf8'), foreign, 'byte for byte unchanged');
  t.ok(existsSync(join(d.bin, 'podroute-cni')), 'the plugin is installed anyway');
});

t.test('atomic: a reader polling during repeated installs only ever sees whole conflists', async (t) => {
  const d = dirs();
  await install(d);
  let reads = 0;
  let bad = 0;
  let stop = false;
  const reader = (async () => {
    while (!stop) {
      try {
        JSON.parse(readFileSync(d.conflist, 'utf8'));
      } catch {
        bad++;
      }
      reads++;
      await new Promise((r) => setImmediate(r));
    }
  })();
  for (let i = 0; i < 8; i++) await install(d, `/run/podroute/p${i}.sock`);
  stop = true;
  await reader;
  t.ok(reads > 8, `${reads} reads`);
  t.equal(bad, 0, 'never a partial or missing file');
  t.equal(JSON.parse(readFileSync(d.conflist, 'utf8')).plugins[0].ipam.socket, '/run/podroute/p7.sock');
});
