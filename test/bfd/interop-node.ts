/**
 * A stand-alone BfdManager for interop tests, started by the test inside a lab namespace (never
 * the root namespace). Arguments: config file, status file. The config file holds
 * `{ sessions: [{ peer, localAddress, interface?, desiredMinTxMs, requiredMinRxMs, detectMult,
 * auth?: { type, keyId, key } }] }` (RFC 5880 6.7 authentication, the key a string; it is set when
 * a session is added) and is re-read every 50 ms: new sessions are added, missing ones removed, changed timers applied
 * (a Poll Sequence). Every 50 ms the status file gets `{ status, events }`, events carrying the wall
 * clock time (`wall`, ms) so the test can time a detection. SIGTERM closes the manager (AdminDown
 * to every peer) and exits 0.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { BfdManager, type BfdSessionConfig, sessionKeyString } from '../../src/bfd/index.js';
import type { BfdStateChange } from '../../src/bfd/types.js';
import { systemClock } from '../../src/lib/clock.js';
import { createLogger } from '../../src/lib/log.js';
import type { BfdNodeSession } from './interop-helpers.js';

const [cfgPath, statusPath] = process.argv.slice(2) as [string, string];
const manager = new BfdManager({ clock: systemClock, logger: createLogger('debug') });
const events: (BfdStateChange & { wall: number })[] = [];
manager.onStateChange((e) => events.push({ ...e, wall: Date.now() }));

const current = new Map<string, BfdSessionConfig>();
let lastText = '';

async function reconcile(): Promise<void> {
  let text: string;
  try {
    text = readFileSync(cfgPath, 'utf8');
  } catch {
    return;
  }
  if (text === lastText) return;
  lastText = text;
  const wanted = new Map(
    (JSON.parse(text) as { sessions: BfdNodeSession[] }).sessions.map((s): [string, BfdSessionConfig] => [
      sessionKeyString(s),
      s.auth ? { ...s, auth: { ...s.auth, key: Buffer.from(s.auth.key) } } : { ...s, auth: undefined },
    ]),
  );
  for (const [k, cfg] of current) {
    if (!wanted.has(k)) {
      current.delete(k);
      void manager.remove(cfg);
    }
  }
  for (const [k, cfg] of wanted) {
    const had = current.get(k);
    current.set(k, cfg);
    if (!had) await manager.add(cfg);
    else if (JSON.stringify(had) !== JSON.stringify(cfg)) manager.get(cfg)?.setTimers(cfg);
  }
}

function writeStatus(): void {
  const tmp = `${statusPath}.tmp`;
  writeFileSync(tmp, JSON.stringify({ status: manager.status(), events }));
  renameSync(tmp, statusPath);
}

await reconcile();
writeStatus();
let busy = false;
const tick = setInterval(() => {
  if (busy) return;
  busy = true;
  void reconcile()
    .catch((e: unknown) => process.stderr.write(`reconcile: ${(e as Error).message}\n`))
    .finally(() => {
      busy = false;
      writeStatus();
    });
}, 50);

process.on('SIGTERM', () => {
  clearInterval(tick);
  void manager.close().then(() => {
    writeStatus();
    process.exit(0);
  });
});
