/**
 * Mutation fuzzing of the BGP codecs (test/bgp/message/mutation-fuzzer.ts): for each message type
 * (OPEN, capabilities, UPDATE core attributes, communities, MP_REACH/MP_UNREACH, NOTIFICATION,
 * KEEPALIVE, ROUTE-REFRESH) `--inputs` mutated messages (default 1,000,000) from seed `--seed`.
 * Prints per type the inputs, how many decoded or threw BgpDecodeError, the crashes (any other
 * exception, with samples), the slowest input (hang check) and the total time. Exits 1 on a crash.
 *   npx tsx bench/fuzz-bgp.ts [--inputs N] [--seed S] [--type NAME]
 */
import { cpus } from 'node:os';
import { corpus, fuzzType } from '../test/bgp/message/mutation-fuzzer.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

const inputs = Number(arg('inputs', '1000000'));
const seed = Number(arg('seed', '20261201'));
const only = arg('type', '');
const c = corpus();
console.log(
  `fuzz-bgp: ${inputs} inputs per type, seed ${seed}, node ${process.version}, ${cpus()[0]?.model ?? '?'} x${cpus().length}`,
);
let crashes = 0;
const started = performance.now();
for (const [i, type] of Object.keys(c.types).entries()) {
  if (only && type !== only) continue;
  const r = fuzzType(c, type, inputs, seed + i);
  crashes += r.crashes;
  console.log(
    `${type.padEnd(13)} seeds ${String(c.types[type]!.length).padStart(2)}  inputs ${r.inputs}  decoded ${r.decoded}  ` +
      `BgpDecodeError ${r.decodeErrors}  other throws ${r.crashes}  max ${r.maxMs.toFixed(2)} ms  ` +
      `total ${(r.totalMs / 1000).toFixed(1)} s`,
  );
  for (const s of r.crashSamples) console.log(`  CRASH ${s.error}\n    input ${s.hex}`);
  if (r.maxMs > 100) console.log(`  slowest input ${r.maxHex.slice(0, 200)}`);
}
console.log(`total ${((performance.now() - started) / 1000).toFixed(1)} s, other throws ${crashes}`);
process.exitCode = crashes > 0 ? 1 : 0;
