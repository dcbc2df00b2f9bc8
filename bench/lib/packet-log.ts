/**
 * A line-buffered tcpdump of BGP segments sent by one address, with kernel capture timestamps, so a
 * benchmark can split a delay into "the speaker sent it" and "the receiver acted on it".
 */
import { type ChildProcess, spawn } from 'node:child_process';
import type { Lab, Namespace } from '../../lab/fixture/index.js';

export interface Segment {
  /** Wall-clock ms (epoch) of the capture. */
  at: number;
  /** TCP payload bytes (0 for SYN/ACK/FIN). */
  length: number;
  flags: string;
}

export class PacketLog {
  readonly segments: Segment[] = [];
  private readonly child: ChildProcess;
  private buf = '';

  private constructor(ns: Namespace, ifname: string, src: string) {
    this.child = spawn(
      'ip',
      [
        'netns',
        'exec',
        ns.name,
        'tcpdump',
        '-i',
        ifname,
        '--immediate-mode',
        '-l',
        '-n',
        '-tt',
        `tcp port 179 and src host ${src}`,
      ],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    );
    this.child.stdout!.setEncoding('utf8');
    this.child.stdout!.on('data', (c: string) => {
      this.buf += c;
      const lines = this.buf.split('\n');
      this.buf = lines.pop()!;
      for (const l of lines) {
        // 1764100000.123456 IP 198.18.0.1.41234 > 198.18.0.0.179: Flags [P.], seq 1:20, ack 1, ..., length 19: BGP
        const m = /^(\d+\.\d+) IP .*Flags \[([^\]]*)\].* length (\d+)/.exec(l);
        if (m) this.segments.push({ at: Number(m[1]) * 1000, flags: m[2]!, length: Number(m[3]) });
      }
    });
  }

  static async start(lab: Lab, ns: Namespace, ifname: string, src: string): Promise<PacketLog> {
    const p = new PacketLog(ns, ifname, src);
    lab.onDestroy(() => p.stop());
    await new Promise((r) => setTimeout(r, 500));
    return p;
  }

  /** The first segment at or after `after` matching `pred`. */
  first(after: number, pred: (s: Segment) => boolean): Segment | undefined {
    return this.segments.find((s) => s.at >= after && pred(s));
  }

  stop(): void {
    if (this.child.exitCode === null) this.child.kill('SIGTERM');
  }
}
