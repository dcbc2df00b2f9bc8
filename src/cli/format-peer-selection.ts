/**
 * `podroute status` table of per-node peer selection: which `bgp.peers` entries of the
 * cluster-wide configuration apply to this node, and why (config/peer-selection.ts).
 */
import type { PeerSelectionEntry } from '../config/peer-selection.js';

export function formatPeerSelection(
  selection: readonly PeerSelectionEntry[] | undefined,
  table: (rows: readonly (readonly string[])[]) => string,
): string[] {
  if (!selection || selection.length === 0) return [];
  const rows = [['Entry', 'Address', 'Applied', 'Reason']];
  for (const s of selection) {
    const address = s.resolved ? `${s.address} -> ${s.resolved.join(', ') || '(none)'}` : s.address;
    rows.push([String(s.entry), address, s.applied ? 'yes' : 'no', s.reason]);
  }
  const out = ['', 'Peer selection (bgp.peers)', table(rows)];
  if (!selection.some((s) => s.applied)) out.push('No peer entry applies to this node: no BGP sessions.');
  return out;
}
