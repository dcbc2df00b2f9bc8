/**
 * The people's view of the status document, in the manner of `birdc show protocols`,
 * `gobgp neighbor` and `show ip ospf neighbor`: fixed columns, one row per peer or neighbor.
 */
import type { StatusDocument } from '../daemon/status.js';

/** Renders rows as left-aligned columns separated by two spaces. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const r of rows) {
    r.forEach((c, i) => {
      widths[i] = Math.max(widths[i] ?? 0, c.length);
    });
  }
  return rows
    .map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  '))
    .join('\n');
}

/** 12 → 00:00:12, 90061 → 1d01:01:01 (as gobgp shows session age). */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const d = Math.floor(s / 86400);
  const hms = [Math.floor(s / 3600) % 24, Math.floor(s / 60) % 60, s % 60].map((n) =>
    String(n).padStart(2, '0'),
  );
  return (d > 0 ? `${d}d` : '') + hms.join(':');
}

export function formatStatus(doc: StatusDocument): string {
  const out: string[] = [];
  out.push(`Node ${doc.node}  router-id ${doc.routerId}`);
  out.push(`Announced: ${doc.announced.length ? doc.announced.join(', ') : '(nothing)'}`);
  if (doc.bgp) {
    out.push('', `BGP  local AS ${doc.bgp.asn}`);
    const rows = [['Peer', 'AS', 'State', 'Up/Down', 'Sent', 'Rcvd', 'Last error']];
    for (const p of doc.bgp.peers) {
      const label = typeof p.description === 'string' ? `${p.address} (${p.description})` : p.address;
      rows.push([
        label,
        String(p.asn),
        p.state,
        p.state === 'Established' ? formatDuration(p.uptimeSeconds) : '-',
        String(p.prefixesSent),
        String(p.prefixesReceived),
        p.lastError ?? '-',
      ]);
    }
    out.push(table(rows));
  }
  if (doc.ospf) {
    out.push('', `OSPF  router-id ${doc.ospf.routerId}`);
    const rows = [['Interface', 'State', 'Neighbor ID', 'Address', 'Neighbor state']];
    for (const i of doc.ospf.interfaces) {
      if (i.neighbors.length === 0) rows.push([i.name, i.state, '-', '-', '-']);
      for (const n of i.neighbors) rows.push([i.name, i.state, n.routerId, n.address, n.state]);
    }
    out.push(table(rows));
  }
  return out.join('\n');
}
