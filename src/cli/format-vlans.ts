/**
 * The VLAN section of `podroute status`: one row per VLAN network present on the node, with its
 * interface, gateway and whether the gateway answered the last ping, its table and its pods.
 * `table` is passed in (format-status.ts renders the columns) so the two files import one way.
 */
import type { VlanStatus } from '../api/status.js';

export function formatVlans(
  vlans: readonly VlanStatus[],
  table: (rows: readonly (readonly string[])[]) => string,
): string[] {
  const rows = [['VLAN', 'Network', 'Interface', 'Gateway', 'Answers', 'Table', 'Pods', 'Blocks']];
  for (const v of vlans) {
    rows.push([
      String(v.vlan),
      v.network,
      v.interface,
      v.gateway,
      v.gatewayAlive === null ? 'not yet' : v.gatewayAlive ? 'yes' : 'NO',
      String(v.table),
      String(v.pods),
      v.blocks.join(', '),
    ]);
  }
  return ['VLANs', table(rows)];
}
