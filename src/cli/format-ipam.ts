/** People's views of `podroute ipam show` and `podroute status --ospf-database`. */
import type { IpamShow, OspfDatabaseEntry } from '../api/endpoints.js';
import { table } from './format-status.js';

export function formatIpam(doc: IpamShow): string {
  const out: string[] = [];
  out.push(`Node ${doc.node}  group ${doc.group}  store ${doc.store}`);
  out.push(`Announcement: ${doc.announcement.length ? doc.announcement.join(', ') : '(nothing)'}`);
  out.push('', 'Networks');
  const nets = [['Name', 'CIDRs', 'Block', 'VLAN', 'Gateway', 'Blocks claimed']];
  for (const n of doc.networks) {
    nets.push([
      n.name,
      n.cidrs.join(' '),
      `/${n.blockSize}`,
      n.vlan === undefined ? '-' : String(n.vlan),
      n.gateway ?? '-',
      `${n.blocksClaimed}/${n.blocksTotal}`,
    ]);
  }
  out.push(table(nets));
  out.push('', 'Groups');
  const groups = [['Group', 'Selector', 'CIDRs', 'Nodes']];
  for (const g of doc.groups) {
    const sel =
      Object.entries(g.selector)
        .map(([k, v]) => `${k}=${v}`)
        .join(',') || '*';
    groups.push([
      g.path,
      sel,
      g.cidrs === 'shared' ? '(parent)' : g.cidrs.join(' '),
      g.nodes.join(' ') || '-',
    ]);
  }
  out.push(table(groups));
  out.push('', 'Blocks per node');
  const nodes = [['Node', 'Blocks', 'Announces']];
  for (const n of doc.nodes) nodes.push([n.node, n.blocks.join(' ') || '-', n.announcement.join(' ') || '-']);
  out.push(table(nodes));
  out.push(
    '',
    `This node: ${doc.local.used}/${doc.local.capacity} addresses in use (${doc.local.usePercent}%)`,
  );
  const local = [['Block', 'Network', 'Used', 'Quarantined', 'Free', 'Use']];
  for (const b of doc.local.blocks) {
    local.push([
      b.block,
      b.network,
      String(b.used),
      String(b.quarantined),
      String(b.free),
      `${b.usePercent}%`,
    ]);
  }
  out.push(table(local));
  return out.join('\n');
}

export function formatOspfDatabase(rows: OspfDatabaseEntry[]): string {
  const t = [['Area', 'Type', 'Link ID', 'ADV Router', 'Age', 'Seq#']];
  for (const r of rows) t.push([r.area ?? '(AS)', r.typeName, r.lsId, r.advRouter, String(r.age), r.seq]);
  return table(t);
}
