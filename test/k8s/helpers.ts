/** Shared by the Kubernetes tests: a logger that keeps its records, a kubeconfig on disk, polling. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../lab/fixture/temp-dir.js';
import type { Logger } from '../../src/lib/log.js';
import { kubeconfigYaml } from './api-server.js';

export interface LogRecord {
  level: string;
  msg: string;
  obj: Record<string, unknown>;
}

export function recordingLogger(records: LogRecord[] = []): Logger & { records: LogRecord[] } {
  const make = (bindings: Record<string, unknown>): Logger => {
    const at =
      (level: string) =>
      (obj: object, msg = ''): void => {
        records.push({ level, msg, obj: { ...bindings, ...obj } });
      };
    return {
      debug: at('debug'),
      info: at('info'),
      warn: at('warn'),
      error: at('error'),
      child: (b) => make({ ...bindings, ...b }),
    };
  };
  return Object.assign(make({}), { records });
}

export function writeKubeconfig(server: string, token = 'test-token'): string {
  const dir = tempDir('podroute-kube-');
  const file = join(dir, 'kubeconfig');
  writeFileSync(file, kubeconfigYaml(server, token));
  return file;
}

/** Polls `cond` every 10 ms; throws with `what` after `ms`. */
export async function waitFor<T>(cond: () => T | undefined | false, what: string, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = cond();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
