/**
 * The configuration examples of the README and of docs/configuration.md stay valid: each ```yaml
 * block must load as a whole config.
 */
import { readFileSync } from 'node:fs';
import t from 'tap';
import { parseConfig } from '../../src/config/index.js';

function yamlBlocks(path: string): string[] {
  const text = readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');
  return [...text.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

for (const [path, atLeast] of [
  ['README.md', 2],
  ['docs/configuration.md', 5],
] as const) {
  const blocks = yamlBlocks(path);
  t.ok(blocks.length >= atLeast, `${path} has at least ${atLeast} configuration examples`);
  blocks.forEach((yaml, i) => {
    t.doesNotThrow(() => parseConfig(yaml), `${path} yaml block ${i + 1} is a valid configuration`);
  });
}
