/**
 * Watches a namespace's kernel routing table with `ip -ts monitor route` and keeps every add/delete
 * of the watched prefixes with the kernel-side timestamp iproute2 prints (microseconds, local time),
 * so the benchmark measures when the route really entered or left the table, not when a poller
 * happened to look.
 */

import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import type { Lab, Namespace } from '../../lab/fixture/index.js';

export interface RouteEvent {
  kind: 'add' | 'del';
  dst: string;
  /** Wall-clock milliseconds (epoch) from iproute2's `-ts` stamp. */
  at: number;
  line: string;
}

type Waiter = { kind: 'add' | 'del'; dst: string; after: number; resolve: (e: RouteEvent) => void };

/** Wall clock with sub-millisecond resolution, comparable with the `-ts` stamps. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** `[2026-11-25T19:40:49.498332] ...`: iproute2 prints local time; `new Date()` reads it the same way. */
function parseStamp(line: string): { at: number; rest: string } | undefined {
  const m = /^\[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d{6})\] (.*)$/.exec(line);
  if (!m) return undefined;
  return { at: new Date(m[1]!).getTime() + Number(m[2]) / 1000, rest: m[3]! };
}

export class RouteMonitor {
  readonly events: RouteEvent[] = [];
  private readonly child: ChildProcess;
  private readonly waiters: Waiter[] = [];
  private buf = '';

  private constructor(ns: Namespace) {
    // `ip monitor` flushes after every message, so lines arrive as the kernel reports them.
    this.child = spawn('ip', ['netns', 'exec', ns.name, 'ip', '-ts', '-4', 'monitor', 'route'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    this.child.stdout!.setEncoding('utf8');
    this.child.stdout!.on('data', (chunk: string) => this.onData(chunk));
  }

  /** Starts the monitor and gives it a moment to subscribe before anything is measured. */
  static async start(lab: Lab, ns: Namespace): Promise<RouteMonitor> {
    const m = new RouteMonitor(ns);
    lab.onDestroy(() => m.stop());
    await new Promise((r) => setTimeout(r, 300));
    return m;
  }

  private onData(chunk: string): void {
    this.buf += chunk;
    let nl = this.buf.indexOf('\n');
    while (nl >= 0) {
      const line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + 1);
      nl = this.buf.indexOf('\n');
      const s = parseStamp(line);
      if (!s) continue;
      const del = s.rest.startsWith('Deleted ');
      const body = del ? s.rest.slice(8) : s.rest;
      const dst = body.split(' ')[0]!;
      const e: RouteEvent = { kind: del ? 'del' : 'add', dst, at: s.at, line };
      this.events.push(e);
      for (let i = this.waiters.length - 1; i >= 0; i--) {
        const w = this.waiters[i]!;
        if (w.kind === e.kind && w.dst === e.dst && e.at >= w.after) {
          this.waiters.splice(i, 1);
          w.resolve(e);
        }
      }
    }
  }

  /** The first `kind` event for `dst` stamped at or after `after` (already seen, or the next one). */
  wait(kind: 'add' | 'del', dst: string, after: number, timeoutMs: number): Promise<RouteEvent> {
    const seen = this.events.find((e) => e.kind === kind && e.dst === dst && e.at >= after);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const w: Waiter = {
        kind,
        dst,
        after,
        resolve: (e) => {
          clearTimeout(timer);
          resolve(e);
        },
      };
      const timer = setTimeout(() => {
        const i = this.waiters.indexOf(w);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new Error(`no route ${kind} of ${dst} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  stop(): void {
    if (this.child.exitCode === null) this.child.kill('SIGTERM');
  }
}
