/** The podroute BFD side of the interop tests: interop-node.ts in a lab namespace, read back. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Lab, type ManagedProcess, type Namespace, waitFor } from '../../lab/fixture/index.js';
import type { BfdManagerStatus, BfdSessionConfig } from '../../src/bfd/index.js';
import type { BfdSessionStatus, BfdStateChange } from '../../src/bfd/types.js';
import { spawnChild } from './helpers.js';

/** A session of the child's config file: the key as a string, since the file is JSON. */
export type BfdNodeSession = Omit<BfdSessionConfig, 'auth'> & {
  auth?: { type: number; keyId: number; key: string };
};

export interface BfdNode {
  proc: ManagedProcess;
  read(): { status: BfdManagerStatus; events: (BfdStateChange & { wall: number })[] } | undefined;
  session(peer: string): BfdSessionStatus | undefined;
  setSessions(sessions: BfdNodeSession[]): void;
  waitState(peer: string, state: string, timeoutMs?: number): Promise<BfdSessionStatus>;
}

export function startBfdNode(lab: Lab, ns: Namespace, sessions: BfdNodeSession[]): BfdNode {
  const cfg = join(lab.tmpDir, `bfd-${ns.shortName}.json`);
  const statusPath = join(lab.tmpDir, `bfd-${ns.shortName}-status.json`);
  writeFileSync(cfg, JSON.stringify({ sessions }));
  const proc = spawnChild(ns, 'bfd', 'test/bfd/interop-node.ts', [cfg, statusPath]);
  const node: BfdNode = {
    proc,
    read() {
      try {
        return JSON.parse(readFileSync(statusPath, 'utf8')) as ReturnType<BfdNode['read']>;
      } catch {
        return undefined;
      }
    },
    session(peer) {
      return node.read()?.status.sessions.find((s) => s.peer === peer);
    },
    setSessions(next) {
      writeFileSync(cfg, JSON.stringify({ sessions: next }));
    },
    async waitState(peer, state, timeoutMs = 15_000) {
      return waitFor(
        () => {
          const s = node.session(peer);
          return s?.state === state ? s : undefined;
        },
        {
          timeoutMs,
          intervalMs: 20,
          what: `podroute BFD session to ${peer} ${state}`,
          giveUp: () => (proc.running ? undefined : `BFD node exited:\n${proc.tail(20)}`),
        },
      );
    },
  };
  return node;
}

export const FAST_TIMERS = { desiredMinTxMs: 100, requiredMinRxMs: 100, detectMult: 3 };

/** iptables rules that drop everything on `ifname` both ways (IPv4 and IPv6): a silent link failure. */
export async function blackhole(ns: Namespace, ifname: string, on: boolean): Promise<void> {
  const op = on ? '-I' : '-D';
  for (const cmd of ['iptables', 'ip6tables']) {
    await ns.exec(cmd, [op, 'INPUT', '-i', ifname, '-j', 'DROP']);
    await ns.exec(cmd, [op, 'OUTPUT', '-o', ifname, '-j', 'DROP']);
  }
}
