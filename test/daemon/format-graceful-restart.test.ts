/** `podroute status` table: the graceful-restart section (RFC 4724), absent without the feature. */
import t from 'tap';
import type { BgpPeerStatus, StatusJson } from '../../src/api/status.js';
import { formatGracefulRestart, formatStatus } from '../../src/cli/format-status.js';

const peer = (address: string, over: Partial<BgpPeerStatus> = {}): BgpPeerStatus => ({
  address,
  asn: 65000,
  state: 'Established',
  uptimeSeconds: 10,
  prefixesSent: 1,
  prefixesReceived: 2,
  lastError: null,
  passive: false,
  localAddress: '198.18.0.1',
  holdTime: 9,
  prefixesAccepted: 2,
  families: ['ipv4-unicast'],
  counters: {} as BgpPeerStatus['counters'],
  ...over,
});
const gr = (over: Partial<NonNullable<BgpPeerStatus['gracefulRestart']>> = {}) => ({
  negotiated: true,
  localRestartTime: 120,
  peerRestartTime: 5,
  notification: true,
  helping: false,
  staleRoutes: 0,
  staleSecondsLeft: null,
  staleSwept: 0,
  ...over,
});

t.test('graceful restart section: our restart, then per peer', async (t) => {
  const bgp: NonNullable<StatusJson['bgp']> = {
    asn: 65001,
    listenPort: null,
    unknownConnections: 0,
    gracefulRestart: { restartTime: 120, restarting: true, waitingFor: ['198.18.0.2'], secondsLeft: 97 },
    peers: [
      peer('198.18.0.0', {
        state: 'Active',
        gracefulRestart: gr({ helping: true, staleRoutes: 2, staleSecondsLeft: 4 }),
      }),
      peer('198.18.0.2', {
        gracefulRestart: gr({ negotiated: false, peerRestartTime: null, notification: false }),
      }),
      peer('198.18.0.4'),
    ],
  };
  const lines = formatGracefulRestart(bgp);
  t.equal(lines[1], 'Graceful restart  restart time 120 s  (restarting: waiting for 198.18.0.2, 97 s left)');
  t.match(lines[2], /198\.18\.0\.0\s+yes\s+5 s\s+yes\s+2 stale, 4 s left/);
  t.match(lines[2], /198\.18\.0\.2\s+no\s+-\s+no\s+-/);
  t.notMatch(lines[2], /198\.18\.0\.4/, 'a peer opted out has no row');
  const doc: StatusJson = { node: 'n', routerId: '198.18.0.1', announced: [], bgp };
  t.match(formatStatus(doc), /Graceful restart/);
});

t.test('no section without graceful restart', async (t) => {
  const bgp = { asn: 65001, listenPort: null, unknownConnections: 0, peers: [peer('198.18.0.0')] };
  t.same(formatGracefulRestart(bgp), []);
  t.notMatch(formatStatus({ node: 'n', routerId: '198.18.0.1', announced: [], bgp }), /Graceful/);
});
