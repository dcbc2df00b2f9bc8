/** Shared by the interop tests: our speaker as a child process inside a lab namespace. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Lab, type ManagedProcess, type Namespace, REPO_ROOT } from '../../lab/fixture/index.js';

export interface NodeStatus {
  status: {
    interfaces: {
      state: string;
      dr: string;
      neighbors: { routerId: string; state: string; ddRole: string | null }[];
    }[];
    dropped: Record<string, number>;
  };
  database: { type: number; advRouter: string; detail: string; self: boolean }[];
}

export interface NodeSpeaker {
  proc: ManagedProcess;
  read(): NodeStatus | undefined;
  setDesired(prefixes: string[]): void;
}

export function startNodeSpeaker(
  lab: Lab,
  ns: Namespace,
  routerId: string,
  ospf: Record<string, unknown>,
  desired: string[],
): NodeSpeaker {
  const cfg = lab.writeFile(`ospf-${ns.shortName}.json`, JSON.stringify({ routerId, ospf }));
  const statusPath = join(lab.tmpDir, `ospf-${ns.shortName}-status.json`);
  const desiredPath = join(lab.tmpDir, `ospf-${ns.shortName}-desired.json`);
  writeFileSync(desiredPath, JSON.stringify(desired));
  const runner = join(REPO_ROOT, 'test/ospf/interop-node.ts');
  const proc = ns.spawn('ospf', 'sh', [
    '-c',
    `cd ${REPO_ROOT} && exec ${process.execPath} --import tsx ${runner} ${cfg} ${statusPath} ${desiredPath}`,
  ]);
  return {
    proc,
    read() {
      try {
        return JSON.parse(readFileSync(statusPath, 'utf8')) as NodeStatus;
      } catch {
        return undefined;
      }
    },
    setDesired(prefixes) {
      writeFileSync(desiredPath, JSON.stringify(prefixes));
    },
  };
}

/**
 * Drops a healthy adjacency may show: a newer instance within MinLSArrival (RFC 2328 13 (5)(a):
 * FRR re-originates twice around Full) and an ack for an instance we already replaced (13.7).
 */
export const BENIGN_DROPS = ['lsa-min-ls-arrival', 'ack-other-instance'];
