/**
 * Child process for test/routes/netns.test.ts. netlink sockets belong to the network namespace of
 * the process that opens them and Node cannot setns(), so the test runs this script under
 * `ip netns exec NS` and drives a real RoutesManager (NetlinkKernel, system clock) through JSON lines:
 *
 *   stdin  {"op":"update","announced":["198.19.1.0/24"],"peers":[{"node":"n3","addresses":[...],"blocks":[...]}]}
 *          {"op":"stop","removeRoutes":true}
 *   stdout {"ok":true,"status":{...}} after each command (once the reconcile it caused has finished)
 *
 * The config comes as JSON in argv[2] (the `routes:` section).
 */
import { createInterface } from 'node:readline';
import { routesSchema } from '../../src/config/routes.js';
import { systemClock } from '../../src/lib/clock.js';
import { silentLogger } from '../../src/lib/log.js';
import { parsePrefix } from '../../src/net/prefix.js';
import { RoutesManager } from '../../src/routes/manager.js';

interface Command {
  op: 'update' | 'status' | 'stop';
  announced?: string[];
  peers?: { node: string; addresses: string[]; blocks: string[] }[];
  removeRoutes?: boolean;
}

const config = routesSchema.parse(JSON.parse(process.argv[2] ?? '{}'));
const mgr = new RoutesManager({ config, logger: silentLogger, clock: systemClock });
await mgr.start();

const reply = (v: object): void => {
  process.stdout.write(`${JSON.stringify(v)}\n`);
};
reply({ ok: true, status: mgr.status() });

for await (const line of createInterface({ input: process.stdin })) {
  if (!line.trim()) continue;
  try {
    const cmd = JSON.parse(line) as Command;
    if (cmd.op === 'update') {
      mgr.update({
        announced: (cmd.announced ?? []).map((p) => parsePrefix(p)),
        peers: (cmd.peers ?? []).map((p) => ({ ...p, blocks: p.blocks.map((b) => parsePrefix(b)) })),
      });
      await mgr.idle();
    } else if (cmd.op === 'stop') {
      await mgr.stop({ removeRoutes: cmd.removeRoutes ?? false });
      reply({ ok: true, status: mgr.status() });
      break;
    }
    reply({ ok: true, status: mgr.status() });
  } catch (e) {
    reply({ ok: false, error: (e as Error).message });
  }
}
process.exit(0);
