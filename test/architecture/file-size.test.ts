/**
 * One concept per file, kept short enough to read in one sitting: a file of src/ over LIMIT lines
 * must say in its header comment why it is not split, with a sentence that starts "Longer than
 * most files" (e.g. src/ospf/neighbor.ts: its state machine and the lists it rebuilds share
 * private state). A file that grows past the limit without one fails here.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** "About 400 lines", with a little room so a one-line fix does not force a split. */
const LIMIT = 420;

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...walk(path));
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** The leading block comment of a file, or '' when it has none. */
export function headerOf(text: string): string {
  const m = /^\s*\/\*\*?([\s\S]*?)\*\//.exec(text);
  return m ? m[1]! : '';
}

export function explainsLength(text: string): boolean {
  return /Longer than most files/i.test(headerOf(text).replace(/\s*\n\s*\*\s*/g, ' '));
}

t.test('the header check reads only the leading comment', async (t) => {
  t.ok(explainsLength('/**\n * A job.\n * Longer than most files on purpose: ...\n */\ncode'));
  t.notOk(explainsLength('/** A job. */\n// Longer than most files\ncode'), 'a later comment does not count');
  t.notOk(explainsLength('code\n/** Longer than most files */'), 'nor a comment after code');
});

t.test(`no file in src/ over ${LIMIT} lines without a header that says why`, async (t) => {
  const long = walk(join(ROOT, 'src'))
    .map((path) => ({ path, text: readFileSync(path, 'utf8') }))
    .map(({ path, text }) => ({ file: relative(ROOT, path), lines: text.split('\n').length, text }))
    .filter((f) => f.lines > LIMIT && !explainsLength(f.text))
    .map((f) => `${f.file}: ${f.lines} lines`);
  t.same(long, [], 'split these, or say in the header why not ("Longer than most files ...")');
});
