/**
 * The OSPF speaker alone, for the speaker-level interop suites (ospf-speaker-*.test.ts), started
 * by the test inside a lab namespace (never in the root namespace). Arguments: config JSON file,
 * status file, desired-prefixes file.
 * Writes `{status, database}` to the status file every 100 ms; re-reads the desired file (JSON array
 * of prefixes) when it changes; SIGTERM drains (stop({drain: true})) and exits 0.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { ospfSchema } from '../../src/config/ospf.js';
import { systemClock } from '../../src/lib/clock.js';
import { createLogger } from '../../src/lib/log.js';
import { parsePrefix } from '../../src/net/prefix.js';
import { OspfSpeaker } from '../../src/ospf/speaker.js';

const [cfgPath, statusPath, desiredPath] = process.argv.slice(2) as [string, string, string];
const raw = JSON.parse(readFileSync(cfgPath, 'utf8')) as { routerId: string; ospf: unknown };
const speaker = new OspfSpeaker({
  routerId: raw.routerId,
  config: ospfSchema.parse(raw.ospf),
  clock: systemClock,
  logger: createLogger('debug'),
});

let lastDesired = '';
function readDesired(): void {
  let text = '[]';
  try {
    text = readFileSync(desiredPath, 'utf8');
  } catch {
    // no file yet: nothing announced
  }
  if (text === lastDesired) return;
  lastDesired = text;
  speaker.setDesired((JSON.parse(text) as string[]).map((p) => parsePrefix(p)));
}

function writeStatus(): void {
  const tmp = `${statusPath}.tmp`;
  writeFileSync(tmp, JSON.stringify({ status: speaker.status(), database: speaker.database() }));
  renameSync(tmp, statusPath);
}

await speaker.start();
readDesired();
const tick = setInterval(() => {
  readDesired();
  writeStatus();
}, 100);

process.on('SIGTERM', () => {
  const t0 = performance.now();
  void speaker.stop({ drain: true }).then(() => {
    clearInterval(tick);
    writeStatus();
    process.stdout.write(`${JSON.stringify({ msg: 'drained', ms: Math.round(performance.now() - t0) })}\n`);
    process.exit(0);
  });
});
