/** The `podroute status` table of per-node peer selection (src/cli/format-peer-selection.ts). */
import t from 'tap';
import { formatPeerSelection } from '../../src/cli/format-peer-selection.js';
import { table } from '../../src/cli/format-status.js';

t.test('entries, resolved gateways and the none-applies line', async (t) => {
  t.same(formatPeerSelection(undefined, table), [], 'nothing without a selection');
  const lines = formatPeerSelection(
    [
      { entry: 0, address: '198.18.1.1', applied: true, reason: 'nodeSelector rack=r1 matches' },
      {
        entry: 1,
        address: 'gateway',
        applied: true,
        reason: 'matches',
        resolved: ['198.18.0.0', '2001:db8::'],
      },
    ],
    table,
  ).join('\n');
  t.match(lines, /Peer selection \(bgp\.peers\)/);
  t.match(lines, /0\s+198\.18\.1\.1\s+yes\s+nodeSelector rack=r1 matches/);
  t.match(lines, /1\s+gateway -> 198\.18\.0\.0, 2001:db8::\s+yes/);
  t.notMatch(lines, /No peer entry applies/);
  const none = formatPeerSelection(
    [
      {
        entry: 0,
        address: 'gateway',
        applied: false,
        reason: 'no default gateway on the node',
        resolved: [],
      },
    ],
    table,
  ).join('\n');
  t.match(none, /gateway -> \(none\)\s+no\s+no default gateway on the node/);
  t.match(none, /No peer entry applies to this node: no BGP sessions\./);
});
