/**
 * The Kubernetes client loads only when the node's identity comes from the API: importing the
 * daemon (and the CLI that starts it) resolves nothing of @kubernetes/client-node; opening the
 * API does. Watched with a module resolve hook in a separate Node process, on the built dist/.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { tempDir } from '../../lab/fixture/temp-dir.js';

const repo = new URL('../..', import.meta.url).pathname;
const dir = tempDir('podroute-lazy-');
const hooks = join(dir, 'hooks.mjs');
writeFileSync(
  hooks,
  `export async function resolve(spec, ctx, next) {
  const r = await next(spec, ctx);
  if (r.url.includes('@kubernetes/client-node')) console.log('LOADED ' + r.url);
  return r;
}\n`,
);
const register = join(dir, 'register.mjs');
writeFileSync(
  register,
  `import { register } from 'node:module';\nregister(${JSON.stringify(`file://${hooks}`)});\n`,
);

function loads(code: string): boolean {
  const r = spawnSync(process.execPath, ['--import', register, '--input-type=module', '-e', code], {
    cwd: repo,
    env: { PATH: process.env.PATH },
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`node failed: ${r.stderr}`);
  return r.stdout.includes('LOADED');
}

t.test('the daemon does not load the Kubernetes client until it is needed', async (t) => {
  t.equal(
    loads(`await import('./dist/daemon/daemon.js'); await import('./dist/daemon/kubernetes.js');`),
    false,
    'daemon import: not loaded',
  );
  t.equal(
    loads(
      `const { openNodeApi } = await import('./dist/k8s/client.js'); await openNodeApi({ env: {}, kubeconfig: ${JSON.stringify(join(dir, 'none'))} }).catch(() => {});`,
    ),
    true,
    'opening the API: loaded',
  );
});
