/**
 * The container image's runtime tree, built without a container engine (none runs where the tests
 * run): the last stage of deploy/Containerfile is read for its `COPY --from=build` lines, the same
 * paths are put in a temporary directory (node_modules as the build stage makes it: `npm ci
 * --omit=dev` from package.json + package-lock.json, from the local npm cache), and podroute and
 * the CNI plugin run from there. A runtime dependency listed under devDependencies, or a file the
 * image leaves out, fails here. The build stage is checked the same way: its COPY lines alone must
 * be enough for `npm run build`. Needs `npm run build` (dist/).
 */
import { execFile, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { tempDir } from '../../lab/fixture/temp-dir.js';

const run = promisify(execFile);
const repo = new URL('../..', import.meta.url).pathname;
const containerfile = readFileSync(join(repo, 'deploy/Containerfile'), 'utf8');

/** [sources relative to the repo, destination relative to /opt/podroute] per COPY --from=build. */
function runtimeCopies(): { sources: string[]; dest: string }[] {
  const stages = containerfile.split(/^FROM /m);
  const last = stages.at(-1) ?? '';
  return [...last.matchAll(/^COPY --from=build (.+)$/gm)].map((m) => {
    const parts = (m[1] ?? '').trim().split(/\s+/);
    const dest = (parts.pop() ?? '').replace(/^\.\/?/, '');
    return { sources: parts.map((p) => p.replace(/^\/src\//, '')), dest };
  });
}

const exec = (file: string, args: string[], env: NodeJS.ProcessEnv = {}, stdin?: string, cwd?: string) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(file, args, { env: { PATH: process.env.PATH, ...env }, ...(cwd ? { cwd } : {}) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.stdin.end(stdin ?? '');
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });

t.test('the runtime tree the Containerfile describes runs podroute and the CNI plugin', async (t) => {
  const copies = runtimeCopies();
  t.same(
    copies.flatMap((c) => c.sources).sort(),
    [
      'bin',
      'deploy/10-podroute.conflist',
      'deploy/install-cni.sh',
      'dist',
      'node_modules',
      'package-lock.json',
      'package.json',
    ],
    'the last stage copies what this test builds',
  );
  t.match(containerfile, /^FROM docker\.io\/library\/node:20-bookworm-slim$/m, 'runs on Node 20 slim');
  t.match(containerfile, /npm ci --omit=dev/, 'the build stage keeps production dependencies only');

  const root = tempDir('podroute-image-');
  for (const { sources, dest } of copies) {
    for (const src of sources) {
      if (src === 'node_modules') continue;
      const to = dest.endsWith('/')
        ? join(root, dest, src.split('/').pop() as string)
        : join(root, dest === '' ? src : dest);
      mkdirSync(join(to, '..'), { recursive: true });
      // As COPY does: links stay links (bin/podroute-cni points into dist/).
      cpSync(join(repo, src), to, { recursive: true, verbatimSymlinks: true });
    }
  }
  const start = Date.now();
  await run('npm', ['ci', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd: root,
    maxBuffer: 1 << 24,
  });
  t.pass(`npm ci --omit=dev in ${Math.round((Date.now() - start) / 1000)} s`);
  t.notOk(existsSync(join(root, 'node_modules/typescript')), 'no dev dependency in the tree');

  const podroute = join(root, 'bin/podroute');
  const help = await exec(podroute, ['--help']);
  t.equal(help.code, 0, `podroute --help ${help.stderr}`);
  t.match(help.stdout, /Usage: podroute/);

  // The config check: a bad file is refused with exit 2 and its key path; the ConfigMap's passes
  // validation (it then fails later, reaching for etcd or the API, which is not this test's job).
  const bad = join(root, 'bad.yaml');
  writeFileSync(bad, 'bgp: { asn: 4294967296, peers: [] }\n');
  const refused = await exec(podroute, ['run', '--config', bad]);
  t.equal(refused.code, 2, 'bad config: exit 2');
  t.match(refused.stderr, /bgp\.asn: 4294967296 is not a valid ASN/);

  // Every production dependency loads from the tree (the daemon imports most of them lazily).
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
  };
  const probe = join(root, 'dist/probe-deps.mjs');
  writeFileSync(
    probe,
    `for (const d of ${JSON.stringify(Object.keys(pkg.dependencies))}) await import(d);\nconsole.log('loaded');\n`,
  );
  const loaded = await exec(process.execPath, [probe]);
  t.equal(loaded.stdout.trim(), 'loaded', `every dependency imports ${loaded.stderr}`);

  // The CNI plugin as the installer copies it, and as the image runs it.
  const version = await exec(
    join(root, 'bin/podroute-cni'),
    [],
    { CNI_COMMAND: 'VERSION' },
    '{"cniVersion":"1.0.0"}',
  );
  t.equal(version.code, 0, `CNI VERSION ${version.stderr}`);
  t.ok(JSON.parse(version.stdout).supportedVersions.includes('1.1.0'), version.stdout);
  const installed = join(root, 'host');
  const inst = await exec('/bin/sh', [join(root, 'deploy/install-cni.sh')], {
    CNI_BIN_DIR: join(installed, 'bin'),
    CNI_CONF_DIR: join(installed, 'net.d'),
    PODROUTE_HOME: root,
    REFERENCE_PLUGINS_DIR: join(root, 'no-plugins'),
  });
  t.equal(inst.code, 0, `install-cni.sh from the tree ${inst.stderr}`);
  const v2 = await exec(
    join(installed, 'bin/podroute-cni'),
    [],
    { CNI_COMMAND: 'VERSION' },
    '{"cniVersion":"1.0.0"}',
  );
  t.equal(v2.code, 0, 'the installed plugin answers VERSION');
  // The host copy does not depend on the image: the tree's dist/ removed, it still answers.
  rmSync(join(root, 'dist'), { recursive: true });
  const v3 = await exec(join(installed, 'bin/podroute-cni'), [], { CNI_COMMAND: 'VERSION' }, '');
  t.equal(v3.code, 0, 'the installed plugin runs without the image tree');
});

t.test("the build stage's sources are enough for its build", async (t) => {
  // The first stage's `COPY <src> <dest>` lines into WORKDIR /src, the repository's node_modules
  // standing in for its `npm ci` (the dev dependencies are what the build needs).
  const first = containerfile.split(/^FROM /m)[1] ?? '';
  const root = tempDir('podroute-build-stage-');
  for (const m of first.matchAll(/^COPY (?!--)(.+)$/gm)) {
    const parts = (m[1] ?? '').trim().split(/\s+/);
    const dest = parts.pop() ?? '';
    for (const src of parts) {
      const to = dest.endsWith('/') ? join(root, dest, src.split('/').pop() as string) : join(root, dest);
      mkdirSync(join(to, '..'), { recursive: true });
      cpSync(join(repo, src), to, { recursive: true, verbatimSymlinks: true });
    }
  }
  symlinkSync(join(repo, 'node_modules'), join(root, 'node_modules'));
  const build = first.match(/^RUN (npm run build)\b/m)?.[1];
  t.equal(build, 'npm run build', 'the stage builds with npm run build');
  const r = await exec('/bin/sh', ['-c', 'npm run --silent build'], { HOME: root }, undefined, root);
  t.equal(r.code, 0, `npm run build in the build stage's tree ${r.stdout}${r.stderr}`);
  t.ok(existsSync(join(root, 'dist/bundle/main.mjs')), 'the bundle bin/podroute runs');
  t.ok(existsSync(join(root, 'dist/cni/podroute-cni')), 'the CNI plugin');
  t.notOk(existsSync(join(root, 'dist/lab')), 'no lab runner: the image has no lab/');
  const help = await exec(join(root, 'bin/podroute'), ['--help']);
  t.equal(help.code, 0, `the built podroute runs ${help.stderr}`);
});
