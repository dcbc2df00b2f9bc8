/**
 * The local Kubernetes API stand-in (api-server.ts; follows the API conventions, not a real API
 * server) as a program, for tests that need it inside a lab network namespace next to a podroute
 * daemon: `node --import tsx test/k8s/api-server-main.ts PORT NODES.json [TOKEN]` listens on
 * 127.0.0.1:PORT of the namespace it runs in and serves the Nodes in NODES.json (an array). The
 * file is re-read when it changes, each Node that differs written as the API server would (a new
 * resourceVersion, a watch event), so a test edits the file to change a Node.
 */
import { readFileSync, watchFile } from 'node:fs';
import type { V1Node } from '@kubernetes/client-node';
import { FakeKubeApi } from './api-server.js';

const [portText, file, token] = process.argv.slice(2);
if (!portText || !file) {
  process.stderr.write('usage: api-server-main.ts PORT NODES.json [TOKEN]\n');
  process.exit(2);
}
const api = new FakeKubeApi();
api.token = token;
const last = new Map<string, string>();
function load(): void {
  let nodes: V1Node[];
  try {
    nodes = JSON.parse(readFileSync(file as string, 'utf8')) as V1Node[];
  } catch {
    return; // half-written: the next change brings the whole file
  }
  for (const n of nodes) {
    const text = JSON.stringify(n);
    const name = n.metadata?.name ?? '';
    if (last.get(name) === text) continue;
    last.set(name, text);
    api.put(n);
    process.stdout.write(`put ${name} resourceVersion ${api.resourceVersion}\n`);
  }
}
load();
watchFile(file, { interval: 50 }, load);
await api.listen(Number(portText));
process.stdout.write(`listening on ${api.url}\n`);
process.on('SIGTERM', () => void api.close().then(() => process.exit(0)));
