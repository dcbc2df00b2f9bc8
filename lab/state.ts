/**
 * Where a running lab is written down, so that every `podroute lab` command (a separate process each
 * time) finds it again: `/run/podroute-lab/<name>.json` is the fixture's state (namespaces, pids,
 * dirs) with the runner's node and pod list in `meta`; `<name>.chaos.json` lists the failures
 * `lab fail` injected and `lab heal` has not undone; `<name>.log` is the background runner's output.
 */
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { LabState } from './fixture/index.js';
import type { PodMeta } from './pods.js';
import type { NodeMeta } from './topology.js';

export const STATE_DIR = '/run/podroute-lab';

export const stateFile = (name: string): string => join(STATE_DIR, `${name}.json`);
export const chaosFile = (name: string): string => join(STATE_DIR, `${name}.chaos.json`);
export const logFile = (name: string): string => join(STATE_DIR, `${name}.log`);

/** The runner's part of the state file's `meta`. */
export interface RunnerMeta {
  topology?: string;
  name?: string;
  nodes?: NodeMeta[];
  pods?: PodMeta[];
  /** Set once `up` has finished building (pods created, sessions waited for). */
  ready?: boolean;
}

export function pidAlive(pid: number): boolean {
  // A zombie still answers kill(pid, 0); it is dead for our purposes.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** A lab name from a name or a topology file path. */
export function labName(arg: string): string {
  if (!arg.endsWith('.yml') && !arg.endsWith('.yaml')) return arg;
  // Only the name: reading the whole topology (and the daemon's config schema with it) would cost
  // every command that takes a file most of its start-up time.
  const doc = parseYaml(readFileSync(arg, 'utf8')) as { name?: unknown } | null;
  if (typeof doc?.name !== 'string') throw new LabNotFound(`${arg}: no lab name (key "name")`);
  return doc.name;
}

export function readState(name: string): LabState | undefined {
  const file = stateFile(name);
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as LabState;
  } catch {
    // The fixture renames a complete file into place, so this is a file someone else broke.
    return undefined;
  }
}

export function metaOf(state: LabState): RunnerMeta {
  return state.meta as RunnerMeta;
}

/** Names of every lab with a state file. */
export function allLabs(): string[] {
  if (!existsSync(STATE_DIR)) return [];
  return readdirSync(STATE_DIR)
    .filter((f) => f.endsWith('.json') && !f.endsWith('.chaos.json'))
    .map((f) => f.slice(0, -5));
}

export function labNames(arg: string | undefined): string[] {
  return arg ? [labName(arg)] : allLabs();
}

export class LabNotFound extends Error {}

/**
 * The one lab a command is about: the one named, or the only one up. Throws `LabNotFound` with the
 * line to print when there is none or more than one.
 */
export function theLab(arg: string | undefined): { name: string; state: LabState } {
  const names = labNames(arg);
  if (names.length === 0) throw new LabNotFound(arg ? `no lab named ${arg} is up` : 'no lab is up');
  if (names.length > 1)
    throw new LabNotFound(`${names.length} labs are up (${names.join(', ')}): name the one you mean`);
  const name = names[0]!;
  const state = readState(name);
  if (!state) throw new LabNotFound(`no lab named ${name} is up`);
  return { name, state };
}

/** One failure `lab fail` injected, with what `lab heal` needs to undo it. */
export type Fault =
  | {
      kind: 'link';
      /** `node:ifname` of both ends. */
      a: string;
      b: string;
      silent: boolean;
    }
  | { kind: 'podroute'; node: string; configPath: string }
  | { kind: 'frr'; node: string; argv: string[][] };

export function readFaults(name: string): Fault[] {
  try {
    return JSON.parse(readFileSync(chaosFile(name), 'utf8')) as Fault[];
  } catch {
    return [];
  }
}

export function writeFaults(name: string, faults: readonly Fault[]): void {
  if (faults.length === 0) rmSync(chaosFile(name), { force: true });
  else writeFileSync(chaosFile(name), `${JSON.stringify(faults, null, 2)}\n`);
}

/** Removes every file the runner keeps for lab `name`. */
export function removeStateFiles(name: string, opts: { keepLog?: boolean } = {}): void {
  for (const f of [stateFile(name), chaosFile(name), ...(opts.keepLog ? [] : [logFile(name)])])
    rmSync(f, { force: true });
  // The temp file of a state write the runner was killed in (see the fixture's persist()).
  const tmpPrefix = `${name}.json.`;
  if (!existsSync(STATE_DIR)) return;
  for (const f of readdirSync(STATE_DIR))
    if (f.startsWith(tmpPrefix) && f.endsWith('.tmp')) rmSync(join(STATE_DIR, f), { force: true });
}
