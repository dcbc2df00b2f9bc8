/** `podroute-cni`: the CNI IPAM plugin executable (the runtime finds it by `ipam.type` in CNI_PATH). */
import { readFileSync } from 'node:fs';
import { callApi } from '../api/client.js';
import { runPlugin } from './plugin.js';

let stdin = '';
try {
  stdin = readFileSync(0, 'utf8');
} catch {}
const out = await runPlugin({
  env: process.env,
  stdin,
  call: (socket, path, body) => callApi(socket, body === undefined ? 'GET' : 'POST', path, body, 10_000),
});
if (out.stdout) process.stdout.write(`${out.stdout}\n`);
process.exitCode = out.exitCode;
