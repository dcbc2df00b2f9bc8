/** Running BFD test children inside lab namespaces (never the root namespace). */
import { join } from 'node:path';
import { type ExecResult, type ManagedProcess, type Namespace, REPO_ROOT } from '../../lab/fixture/index.js';

const CHILD = join(REPO_ROOT, 'test/bfd/socket-child.ts');

/** `sh -c 'cd REPO && exec node --import tsx SCRIPT ARGS'`: tsx resolves from the repository. */
function nodeCmd(script: string, args: readonly string[]): string[] {
  return ['-c', `cd ${REPO_ROOT} && exec "$@"`, 'sh', process.execPath, '--import', 'tsx', script, ...args];
}

/** Runs socket-child.ts to completion inside `ns`. */
export function runChild(ns: Namespace, args: readonly string[], allowFail = false): Promise<ExecResult> {
  return ns.exec('sh', nodeCmd(CHILD, args), { timeoutMs: 30_000, allowFail });
}

/** Starts a long-running test child (`socket-child.ts listen …`, `interop-node.ts …`) inside `ns`. */
export function spawnChild(
  ns: Namespace,
  name: string,
  script: string,
  args: readonly string[],
): ManagedProcess {
  return ns.spawn(name, 'sh', nodeCmd(join(REPO_ROOT, script), args));
}

/** The JSON lines a child printed so far (other lines skipped). */
export function jsonLines<T = Record<string, unknown>>(text: string): T[] {
  const out: T[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line) as T);
    } catch {
      // a partial line while the child is writing
    }
  }
  return out;
}
