import t from 'tap';
import type { BgpPeerStatus, StatusJson } from '../../src/api/status.js';
import { createMetricsRegistry } from '../../src/daemon/metrics.js';

const doc: StatusJson = {
  node: 'node1',
  routerId: '198.18.0.2',
  announced: ['198.19.1.0/24', '2001:db8:1::/48'],
  bgp: {
    asn: 65001,
    peers: [
      {
        address: '198.18.0.1',
        asn: 65000,
        state: 'Established',
        uptimeSeconds: 5,
        prefixesSent: 2,
        prefixesReceived: 1,
        lastError: null,
        passive: false,
        localAddress: '198.18.0.2',
        holdTime: 90,
        prefixesAccepted: 1,
        families: ['ipv4-unicast'],
        // Only the counters the metrics read; the speaker's view has more.
        counters: {
          messagesIn: { open: 1, update: 3, notification: 0, keepalive: 7, routeRefresh: 0 },
          messagesOut: { open: 1, update: 1, notification: 0, keepalive: 7, routeRefresh: 0 },
          malformed: 2,
          flaps: 1,
        } as BgpPeerStatus['counters'],
      },
    ],
    listenPort: null,
    unknownConnections: 0,
  },
  ospf: {
    routerId: '198.18.0.2',
    interfaces: [
      {
        name: 'eth1',
        state: 'PointToPoint',
        area: '0.0.0.0',
        network: 'point-to-point',
        address: '198.18.0.2',
        dr: '0.0.0.0',
        bdr: '0.0.0.0',
        neighbors: [
          {
            routerId: '198.18.0.1',
            address: '198.18.0.1',
            state: 'Full',
            priority: 1,
            uptimeSeconds: 30,
            ddRole: 'slave',
          },
        ],
      },
    ],
    announced: ['198.19.1.0/24'],
    lsdbSize: 2,
    dropped: { 'bad-checksum': 4 },
  },
};

t.test('series are read from the status document at scrape time', async (t) => {
  let current = doc;
  const text = () => createMetricsRegistry(() => current).metrics();
  const m = await text();
  t.match(m, /podroute_announced_prefixes 2/);
  t.match(m, /podroute_bgp_peer_state\{peer="198\.18\.0\.1",state="Established"\} 1/);
  t.match(m, /podroute_bgp_peer_state\{peer="198\.18\.0\.1",state="Idle"\} 0/);
  t.match(m, /podroute_bgp_peer_up\{peer="198\.18\.0\.1"\} 1/);
  t.match(m, /podroute_bgp_messages_total\{peer="198\.18\.0\.1",direction="in",type="keepalive"\} 7/);
  t.match(m, /podroute_bgp_malformed_messages_total\{peer="198\.18\.0\.1"\} 2/);
  t.match(m, /# TYPE podroute_bgp_malformed_messages_total counter/);
  t.match(m, /podroute_ospf_neighbor_full\{interface="eth1",neighbor="198\.18\.0\.1"\} 1/);
  t.match(m, /podroute_ospf_dropped_packets_total\{reason="bad-checksum"\} 4/);
  t.match(m, /podroute_routes_programmed 0/, 'no routes section: nothing programmed');
  current = { node: 'node1', routerId: '198.18.0.2', announced: [] };
  const empty = await text();
  t.match(empty, /podroute_announced_prefixes 0/);
  t.notMatch(empty, /peer="/, 'a protocol not configured has no series');
});
