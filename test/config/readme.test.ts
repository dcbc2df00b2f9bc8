/** The README's configuration examples stay valid: each ```yaml block must load as a whole config. */
import { readFileSync } from 'node:fs';
import t from 'tap';
import { parseConfig } from '../../src/config/index.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const blocks = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);

t.ok(blocks.length >= 2, 'README has configuration examples');
blocks.forEach((yaml, i) => {
  t.doesNotThrow(() => parseConfig(yaml), `README yaml block ${i + 1} is a valid configuration`);
});
