/**
 * Helpers for the routes namespace tests: the driver child (netns-driver.ts) running a real
 * RoutesManager inside a lab namespace, and `ip -j` readers that turn kernel state into short lines.
 */
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { Namespace } from '../../lab/fixture/namespace.js';
import type { RoutesStatus } from '../../src/routes/manager.js';

const driverPath = fileURLToPath(new URL('./netns-driver.ts', import.meta.url));

type DriverProcess = ChildProcessByStdio<Writable, Readable, null>;

/** A RoutesManager in a child process under `ip netns exec`; one JSON line per command and reply. */
export class Driver {
  private readonly lines: AsyncIterator<string>;
  private constructor(readonly child: DriverProcess) {
    this.lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  }

  /** Starts the driver with this `routes:` config; resolves with the status after the first run. */
  static async start(ns: Namespace, config: object): Promise<{ driver: Driver; status: RoutesStatus }> {
    const child = spawn(
      'ip',
      ['netns', 'exec', ns.name, process.execPath, '--import', 'tsx', driverPath, JSON.stringify(config)],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    const driver = new Driver(child);
    try {
      return { driver, status: await driver.next() };
    } catch (e) {
      driver.kill();
      throw e;
    }
  }

  async next(): Promise<RoutesStatus> {
    const r = await this.lines.next();
    if (r.done) throw new Error('driver exited');
    const msg = JSON.parse(r.value) as { ok: boolean; status?: RoutesStatus; error?: string };
    if (!msg.ok || !msg.status) throw new Error(`driver: ${msg.error}`);
    return msg.status;
  }

  send(cmd: object): Promise<RoutesStatus> {
    this.child.stdin.write(`${JSON.stringify(cmd)}\n`);
    return this.next();
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

interface IpRoute {
  dst: string;
  type?: string;
  gateway?: string;
  dev?: string;
  protocol?: string;
  flags?: string[];
  nexthops?: { gateway: string; dev: string }[];
}

function describe(x: IpRoute): string {
  if (x.nexthops) return x.nexthops.map((h) => `via ${h.gateway} dev ${h.dev}`).join(' ');
  if (x.type && x.type !== 'unicast') return x.type;
  return x.gateway ? `via ${x.gateway} dev ${x.dev}` : `dev ${x.dev}`;
}

/** `ip -j route show table N` for both families, as sorted "dst what proto P" lines. */
export async function tableLines(ns: Namespace, table: number): Promise<string[]> {
  const out: string[] = [];
  for (const f of ['-4', '-6']) {
    const r = await ns.ip(['-j', f, 'route', 'show', 'table', String(table)], { allowFail: true });
    // A table nothing was ever put in does not exist for that family: empty, not an error.
    if (r.code !== 0) {
      if (/FIB table does not exist/.test(r.stderr)) continue;
      throw new Error(`ip route show table ${table}: ${r.stderr.trim()}`);
    }
    for (const x of JSON.parse(r.stdout.trim() || '[]') as IpRoute[]) {
      out.push(`${x.dst} ${describe(x)} proto ${x.protocol}`);
    }
  }
  return out.sort();
}

/** The kernel's forwarding decision: `ip -j route get DST [from SRC iif DEV]` as "via G dev D" / "dev D". */
export async function routeGet(
  ns: Namespace,
  dst: string,
  from?: { src: string; iif: string },
): Promise<string> {
  const args = ['-j', 'route', 'get', dst, ...(from ? ['from', from.src, 'iif', from.iif] : [])];
  const r = await ns.ip(args);
  const [x] = JSON.parse(r.stdout) as IpRoute[];
  if (!x) throw new Error(`no answer from ip route get ${dst}`);
  return describe({ ...x, type: x.type === 'unicast' ? undefined : x.type });
}

/** `ip -j rule show` for both families, as "pref from SRC lookup T proto P" lines, ours and others. */
export async function ruleLines(ns: Namespace): Promise<string[]> {
  const out: string[] = [];
  for (const f of ['-4', '-6']) {
    const r = await ns.ip(['-j', f, 'rule', 'show']);
    const rules = JSON.parse(r.stdout.trim() || '[]') as {
      priority: number;
      src: string;
      srclen?: number;
      table: string;
      protocol?: string;
    }[];
    for (const x of rules) {
      const src = x.src === 'all' ? 'all' : `${x.src}/${x.srclen}`;
      out.push(`${x.priority} from ${src} lookup ${x.table}${x.protocol ? ` proto ${x.protocol}` : ''}`);
    }
  }
  return out;
}
