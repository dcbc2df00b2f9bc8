/**
 * Readiness for the DaemonSet's probe (`/readyz` on the metrics port): the node is ready once
 * every configured BGP session has been Established at least once, and IPAM holds a block (or
 * IPAM is not configured; with `ipam.mode: kubernetes`, once the Node has pod CIDRs). A session
 * going down later does not make the pod unready: restarting podroute would not bring the peer
 * back, and an unready pod only stalls the rolling update. Liveness is `/healthz` (the event loop
 * answers).
 */
import type { StatusJson } from '../api/status.js';

export interface ReadinessReport {
  ready: boolean;
  /** What is still missing, in words (empty when ready). */
  waiting: string[];
}

export interface ReadinessInputs {
  status: () => StatusJson;
  /** undefined: IPAM not configured; else whether this node holds at least one block (or pod CIDR). */
  holdsBlock: () => boolean | undefined;
}

export class Readiness {
  /** Peers seen Established at least once. */
  private readonly established = new Set<string>();

  constructor(private readonly inputs: ReadinessInputs) {}

  /** Remembers sessions that are Established now (called on each check and by the daemon). */
  observe(doc: StatusJson = this.inputs.status()): void {
    for (const p of doc.bgp?.peers ?? []) if (p.state === 'Established') this.established.add(p.address);
  }

  check(): ReadinessReport {
    const doc = this.inputs.status();
    this.observe(doc);
    const waiting: string[] = [];
    for (const p of doc.bgp?.peers ?? []) {
      if (!this.established.has(p.address)) {
        waiting.push(`BGP peer ${p.address} has not been Established yet (now ${p.state})`);
      }
    }
    if (this.inputs.holdsBlock() === false) waiting.push('IPAM holds no block yet');
    return { ready: waiting.length === 0, waiting };
  }
}
