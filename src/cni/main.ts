/**
 * `podroute-cni`: the CNI IPAM plugin executable (the runtime finds it by `ipam.type` in CNI_PATH;
 * CNI SPEC.md "Section 3: Execution Protocol"). It is run once per ADD, DEL, CHECK, GC, STATUS
 * and VERSION, so its start-up is on every pod's critical path: `npm run build` bundles this file
 * with what it imports into one CommonJS file (dist/cni/podroute-cni.cjs, which bin/podroute-cni
 * runs), and it loads nothing it does not use. Output goes through `writeSync(1)` because
 * `process.stdout` on a pipe builds a stream (and loads its modules) the plugin does not need.
 * No top-level await: the bundle is CommonJS, which Node loads faster than an ES module.
 */
import { readFileSync, writeSync } from 'node:fs';
import { runPlugin } from './plugin.js';
import { request } from './transport.js';

let stdin = '';
try {
  stdin = readFileSync(0, 'utf8');
} catch {}
void runPlugin({
  env: process.env,
  stdin,
  call: (socket, path, body) => request(socket, path, body, 10_000),
}).then((out) => {
  if (out.stdout) writeSync(1, `${out.stdout}\n`);
  process.exitCode = out.exitCode;
});
